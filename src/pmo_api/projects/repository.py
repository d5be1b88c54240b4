"""The reads of projects that are their own: under the row lock, and many
portfolios' first pages at once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.base import ExecutableOption

from pmo_api.core.context import Principal
from pmo_api.core.errors import not_found
from pmo_api.core.pagination import PageRequest
from pmo_api.db.reads import SessionReads
from pmo_api.portfolios.repository import PortfolioReads
from pmo_api.projects.models import Project


class ProjectReads:
    """The reads of projects beside the ones every resource has (the declaration's
    ``reads``: ``ProjectRepository`` has both): under the row lock, and the first page
    of many portfolios' lists at once."""

    entity: str
    session: AsyncSession
    sortable: Mapping[str, Any]

    if TYPE_CHECKING:  # the repository's own (``ResourceRepository``)

        def visible_to(self, principal: Principal) -> Select[Project]: ...

        def filtered(self, stmt: Select[Any], filters: Any) -> Select[Any]: ...

    async def require_locked(self, ref: uuid.UUID | str, principal: Principal) -> Project:
        """The project, read again under its row lock (``FOR UPDATE`` on PostgreSQL;
        SQLite's BEGIN IMMEDIATE already made this transaction the only writer)."""
        column = Project.id if isinstance(ref, uuid.UUID) else Project.key
        stmt = (
            self.visible_to(principal)
            .where(column == ref)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        found = await self.session.scalar(stmt)
        if found is None:
            raise not_found(self.entity, ref)
        return found

    def matching(self, principal: Principal, filters: Any) -> Select[Project]:
        """The visible projects that pass the filters, whatever their portfolio."""
        return self.filtered(
            self.visible_to(principal), filters.model_copy(update={"portfolio_id": None})
        )

    async def first_rows_per_portfolio(
        self,
        principal: Principal,
        portfolio_ids: Sequence[uuid.UUID],
        filters: Any,
        page: PageRequest,
        options: Sequence[ExecutableOption] = (),
    ) -> Mapping[uuid.UUID, Sequence[Project]]:
        """The first ``limit + 1`` projects of each portfolio's list (``filters``, the
        portfolio aside), in ONE statement whatever the number of portfolios: the
        matching projects are ranked per portfolio (``ROW_NUMBER() OVER (PARTITION BY
        portfolio ...)``). With ``include_sub_portfolios`` a project counts in each
        portfolio above it, through one recursive query of the portfolios' trees."""
        if not portfolio_ids:
            return {}
        sort_col = self.sortable[page.sort.field]
        desc = page.sort.descending
        order = (sort_col.desc(), Project.id.desc()) if desc else (sort_col.asc(), Project.id.asc())
        kind: Any = getattr(self, "kind", None)  # the declaration this is the reads of
        if kind is not None and kind.preparers:
            filters = await kind.prepared(SessionReads(self.session), filters)
        ranked = self.matching(principal, filters)
        owner: ColumnElement[uuid.UUID]
        if filters.include_sub_portfolios:
            tree = PortfolioReads().trees(portfolio_ids)
            ranked = ranked.join(tree, Project.portfolio_id == tree.c.id)
            owner = tree.c.root_id
        else:
            ranked = ranked.where(Project.portfolio_id.in_(set(portfolio_ids)))
            owner = Project.portfolio_id.expression
        position = func.row_number().over(partition_by=owner, order_by=order)
        first_rows = ranked.with_only_columns(
            Project.id.label("id"), owner.label("owner"), position.label("position")
        ).subquery()
        stmt = (
            select(Project, first_rows.c.owner)
            .join(first_rows, first_rows.c.id == Project.id)
            .where(first_rows.c.position <= page.limit + 1)
            .order_by(first_rows.c.owner, *order)
            .options(*options)
        )
        rows: dict[uuid.UUID, list[Project]] = {portfolio_id: [] for portfolio_id in portfolio_ids}
        for project, portfolio_id in await self.session.execute(stmt):
            rows[portfolio_id].append(project)
        return rows
