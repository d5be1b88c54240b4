"""Alignments, declared once: ``/api/v1/projects/{id}/alignments``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, cast

from pydantic import Field as Limits
from sqlalchemy import Table, and_, func, select, update

from pmo_api.alignment.models import Alignment
from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict
from pmo_api.core.schemas import Text
from pmo_api.objectives.declaration import OBJECTIVES
from pmo_api.projects.models import Project
from pmo_api.records.declaration import Docs, Field, Filter, RecordRules, RecordType

Contribution = Annotated[
    int,
    Limits(
        ge=0,
        le=3,
        description="0: none, 1: some, 2: much, 3: it is what the objective needs.",
    ),
]


ALIGNED = and_(Alignment.archived_at.is_(None), Alignment.contribution > 0)
"""An alignment that counts: live, contributing something."""


async def _recount(ctx: ServiceContext, project: Project) -> None:
    """The objectives the (locked) project contributes to, counted again onto its row."""
    projects = cast(Table, Project.__table__)
    counted = (
        select(func.count()).where(Alignment.project_id == project.id, ALIGNED).scalar_subquery()
    )
    await ctx.session.execute(
        update(projects).where(projects.c.id == project.id).values(aligned_objectives=counted)
    )


class AlignmentRules(RecordRules[Alignment]):
    """One live alignment of a project with an objective (409 ``already_aligned``):
    the project's row is locked, so two made at once are checked one after the other,
    and the count of objectives it contributes to (on its row) follows exactly."""

    lock_project = True

    async def created(self, ctx: ServiceContext, project: Project, record: Alignment) -> None:
        await _recount(ctx, project)

    async def updated(
        self,
        ctx: ServiceContext,
        project: Project,
        record: Alignment,
        changes: Mapping[str, Any],
    ) -> None:
        if "contribution" in changes:
            await _recount(ctx, project)

    async def archived(self, ctx: ServiceContext, project: Project, record: Alignment) -> None:
        await _recount(ctx, project)

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        found = await ctx.session.scalar(
            select(Alignment.id).where(
                Alignment.project_id == project.id,
                Alignment.objective_id == values["objective_id"],
                Alignment.archived_at.is_(None),
            )
        )
        if found is not None:
            raise Conflict(
                code="already_aligned",
                detail=f"{project.key} is aligned with that objective already (alignment "
                f"{found}): change that one.",
            )


ALIGNMENTS = RecordType(
    name="alignment",
    model=Alignment,
    fields=(
        Field(
            "objective_id",
            uuid.UUID,
            description="The objective the project contributes to.",
            refers_to=OBJECTIVES.reference,
            update=False,
        ),
        Field("contribution", Contribution),
        Field("note", Text | None, None, "Why, in words."),
    ),
    filters=(
        Filter.equal(Alignment.objective_id, uuid.UUID),
        Filter.at_least(
            "min_contribution", Alignment.contribution, Contribution, "At least this much."
        ),
    ),
    sorts=("contribution", "created_at", "updated_at"),
    default_sort="-contribution",
    rules=AlignmentRules(),
    docs=Docs(
        summary="A project's contribution to a strategic objective, 0 to 3.",
        listed="the largest contributions first",
        create="Align a project with an objective (pmo, admin; a manager: their projects).",
    ),
)
