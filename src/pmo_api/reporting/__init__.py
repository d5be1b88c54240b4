"""Status reports: a project's periodic account of its health, frozen at submission."""
