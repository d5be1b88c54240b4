"""Assumptions: the "A" of a project's RAID log, what the plan takes as true until it
is validated or invalidated."""
