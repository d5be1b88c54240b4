"""Projects, declared once: the records every PMO capability reads and enforces
standards on."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from pmo_api.core.context import Principal
from pmo_api.core.schemas import Day, Key, Label, Money, Name, Text
from pmo_api.people.declaration import PERSON
from pmo_api.portfolios.declaration import PORTFOLIO
from pmo_api.portfolios.repository import PortfolioReads
from pmo_api.projects.models import ComplianceState, Health, Project, ProjectStatus
from pmo_api.projects.repository import ProjectReads
from pmo_api.projects.schemas import (
    Attributes,
    AttributeValue,
    Percent,
    RuleCodeRef,
    TemplateRef,
)
from pmo_api.projects.service import ProjectRules
from pmo_api.resources.declaration import Docs, ResourceType, Writers
from pmo_api.resources.fields import Field, Filter, Listed, Reference, instruction, owned
from pmo_api.resources.repository import ResourceRepository

METHODOLOGY = Reference(None, "methodology", "Methodology", shown_as="methodology_revision")
"""The methodology revision a project follows: a standard, declared above projects (the
foreign key finds it; ``ProjectRules`` holds it to a published revision)."""

TEMPLATE = Reference(None, "template", "ProjectTemplate")
"""The template revision a project was made from (a standard, declared above projects)."""

BASELINE = Reference(None, "baseline", "Baseline")
"""A project's current baseline: a record of its own, declared above projects (the
foreign key finds it; ``ProjectRules`` holds it to the project)."""


def _in_portfolio(filters: Any, _today: date) -> ColumnElement[bool]:
    """``portfolio_id``, with ``include_sub_portfolios`` the portfolios nested below too."""
    if filters.include_sub_portfolios:
        return Project.portfolio_id.in_(PortfolioReads().descendant_ids(filters.portfolio_id))
    same: ColumnElement[bool] = Project.portfolio_id == filters.portfolio_id
    return same


def _per_project(_principal: Principal) -> bool:
    """Who writes is decided per project, by ``ProjectRules`` (a viewer is refused
    there too, with the refusal of what it tried)."""
    return True


PROJECTS = ResourceType(
    name="project",
    model=Project,
    keyed=True,
    fields=(
        Field("key", Key),
        Field("name", Name),
        Field("description", Text | None, None),
        Field("portfolio_id", uuid.UUID, refers_to=PORTFOLIO),
        Field("manager_id", uuid.UUID | None, None, refers_to=PERSON),
        Field("sponsor_id", uuid.UUID | None, None, refers_to=PERSON),
        Field(
            "methodology",
            Label | None,
            None,
            "The methodology's name; with methodology_id, its key (set by the service).",
        ),
        Field(
            "methodology_id",
            uuid.UUID | None,
            None,
            "The published methodology revision the project follows: the project takes its "
            "phases from it and keeps it until moved to another revision on purpose.",
            refers_to=METHODOLOGY,
        ),
        Field(
            "phase",
            Label | None,
            None,
            "The current phase. With a methodology: one of its phases (the first by "
            "default), changed by POST /projects/{id}/transitions only.",
        ),
        Field("status", ProjectStatus, ProjectStatus.PROPOSED),
        Field("health", Health, Health.GREEN),
        Field("priority_score", Percent, 0),
        Field("planned_budget", Money, Decimal("0.00")),
        owned("actual_cost", Money),
        Field("planned_start", Day | None, None),
        Field("planned_end", Day | None, None),
        Field("actual_start", Day | None, None),
        Field("actual_end", Day | None, None),
        Field("percent_complete", Percent, 0),
        Field("attributes", Attributes, {}, read_as=dict[str, AttributeValue]),
        instruction(
            "template",
            TemplateRef | None,
            "Make the project from this template (its key: the revision in force; or a "
            "revision's id, which must be published): its methodology, its defaults where "
            "the body says nothing, its milestones, risks and deliverables, in one "
            "transaction. The planned start defaults to today.",
        ),
        owned(
            "template_id",
            uuid.UUID | None,
            "The template revision the project was made from.",
            refers_to=TEMPLATE,
        ),
        Field(
            "baseline_id",
            uuid.UUID | None,
            None,
            "Make one of the project's baselines the current one (what variance is "
            "measured against); null: none. Capturing a baseline makes it current.",
            create=False,
            refers_to=BASELINE,
            graphql=False,
        ),
    ),
    in_order=(("planned_start", "planned_end"), ("actual_start", "actual_end")),
    listed=(Listed("open_risk_count", int, "Risks open or being mitigated."),),
    filters=(
        Filter.search(
            (Project.key, Project.name, Project.description),
            "Text search in key, name and description.",
        ),
        Filter("portfolio_id", uuid.UUID, _in_portfolio, bound=True, joint=True),
        Filter.modifier(
            "include_sub_portfolios",
            bool,
            False,
            "With portfolio_id: also projects of nested portfolios.",
        ),
        Filter.equal(Project.manager_id, uuid.UUID),
        Filter.equal(Project.sponsor_id, uuid.UUID),
        Filter.one_of(Project.status, ProjectStatus),
        Filter.one_of(Project.health, Health),
        Filter.equal(Project.phase, Label),
        Filter.equal(Project.methodology, Label),
        Filter.equal(Project.methodology_id, uuid.UUID),
        Filter.elsewhere(
            "compliance",
            ComplianceState,
            "failing: projects failing at least one rule of the policies in force; "
            "compliant: failing none (judged in SQL, as the compliance reports judge).",
        ),
        Filter.elsewhere(
            "failing_rule",
            RuleCodeRef,
            "Projects failing the rule with this code, of a policy in force.",
        ),
    ),
    sorts=(
        "key",
        "name",
        "created_at",
        "updated_at",
        "priority_score",
        "percent_complete",
        "planned_budget",
        "status",
        "health",
    ),
    default_sort="key",
    writers=Writers(_per_project, ("project_forbidden", "Viewers read only.")),
    rules=ProjectRules(),
    unique="key",
    reads=ProjectReads,
    docs=Docs(
        summary="A project: what the PMO plans, tracks and holds to its standards.",
        listed="Projects, filtered",
        create="Create a project (pmo, admin; a manager: their own).",
        update="Change the fields sent (pmo, admin; a manager: their own).",
        archive="Archive a project (pmo, admin): readable by id, not listed.",
    ),
)

if TYPE_CHECKING:

    class ProjectRepository(ProjectReads, ResourceRepository[Project]):
        """The project reads: every resource's, and the project's own."""

else:
    ProjectRepository = PROJECTS.repository
