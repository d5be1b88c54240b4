"""Per-request DataLoaders: every nested field is one batched call of a service batch
function (``get_people``, ``get_portfolios``, ``get_projects``), so the visibility
rules of the services apply to nested data, and a nested query costs one statement
per level and type, whatever the page size."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from strawberry.dataloader import DataLoader

from pmo_api.api.graphql.finance import FinanceLoaders
from pmo_api.api.graphql.people import Person
from pmo_api.api.graphql.portfolios import Portfolio
from pmo_api.api.graphql.projects import Project
from pmo_api.api.graphql.raid import RaidLoaders
from pmo_api.api.graphql.relay import Node, from_global_id
from pmo_api.api.graphql.reporting import StatusReport, StatusReportDiff
from pmo_api.api.graphql.schedule import ScheduleLoaders
from pmo_api.api.graphql.staffing import StaffingLoaders
from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.core.pagination import Page
from pmo_api.people import service as people
from pmo_api.portfolios import service as portfolios
from pmo_api.projects import service as projects
from pmo_api.reporting import models as reporting_models
from pmo_api.reporting import service as reporting

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext


class _Row(Protocol):
    id: uuid.UUID


RowT = TypeVar("RowT", bound=_Row)
RowT_ = TypeVar("RowT_")
OutT = TypeVar("OutT")
NodeT = TypeVar("NodeT", bound=Node)


class Loaders:
    def __init__(self, context: GraphQLContext) -> None:
        self._context = context
        self.person: DataLoader[uuid.UUID, Person | None] = self._loader(
            people.get_people, Person.from_model
        )
        self.portfolio: DataLoader[uuid.UUID, Portfolio | None] = self._loader(
            portfolios.get_portfolios, Portfolio.from_model
        )
        self.project: DataLoader[uuid.UUID, Project | None] = self._loader(
            projects.get_projects, Project.from_model
        )
        self.status_report: DataLoader[uuid.UUID, StatusReport | None] = self._loader(
            reporting.get_status_reports, StatusReport.from_model
        )
        self.latest_status_report: DataLoader[uuid.UUID, StatusReport | None] = self._keyed_loader(
            reporting.latest_status_reports, StatusReport.from_model
        )
        self.status_report_diff: DataLoader[uuid.UUID, StatusReportDiff | None] = (
            self._keyed_loader(reporting.status_report_diffs, StatusReportDiff.from_model)
        )
        self.status_report_first_page = self._first_status_report_pages()
        self.raid = RaidLoaders(context)
        self.schedule = ScheduleLoaders(context)
        self.finance = FinanceLoaders(context)
        self.staffing = StaffingLoaders(context)
        self._by_type: dict[str, DataLoader[uuid.UUID, Any]] = {
            "Person": self.person,
            "Portfolio": self.portfolio,
            "Project": self.project,
            "StatusReport": self.status_report,
            "Risk": self.raid.risk,
            "ProjectIssue": self.raid.issue,
            "ChangeRequest": self.raid.change,
            **self.schedule.by_type,
            **self.finance.by_type,
            **self.staffing.by_type,
        }
        self._by_entity_type: dict[str, DataLoader[uuid.UUID, Any]] = {
            "person": self.person,
            "portfolio": self.portfolio,
            "project": self.project,
            "status_report": self.status_report,
            "risk": self.raid.risk,
            "issue": self.raid.issue,
            "change": self.raid.change,
            **self.schedule.by_entity_type,
            **self.finance.by_entity_type,
            **self.staffing.by_entity_type,
        }

    def _loader(
        self,
        batch: Callable[[ServiceContext, Sequence[uuid.UUID]], Awaitable[Sequence[RowT]]],
        present: Callable[[RowT], NodeT],
    ) -> DataLoader[uuid.UUID, NodeT | None]:
        async def load(ids: list[uuid.UUID]) -> list[NodeT | None]:
            found = await self._context.fetch(
                lambda ctx: batch(ctx, ids), lambda rows: {row.id: present(row) for row in rows}
            )
            return [found.get(row_id) for row_id in ids]

        return DataLoader(load_fn=load)

    def _keyed_loader(
        self,
        batch: Callable[
            [ServiceContext, Sequence[uuid.UUID]], Awaitable[Mapping[uuid.UUID, RowT_]]
        ],
        present: Callable[[RowT_], OutT],
    ) -> DataLoader[uuid.UUID, OutT | None]:
        """A loader over a batch function that answers a mapping from the asked keys
        (e.g. a project's id to its latest status report)."""

        async def load(keys: list[uuid.UUID]) -> list[OutT | None]:
            found = await self._context.fetch(
                lambda ctx: batch(ctx, keys),
                lambda rows: {key: present(row) for key, row in rows.items()},
            )
            return [found.get(key) for key in keys]

        return DataLoader(load_fn=load)

    def _first_status_report_pages(
        self,
    ) -> DataLoader[tuple[uuid.UUID, int], Page[reporting_models.StatusReport]]:
        """The first page of each project's status reports; keys (project id, first)."""

        async def load(
            keys: list[tuple[uuid.UUID, int]],
        ) -> list[Page[reporting_models.StatusReport]]:
            pages: dict[tuple[uuid.UUID, int], Page[reporting_models.StatusReport]] = {}
            for first in {first for _, first in keys}:
                ids = [project_id for project_id, size in keys if size == first]
                found: dict[uuid.UUID, Page[reporting_models.StatusReport]]
                found = await self._context.fetch(
                    partial(reporting.first_status_report_pages, project_ids=ids, limit=first),
                    dict,
                )
                pages.update({(pid, first): page for pid, page in found.items()})
            return [pages.get(key, Page(items=[], next_cursor=None)) for key in keys]

        return DataLoader(load_fn=load)

    async def node(self, global_id: str) -> Node | None:
        """The node a global id names, or None when it names nothing the caller sees."""
        decoded = from_global_id(global_id)
        if decoded is None:
            raise InvalidInput(
                code="invalid_identifier",
                detail=f"{global_id!r} is not a global id of this service.",
                errors=[ErrorDetail(("id",), "not a global id", "value_error")],
            )
        type_name, row_id = decoded
        loader = self._by_type.get(type_name)
        return None if loader is None else await loader.load(row_id)

    async def entity(self, entity_type: str, row_id: uuid.UUID) -> Node | None:
        loader = self._by_entity_type.get(entity_type)
        return None if loader is None else await loader.load(row_id)

    def clear_all(self) -> None:
        for loader in self._by_type.values():
            loader.clear_all()
        self.latest_status_report.clear_all()
        self.status_report_diff.clear_all()
        self.status_report_first_page.clear_all()
        self.raid.clear_all()
        self.schedule.clear_all()
        self.finance.clear_all()
        self.staffing.clear_all()
