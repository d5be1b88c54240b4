"""Costs: a project's dated cost entries, whose sum is its actual cost."""
