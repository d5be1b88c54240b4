"""A project's schedule: milestones, deliverables and the baselines of its plan."""
