"""Audits: a PMO's review of a project against the standards it follows (a compliance
review, a health check, a post-implementation review), with a checklist drawn from
its methodology's gates and the policy rules that apply to it, the auditor's answers,
a score, and the findings raised, each tracked until it is resolved or accepted."""
