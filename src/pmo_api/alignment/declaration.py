"""Alignments, declared once: ``/api/v1/projects/{id}/alignments``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import Field as Limits
from sqlalchemy import select

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


class AlignmentRules(RecordRules[Alignment]):
    """One live alignment of a project with an objective (409 ``already_aligned``):
    the project's row is locked, so two made at once are checked one after the other."""

    lock_project = True

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
