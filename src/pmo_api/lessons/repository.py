"""The reads of lessons beside the ones every resource has (the declaration's
``reads``): a search on SQLite, where FTS5 ranks only the rows it matches itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    String,
    bindparam,
    column,
    literal_column,
    table,
)

from pmo_api.core.context import Principal, RowReads
from pmo_api.core.pagination import Page, PageRequest
from pmo_api.db.reads import Row, SessionReads
from pmo_api.db.repository import keyset_rows
from pmo_api.lessons.models import Lesson
from pmo_api.lessons.search import BM25, SNIPPET, SearchText

_SEARCH = table("lessons_search", column("rowid", Integer))
"""SQLite's FTS5 table of the lessons (migration 0016): its rowid is the lesson's."""

_RELEVANCE = literal_column(f"-{BM25}", Float)
_SNIPPET = literal_column(SNIPPET, String)


class LessonReads:
    """A search on SQLite joins the FTS5 table: its ``bm25`` and ``snippet`` work on
    the rows its ``MATCH`` finds, and the match drives the statement. (Ranking each
    lesson apart, with its own ``MATCH``, costs a full match per row: minutes for a
    word in every one of 100,000 lessons.) PostgreSQL's search is the list's own
    statement (``search.Matches``, ``Relevance``, ``Snippet``)."""

    session: Any
    sortable: Any
    filtered: Any
    row_select: Any

    async def read_list(
        self,
        reads: RowReads | None,
        principal: Principal,
        filters: Any,
        page_request: PageRequest,
        extra: Sequence[ColumnElement[Any]] = (),
        *,
        for_json: bool = False,
    ) -> Page[Row]:
        q = getattr(filters, "q", None)
        reader = reads or SessionReads(self.session)
        if q is None or reader.dialect_name != "sqlite":
            found: Page[Row] = await super().read_list(  # type: ignore[misc]
                reads, principal, filters, page_request, extra, for_json=for_json
            )
            return found
        stmt = (
            self.filtered(self.row_select(), filters.model_copy(update={"q": None}))
            .add_columns(_RELEVANCE.label("relevance"), _SNIPPET.label("snippet"))
            .join(_SEARCH, _SEARCH.c.rowid == literal_column("lessons.rowid"))
            .where(
                literal_column("lessons_search").op("MATCH")(bindparam("q", q, type_=SearchText()))
            )
        )
        return await keyset_rows(
            reader,
            stmt,
            columns={**self.sortable, "relevance": _RELEVANCE},  # type: ignore[dict-item]
            id_column=Lesson.id,
            request=page_request,
            for_json=for_json,
        )
