"""Read-only figures computed in SQL: portfolio rollups (and, later, project metrics)."""
