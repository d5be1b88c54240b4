"""Lessons learned, declared once: a project's lessons, listed and searched across
projects (``/api/v1/lessons``). The compliance check ``lessons_recorded`` reads them
(closing a project can require lessons)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field as Limits
from sqlalchemy import select

from pmo_api.core.access import is_staff
from pmo_api.core.context import Role, ServiceContext
from pmo_api.core.errors import Forbidden
from pmo_api.core.schemas import Label, Name, Search, Text
from pmo_api.lessons.models import Lesson
from pmo_api.lessons.repository import LessonReads
from pmo_api.lessons.search import HasTag, Matches, Relevance, Snippet
from pmo_api.people.declaration import acted_by, acting
from pmo_api.projects import access
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Project
from pmo_api.resources.declaration import Docs, ResourceRules, ResourceType, Writers
from pmo_api.resources.fields import Field, Filter, Listed, Ranked

Tags = Annotated[list[Label], Limits(max_length=20)]


class LessonRules(ResourceRules[Lesson]):
    """pmo and admin record lessons on every project, a manager on the projects they
    manage; a manager changes the lessons they recorded."""

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        if not is_staff(ctx.principal):
            found = (
                await ctx.session.execute(
                    select(Project.manager_id).where(Project.id == values["project_id"])
                )
            ).one_or_none()
            # A project that is not there is the reference check's 422, just after.
            if found is not None and not access.manages(ctx.principal, found.manager_id):
                raise Forbidden(
                    code="lesson_forbidden",
                    detail="Managers record lessons on the projects they manage.",
                )
        return acting(ctx, "author")

    def may_change(self, ctx: ServiceContext, obj: Lesson) -> None:
        principal = ctx.principal
        own = principal.person_id is not None and obj.author_person_id == principal.person_id
        if not (is_staff(principal) or own):
            raise Forbidden(
                code="lesson_forbidden", detail="Managers change the lessons they recorded."
            )


LESSONS = ResourceType(
    name="lesson",
    model=Lesson,
    fields=(
        Field(
            "project_id",
            uuid.UUID,
            description="The project that learned it.",
            refers_to=PROJECTS.reference,
            update=False,
        ),
        Field("category", Label, description="e.g. planning, vendors, stakeholders."),
        Field("title", Name),
        Field("what_happened", Text),
        Field("recommendation", Text | None, None, "What to do next time."),
        Field("tags", Tags, []),
        *acted_by("author", "recorded"),
    ),
    filters=(
        Filter(
            "q",
            Search,
            lambda _value, _today: Matches(),
            "Full-text search of the title, tags, what happened and the recommendation, "
            'in web search syntax: words (all of them), "a phrase", `or` between two, '
            "-word to leave out; words match their other forms (vendor, vendors). The "
            "list is then ordered by relevance unless a sort is asked: the newest 250 hits "
            "in a title or tags and the newest 250 anywhere are ranked (title and tags "
            "weigh most); a search with more hits lists the others after them, newest "
            "first, with relevance 0.",
            bound=True,
        ),
        Filter.equal(Lesson.project_id, uuid.UUID),
        Filter.equal(Lesson.category, Label),
        Filter(
            "tag", Label, lambda value, _today: HasTag(value), "Lessons with this tag.", bound=True
        ),
        Filter(
            "portfolio_id",
            uuid.UUID,
            lambda value, _today: Lesson.project_id.in_(
                select(Project.id).where(Project.portfolio_id == value)
            ),
            "Lessons of the portfolio's projects.",
            bound=True,
        ),
    ),
    sorts=(
        "created_at",
        "updated_at",
        "title",
        "category",
        Ranked("relevance", Relevance(), by="q"),
    ),
    default_sort="-created_at",
    writers=Writers(
        lambda principal: principal.role != Role.VIEWER,
        ("role_forbidden", "Viewers read only."),
    ),
    listed=(
        Listed(
            "relevance", float | None, "How well it matches q (higher is closer); null without q."
        ),
        Listed(
            "snippet",
            str | None,
            "The passage that matches q best, the words found in <mark></mark>; null without q.",
        ),
    ),
    rules=LessonRules(),
    reads=LessonReads,
    docs=Docs(
        summary="A lesson a project learned: what happened and what to do next time.",
        listed="Lessons, newest first",
        create="Record a lesson (pmo, admin; a manager: on their projects).",
        update="Change the fields sent (pmo, admin; a manager: the lessons they recorded).",
        archive="Archive a lesson: readable by id, no longer listed.",
    ),
)

LESSONS.bind_listed("relevance", Relevance().label("relevance"))
LESSONS.bind_listed("snippet", Snippet().label("snippet"))
