"""Training: the courses the organisation offers (the skill each builds, to which
level, in how many hours, and the certification it may grant), who enrolled in them
and how they did, and the certifications people hold, with their expiry.

Completing a course raises the person's skill to the course's level and grants its
certification; the compliance check "manager holds certification X" reads the
certifications held."""
