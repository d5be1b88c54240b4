"""The lessons a project's manager should read before repeating a mistake
(``GET /api/v1/projects/{id}/lessons/suggested``): lessons of other projects that
match the words of the project's open risks and issues (the lessons' full-text search,
``lessons/search.py``), ranked higher when their project shares its portfolio or methodology.
Without open risks or issues, the latest lessons of its portfolio's other projects."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select, union_all

from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams
from pmo_api.db.reads import Row, SessionReads
from pmo_api.lessons.declaration import LESSONS
from pmo_api.projects.declaration import PROJECTS
from pmo_api.projects.models import Project
from pmo_api.raid.models import RESOLVED_ISSUE_STATUSES, ProjectIssue, Risk, open_risk_clause
from pmo_api.resources import service as resources

WORDS = 12
"""The most frequent words of the open risks and issues that the search looks for."""
CANDIDATES = 3
"""How many of the best text matches per lesson asked (``limit``) the likeness of
their projects then reorders: each match costs a snippet."""
LIKE_PROJECT = 0.5
"""How much a shared portfolio, and a shared methodology, add to a match's relevance
(each: relevance x 1.5)."""

_WORD = re.compile(r"[^\W\d_]{4,}")
_COMMON = frozenset(
    (
        "about",
        "after",
        "again",
        "also",
        "because",
        "been",
        "before",
        "being",
        "between",
        "both",
        "could",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "from",
        "further",
        "have",
        "having",
        "here",
        "into",
        "itself",
        "more",
        "most",
        "once",
        "only",
        "other",
        "over",
        "same",
        "should",
        "some",
        "such",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "under",
        "until",
        "very",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "with",
        "would",
        "your",
        "project",
        "risk",
        "issue",
    )
)
"""Words too common to tell lessons apart (the engines drop English stop words too)."""


class SuggestedLesson(LESSONS.list_item):  # type: ignore[name-defined,misc]
    """A lesson of another project, and why it is suggested."""

    score: float = Field(description="How strongly it is suggested (higher first).")
    why: list[str] = Field(description="What it shares with the project.")


class SuggestedLessons(BaseModel):
    """The lessons most relevant to a project, best first."""

    project_id: uuid.UUID
    words: list[str] = Field(
        description="The words of its open risks and issues that the lessons were matched on."
    )
    items: list[SuggestedLesson]


def _words(texts: list[str | None]) -> list[str]:
    counted = Counter(
        word
        for text in texts
        if text
        for word in (w.lower() for w in _WORD.findall(text))
        if word not in _COMMON
    )
    return [word for word, _ in counted.most_common(WORDS)]


async def suggested(ctx: ServiceContext, ref: uuid.UUID | str, limit: int) -> dict[str, Any]:
    """A ``SuggestedLessons`` document (404 ``project_not_found``)."""
    project = await resources.read(ctx, PROJECTS, ref)
    reads = ctx.reads or SessionReads(ctx.session)
    texts = union_all(
        select(Risk.title, Risk.description).where(
            Risk.project_id == project["id"], open_risk_clause()
        ),
        select(ProjectIssue.title, ProjectIssue.description).where(
            ProjectIssue.project_id == project["id"],
            ProjectIssue.archived_at.is_(None),
            ProjectIssue.status.not_in(RESOLVED_ISSUE_STATUSES),
        ),
    )
    found = await reads.all(select(texts.subquery()))
    words = _words([t for row in found for t in (row["title"], row["description"])])
    # Nothing to match on: the latest lessons of its portfolio's other projects.
    wanted = {"q": " or ".join(words)} if words else {"portfolio_id": project["portfolio_id"]}
    params = ListParams(limit=min(200, CANDIDATES * limit), sort=None if words else "-created_at")
    page = await resources.read_list(ctx, LESSONS, LESSONS.filter.model_validate(wanted), params)
    hits = [row for row in page.items if row["project_id"] != project["id"]]
    alike = await _projects_alike(reads, project, {row["project_id"] for row in hits})
    items = []
    for row in hits:
        why = list(alike.get(row["project_id"], ()))
        if not words and not why:
            continue
        # Without words to match, every lesson weighs 1 before its likeness.
        score = (row["relevance"] or 1.0) * (1 + LIKE_PROJECT * len(why))
        if words:
            why.insert(0, "matches its open risks and issues")
        items.append({**row, "score": round(score, 6), "why": why})
    items.sort(key=lambda item: (-item["score"], str(item["id"])))
    return {"project_id": project["id"], "words": words, "items": items[:limit]}


async def _projects_alike(
    reads: Any, project: Row, project_ids: set[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """What each of ``project_ids`` shares with ``project``: its portfolio, its
    methodology (the same methodology record, or the same name)."""
    if not project_ids:
        return {}
    rows = await reads.all(
        select(Project.id, Project.portfolio_id, Project.methodology_id, Project.methodology).where(
            Project.id.in_(project_ids)
        )
    )
    out: dict[uuid.UUID, tuple[str, ...]] = {}
    for row in rows:
        shared = []
        if row["portfolio_id"] == project["portfolio_id"]:
            shared.append("same portfolio")
        if (
            project.get("methodology_id") is not None
            and row["methodology_id"] == project["methodology_id"]
        ) or (project.get("methodology") and row["methodology"] == project["methodology"]):
            shared.append("same methodology")
        out[row["id"]] = tuple(shared)
    return out
