"""Lessons learned: what a project learned, for the projects after it."""
