"""The audit trail as a resource: every recorded change, read-only (``events`` writes
it, in the transaction of each change)."""
