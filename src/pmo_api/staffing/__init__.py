"""Staffing: people assigned to projects, and each person's load per week."""
