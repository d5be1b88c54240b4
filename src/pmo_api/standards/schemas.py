"""What a compliance report shows: each rule's verdict on a project, and the roll-up
over a portfolio or the whole organisation."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import Field

from pmo_api.core.schemas import Read
from pmo_api.standards.checks import Outcome
from pmo_api.standards.rules import Severity


class RuleResult(Read):
    """One rule of a policy in force, judged on one project."""

    policy_id: uuid.UUID
    policy_key: str
    policy_revision: int
    rule: str = Field(description="The rule's code.")
    title: str
    severity: Severity
    check: str = Field(description="The check's type.")
    outcome: Outcome
    reason: str = Field(description="Why, in words.")
    figures: dict[str, Any] = Field(description="The figures the verdict used.")


class ProjectCompliance(Read):
    """A project against every rule in force."""

    project_id: uuid.UUID
    key: str
    name: str
    as_of: date = Field(description="The day the rules were judged on.")
    compliant: bool = Field(description="No rule that applies fails.")
    rate: float | None = Field(
        description="Rules passed / rules that apply (null when none applies)."
    )
    passed: int
    failed: int
    not_applicable: int
    rules: list[RuleResult]


class FailingProject(Read):
    id: uuid.UUID
    key: str
    name: str


class FailingRule(Read):
    """A rule and the projects failing it."""

    policy_id: uuid.UUID
    policy_key: str
    policy_revision: int
    rule: str
    title: str
    severity: Severity
    check: str
    failing: int = Field(description="How many projects fail it.")
    projects: list[FailingProject] = Field(
        description="The projects failing it, by key (the first 100)."
    )


class ScopeCompliance(Read):
    """Every project in scope against every rule in force."""

    as_of: date = Field(description="The day the rules were judged on.")
    project_count: int
    compliant_projects: int
    failing_projects: int
    rate: float | None = Field(
        description="Rule checks passed / rule checks that apply, over every project."
    )
    project_rate: float | None = Field(description="Compliant projects / projects.")
    passed: int
    failed: int
    not_applicable: int
    failing_rules: list[FailingRule] = Field(
        description="The rules failed, most severe first, then by how many projects fail."
    )


class PortfolioCompliance(ScopeCompliance):
    """A portfolio's projects (and its sub-portfolios') against every rule in force."""

    portfolio_id: uuid.UUID
    portfolio_key: str
    portfolio_name: str
    include_sub_portfolios: bool
