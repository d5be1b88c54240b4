"""What is training's own: an enrollment's life (``enrolled -> in_progress ->
completed``, or ``withdrawn``), one enrollment under way per person and course, and
what completing a course does in the same unit of work: the certification it grants,
and the person's skill raised to the course's level (never lowered)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import Field as Limits
from sqlalchemy import select

from pmo_api.core.context import ServiceContext
from pmo_api.core.errors import Conflict
from pmo_api.core.schemas import Input
from pmo_api.db.records import apply_changes, refuse_archived
from pmo_api.events.service import create_recorded, save_changes
from pmo_api.events.types import RecordEvent
from pmo_api.people.declaration import PEOPLE
from pmo_api.people.models import Person
from pmo_api.resources.declaration import ResourceAction, ResourceRules, ResourceType
from pmo_api.training.models import LIVE, Course, Enrollment, EnrollmentStatus


class CompleteInput(Input):
    """How the person did."""

    score: int | None = Limits(default=None, ge=0, le=100, description="0 to 100, if scored.")


class EnrollmentRules(ResourceRules[Enrollment]):
    """One enrollment under way (enrolled or in progress) per person and course; a
    score is given to a completed enrollment only."""

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        # The person's row locked: two enrollments of one person made at once are
        # checked one after the other (a missing person is the reference check's 422).
        await ctx.session.execute(
            select(Person.id).where(Person.id == values["person_id"]).with_for_update()
        )
        under_way = await ctx.session.scalar(
            select(Enrollment.id).where(
                Enrollment.person_id == values["person_id"],
                Enrollment.course_id == values["course_id"],
                Enrollment.status.in_(LIVE),
                Enrollment.archived_at.is_(None),
            )
        )
        if under_way is not None:
            raise Conflict(
                code="already_enrolled",
                detail=f"The person is already enrolled in the course (enrollment {under_way}).",
            )
        return {"status": EnrollmentStatus.ENROLLED, "completed_at": None}

    async def updating(self, ctx: ServiceContext, obj: Enrollment, values: dict[str, Any]) -> None:
        refuse_archived("enrollment", obj)
        if values.get("score") is not None and obj.status != EnrollmentStatus.COMPLETED:
            raise Conflict(
                code="enrollment_not_completed",
                detail=f"The enrollment is {obj.status.value}: only a completed one is scored.",
            )


def _refuse_unless(obj: Enrollment, doing: str, *allowed: EnrollmentStatus) -> None:
    refuse_archived("enrollment", obj)
    if obj.status == EnrollmentStatus.COMPLETED and doing == "completed":
        raise Conflict(
            code="enrollment_already_completed",
            detail=f"The enrollment was completed on {obj.completed_at:%Y-%m-%d}.",
        )
    if obj.status not in allowed:
        raise Conflict(
            code="invalid_enrollment_transition",
            detail=f"The enrollment is {obj.status.value}: it cannot be {doing} "
            f"(only from {' or '.join(s.value for s in allowed)}).",
        )


async def _start(ctx: ServiceContext, obj: Enrollment, _: Any, event: RecordEvent) -> None:
    _refuse_unless(obj, "started", EnrollmentStatus.ENROLLED)
    changes = apply_changes(ctx, obj, {"status": EnrollmentStatus.IN_PROGRESS})
    await save_changes(ctx, obj, event, changes)


async def _withdraw(ctx: ServiceContext, obj: Enrollment, _: Any, event: RecordEvent) -> None:
    _refuse_unless(obj, "withdrawn", *LIVE)
    changes = apply_changes(ctx, obj, {"status": EnrollmentStatus.WITHDRAWN})
    await save_changes(ctx, obj, event, changes)


def raised_skills(skills: list[dict[str, Any]], skill: str, level: int) -> list[dict[str, Any]]:
    """``skills`` with ``skill`` at ``level`` at least: raised, never lowered; added
    when the person did not hold it."""
    out = [dict(held) for held in skills]
    for held in out:
        if held.get("skill") == skill:
            held["level"] = max(int(held.get("level") or 0), level)
            return out
    return [*out, {"skill": skill, "level": level}]


def enrollment_actions(certifications: ResourceType[Any]) -> tuple[ResourceAction, ...]:
    """``start``, ``complete`` and ``withdraw``; completing grants the course's
    certification (a new ``certifications`` record)."""

    async def complete(
        ctx: ServiceContext, obj: Enrollment, body: CompleteInput | None, event: RecordEvent
    ) -> None:
        _refuse_unless(obj, "completed", *LIVE)
        changes = apply_changes(
            ctx,
            obj,
            {
                "status": EnrollmentStatus.COMPLETED,
                "completed_at": ctx.now,
                "score": body.score if body is not None else None,
            },
        )
        await save_changes(ctx, obj, event, changes)
        course = (
            await ctx.session.execute(
                select(Course.skill, Course.level, Course.grants_certification).where(
                    Course.id == obj.course_id
                )
            )
        ).one()
        granted = course.grants_certification
        if granted is not None:
            today = ctx.now.date()
            valid_days = granted.get("valid_days")
            values = {
                "person_id": obj.person_id,
                "name": granted["name"],
                "issuer": granted.get("issuer"),
                "issued_on": today,
                "expires_on": today + timedelta(days=valid_days) if valid_days else None,
                "course_id": obj.course_id,
                "enrollment_id": obj.id,
            }
            await create_recorded(ctx, certifications.creates, values, certifications.created_event)
        person = (
            await ctx.session.scalars(
                select(Person).where(Person.id == obj.person_id).with_for_update()
            )
        ).one()
        skills = raised_skills(list(person.skills), course.skill, course.level)
        raised = apply_changes(ctx, person, {"skills": skills})
        await save_changes(ctx, person, PEOPLE.updated_event, raised)

    return (
        ResourceAction(
            verb="start",
            event="started",
            run=_start,
            summary="Start an enrollment",
            description="enrolled -> in_progress (pmo, admin); 409 "
            "invalid_enrollment_transition from any other status.",
            graphql_description="Start an enrollment: enrolled -> in_progress (pmo, admin).",
        ),
        ResourceAction(
            verb="complete",
            event="completed",
            run=complete,
            summary="Complete an enrollment",
            description="enrolled or in_progress -> completed, with the score if any (pmo, "
            "admin). In the same change: the course's certification granted to the person "
            "(issued today, expiring after its valid_days), and the person's skill raised "
            "to the course's level (never lowered; added when not held). 409 "
            "enrollment_already_completed the second time.",
            graphql_description="Complete an enrollment: grants the course's certification "
            "and raises the person's skill to the course's level (pmo, admin).",
            input=CompleteInput,
        ),
        ResourceAction(
            verb="withdraw",
            event="withdrawn",
            run=_withdraw,
            summary="Withdraw an enrollment",
            description="enrolled or in_progress -> withdrawn (pmo, admin).",
            graphql_description="Withdraw from a course: enrolled or in_progress -> "
            "withdrawn (pmo, admin).",
        ),
    )
