"""What the Project type shows its own way: its portfolio and manager (answered from
what its page preloaded), sponsor, figures other domains keep (status, milestones,
baseline, open risks) and a connection per project record type (its type, inputs,
lookup, list and mutations come from its declaration: ``resources.py``)."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from pmo_api.api.graphql.compliance import PROJECT_COMPLIANCE
from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import parse_model
from pmo_api.api.graphql.execution import plain
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.lessons import PROJECT_SUGGESTED_LESSONS
from pmo_api.api.graphql.metrics import PROJECT_METRICS
from pmo_api.api.graphql.records import with_project_connections
from pmo_api.api.graphql.relay import requested_node_fields
from pmo_api.projects.declaration import PROJECTS

if TYPE_CHECKING:
    from pmo_api.api.graphql.records import Baseline, Milestone, StatusReport
    from pmo_api.api.graphql.resources import Person, Portfolio

LazyPortfolio = Annotated["Portfolio", strawberry.lazy("pmo_api.api.graphql.resources")]
LazyPerson = Annotated["Person", strawberry.lazy("pmo_api.api.graphql.resources")]
LazyStatusReport = Annotated["StatusReport", strawberry.lazy("pmo_api.api.graphql.records")]
LazyMilestone = Annotated["Milestone", strawberry.lazy("pmo_api.api.graphql.records")]
LazyBaseline = Annotated["Baseline", strawberry.lazy("pmo_api.api.graphql.records")]

REFERENCES = {f.name: f.refers_to.node for f in PROJECTS.references if f.refers_to}
"""Reference fields of the project inputs and filter, and the node type each names."""

SORT_DESCRIPTION = (
    "key, name, createdAt, updatedAt, priorityScore, percentComplete, plannedBudget, "
    "status or health; `-` for descending; default key."
)


_MISSING: Any = object()


def _preloaded(root: Any, name: str) -> Any:
    """What the page that listed ``root`` loaded for all its nodes at once (``preload``),
    or ``_MISSING``. A project read otherwise (by id, by a mutation) carries none."""
    preloaded = getattr(root, "preloaded", None)
    return _MISSING if preloaded is None else preloaded.get(name, _MISSING)


# The plain resolvers below are synchronous: a preloaded object is returned as it is,
# else the loader's future (graphql-core awaits it; the loader still batches the page).


@plain
def _portfolio(root: Any, info: GqlInfo) -> LazyPortfolio | None:
    found = _preloaded(root, "portfolio")
    if found is not _MISSING:
        return found
    return info.context.loaders.portfolio.load(root.portfolio_id)


@plain
def _manager(root: Any, info: GqlInfo) -> LazyPerson | None:
    if root.manager_id is None:
        return None
    found = _preloaded(root, "manager")
    if found is not _MISSING:
        return found
    return info.context.loaders.person.load(root.manager_id)


async def _sponsor(root: Any, info: GqlInfo) -> LazyPerson | None:
    if root.sponsor_id is None:
        return None
    return await info.context.loaders.person.load(root.sponsor_id)


async def _latest_status_report(root: Any, info: GqlInfo) -> LazyStatusReport | None:
    return await info.context.loaders.reporting.latest_status_report.load(root.id)


async def _next_milestone(root: Any, info: GqlInfo) -> LazyMilestone | None:
    return await info.context.loaders.schedule.next_milestone.load(root.id)


async def _overdue_milestone_count(root: Any, info: GqlInfo) -> int:
    return await info.context.loaders.schedule.overdue_milestone_count.load(root.id)


async def _baseline(root: Any, info: GqlInfo) -> LazyBaseline | None:
    if root.baseline_id is None:
        return None
    found: Any = await info.context.loaders.records.node["baseline"].load(root.baseline_id)
    return found


@plain
def _open_risk_count(root: Any, info: GqlInfo) -> int:
    # Counted by the list statement that read the project, when one did.
    counted: int | None = getattr(root, "open_risk_count", None)
    if counted is not None:
        return counted
    return info.context.loaders.raid.open_risk_count.load(root.id)  # type: ignore[return-value]


@with_project_connections  # risks, milestones, statusReports...: from their declarations
class ProjectFields:
    """What the Project type shows its own way (``resources.FIELDS``)."""

    portfolio = strawberry.field(
        resolver=_portfolio, description="The portfolio the project belongs to."
    )
    manager = strawberry.field(
        resolver=_manager, description="The project manager, if one is named."
    )
    sponsor = strawberry.field(resolver=_sponsor, description="The sponsor, if one is named.")
    latest_status_report = strawberry.field(
        resolver=_latest_status_report,
        description="The latest submitted status report (by period end): the one that set "
        "the project's health; null before the first is submitted.",
    )
    next_milestone = strawberry.field(
        resolver=_next_milestone,
        description="The earliest-due milestone not done, cancelled or archived.",
    )
    overdue_milestone_count = strawberry.field(
        resolver=_overdue_milestone_count,
        description="How many of the project's milestones are overdue today.",
    )
    baseline = strawberry.field(
        resolver=_baseline,
        description="The current baseline: the newest captured; null before one.",
    )
    open_risk_count = strawberry.field(
        resolver=_open_risk_count,
        description="OPEN risks: status open or mitigating, not archived.",
    )
    compliance = PROJECT_COMPLIANCE
    metrics = PROJECT_METRICS
    suggested_lessons = PROJECT_SUGGESTED_LESSONS


def project_filter(filter: Any, **fixed: Any) -> Any:
    """The project list's filter from a GraphQL ``ProjectFilter`` (and fixed values)."""
    values = {**provided(filter, REFERENCES), **fixed}
    return parse_model(PROJECTS.filter, values, "filter")


async def preload(info: GqlInfo, nodes: list[Any]) -> None:
    """The portfolio and manager of every node of a page, if the query asks for them:
    one read each (the statement of the fields' loaders), set on the nodes (the rows
    the page read)."""
    wanted = requested_node_fields(info)
    context = info.context
    found: dict[str, dict[UUID, Any]] = {}
    if "portfolio" in wanted:
        ids = list({node.portfolio_id for node in nodes})
        found["portfolio"] = await context.read_nodes("Portfolio", ids) if ids else {}
    if "manager" in wanted:
        ids = list({node.manager_id for node in nodes if node.manager_id is not None})
        found["manager"] = await context.read_nodes("Person", ids) if ids else {}
    if not found:
        return
    for node in nodes:
        node.preloaded = {}
        if "portfolio" in found:
            node.preloaded["portfolio"] = found["portfolio"].get(node.portfolio_id)
        if "manager" in found and node.manager_id is not None:
            node.preloaded["manager"] = found["manager"].get(node.manager_id)
