"""The RAID log of a project: risks, issues and change requests."""
