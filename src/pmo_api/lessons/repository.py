"""The reads of lessons beside the ones every resource has (the declaration's
``reads``): a search ordered by relevance, on either database.

A word in most of the lessons must not cost a ranking of all of them: a search ranks
a window of its hits, the newest ``WINDOW`` that match in the title or tags and the
newest ``WINDOW`` that match anywhere, each database's engine scoring them
(PostgreSQL's ``ts_rank``, SQLite's FTS5 ``bm25``); the title or tags of a lesson weigh
most, so its best hits are in the first half. When a search matches more than the
window, the other hits follow the ranked ones, newest first, with relevance 0: every
hit is listed once. A library of a few hundred lessons a word is ranked whole.

Two statements at most per page: the ranked window (the cursor's place in it), then,
when the window ends on the page, the hits after it. On PostgreSQL ``q`` is read by
``websearch_to_tsquery`` first and put in the statement as its value: the planner
then sees how many lessons hold each word (the GIN index for a rare word, the lessons
newest first for a word in most of them). On SQLite a search joins the FTS5 table:
``bm25`` and ``snippet`` work only on the rows its ``MATCH`` finds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    tuple_,
    union,
)

from pmo_api.core.context import Principal, RowReads
from pmo_api.core.pagination import Keyset, Page, PageCursors, PageRequest
from pmo_api.db.reads import Row, SessionReads
from pmo_api.db.repository import keyset_rows, page_of
from pmo_api.lessons.models import Lesson
from pmo_api.lessons.search import (
    BM25,
    NOTHING,
    SNIPPET,
    fts5_query,
    headline,
)

WINDOW = 250
"""The newest hits of a search ranked in each part (title or tags; anywhere)."""

_SEARCH = table("lessons_search", column("rowid", Integer))
"""SQLite's FTS5 table of the lessons (migration 0016): its rowid is the lesson's."""

_ROWID = literal_column("lessons.rowid", Integer)
_SNIPPET = literal_column(SNIPPET, String)
_UNRANKED = literal(0.0, Float)
_FLOOR = 1e-9
"""A ranked hit's least relevance: above the unranked hits' 0, whatever the engine says."""


class LessonReads:
    """A search ordered by relevance ranks a window of its hits (the module's
    docstring); any other order is the list's own statement (PostgreSQL: with
    ``search.Matches``, ``Relevance``, ``Snippet``; SQLite: the FTS5 table joined)."""

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
        ranked = page_request.sort.field == "relevance" and page_request.sort.descending
        if q is not None and ranked:
            search = (
                _sqlite_search(q)
                if reader.dialect_name == "sqlite"
                else await _pg_search(reader, q)
            )
            if search is None:
                return page_of([], page_request.limit, _cursors(page_request))
            return await self._ranked(reader, search, filters, page_request, for_json)
        if q is None or reader.dialect_name != "sqlite":
            found: Page[Row] = await super().read_list(  # type: ignore[misc]
                reads, principal, filters, page_request, extra, for_json=for_json
            )
            return found
        search = _SqliteSearch(q)
        stmt = search.joined(self._rows(filters)).add_columns(
            search.relevance.label("relevance"), _SNIPPET.label("snippet")
        )
        return await keyset_rows(
            reader,
            stmt,
            columns={**self.sortable, "relevance": search.relevance},
            id_column=Lesson.id,
            request=page_request,
            for_json=for_json,
        )

    def _rows(self, filters: Any) -> Select[Any]:
        """The lessons the list's other filters keep (``q`` is the search's)."""
        return self.filtered(self.row_select(), filters.model_copy(update={"q": None}))  # type: ignore[no-any-return]

    async def _ranked(
        self,
        reader: RowReads,
        search: _PgSearch | _SqliteSearch,
        filters: Any,
        request: PageRequest,
        for_json: bool,
    ) -> Page[Row]:
        others = filters.model_copy(update={"q": None})
        window = search.window(lambda stmt: self.filtered(stmt, others))
        after = request.after
        items: list[Row] = []
        more = False
        if after is None or after.value > 0:  # the page starts in the ranked window
            relevance = search.ranked_relevance
            stmt = search.joined(self._rows(filters)).add_columns(
                relevance.label("relevance"), search.snippet.label("snippet")
            )
            stmt = stmt.where(search.key.in_(select(window.c.key)))
            page = await keyset_rows(
                reader,
                stmt,
                columns={"relevance": relevance},  # type: ignore[dict-item]
                id_column=Lesson.id,
                request=request,
                for_json=for_json,
            )
            items, more = list(page.items), page.next_cursor is not None
            after = None
        if not more:  # the window ends on this page: the other hits, newest first
            left = request.limit - len(items)
            stmt = search.joined(self._rows(filters)).add_columns(
                _UNRANKED.label("relevance"), search.snippet.label("snippet")
            )
            stmt = stmt.where(search.key.not_in(select(window.c.key)))
            rows = await reader.all(search.newest_after(stmt, after, left + 1), for_json=for_json)
            items += rows[:left]
            more = len(rows) > left
        cursors = _cursors(request)
        return Page(items, cursors.after(items[-1]) if more and items else None, cursors)


def _either(*parts: Select[Any]) -> Any:
    """The keys either part finds (each part its own subquery: SQLite takes no ORDER BY
    nor LIMIT on a member of a UNION)."""
    members = [select(part.subquery().c.key) for part in parts]
    return union(*members).subquery("ranked")


def _cursors(request: PageRequest) -> PageCursors:
    return PageCursors(request.sort.field, request.fingerprint)


class _PgSearch:
    """A search on PostgreSQL, ``q`` read by ``websearch_to_tsquery`` beforehand."""

    def __init__(self, tsquery: str) -> None:
        self.query: ColumnElement[Any] = literal_column(
            "'" + tsquery.replace("'", "''") + "'::tsquery"
        )
        self.key: Any = Lesson.id
        rank = cast(func.ts_rank(literal_column("lessons.search_document"), self.query), Float)
        self.ranked_relevance = func.greatest(rank, _FLOOR, type_=Float)
        self.snippet = headline(self.query)

    def matches(self, part: str) -> ColumnElement[bool]:
        return literal_column(f"lessons.{part}").op("@@")(self.query)

    def joined(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.where(self.matches("search_document"))

    def window(self, filtered: Any) -> Any:
        def newest(part: str) -> Select[Any]:
            stmt = filtered(select(Lesson.id.label("key"))).where(self.matches(part))
            newest_first = stmt.order_by(Lesson.created_at.desc(), Lesson.id.desc())
            # The size as a value, not a parameter: a prepared statement's generic plan
            # would not know it, nor choose the newest-first scan by it.
            return newest_first.limit(literal_column(str(WINDOW), Integer))  # type: ignore[no-any-return]

        return _either(newest("title_document"), newest("search_document"))

    def newest_after(self, stmt: Select[Any], after: Keyset | None, limit: int) -> Select[Any]:
        if after is not None:
            mark = select(Lesson.created_at, Lesson.id).where(Lesson.id == after.id)
            stmt = stmt.where(tuple_(Lesson.created_at, Lesson.id) < mark.scalar_subquery())
        return stmt.order_by(Lesson.created_at.desc(), Lesson.id.desc()).limit(limit)


async def _pg_search(reader: RowReads, q: str) -> _PgSearch | None:
    """``q`` as PostgreSQL reads it; None when it asks for no word (stop words alone)."""
    english: ColumnElement[Any] = literal_column("'english'::regconfig")
    parsed = func.websearch_to_tsquery(english, bindparam("q", q, String))
    row = await reader.first(select(cast(parsed, String).label("query")))
    tsquery = row["query"] if row is not None else ""
    return _PgSearch(tsquery) if tsquery else None


def _sqlite_search(q: str) -> _SqliteSearch | None:
    """``q`` in FTS5's syntax; None when it asks for no word."""
    search = _SqliteSearch(q)
    return None if search.fts == NOTHING else search


class _SqliteSearch:
    """A search on SQLite: the FTS5 table joined, ``q`` in FTS5's syntax."""

    def __init__(self, q: str) -> None:
        self.fts = fts5_query(q)
        self.key: Any = _ROWID
        self.relevance: Any = literal_column(f"-{BM25}", Float)
        self.ranked_relevance = func.max(self.relevance, _FLOOR, type_=Float)
        self.snippet = _SNIPPET

    def _match(self, query: str, name: str | None = None) -> ColumnElement[bool]:
        return literal_column("lessons_search").op("MATCH")(bindparam(name, query, type_=String))

    def joined(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.join(_SEARCH, _SEARCH.c.rowid == _ROWID).where(self._match(self.fts, "q"))

    def window(self, filtered: Any) -> Any:
        def newest(query: str) -> Select[Any]:
            stmt = filtered(select(_ROWID.label("key")).select_from(Lesson))
            stmt = stmt.join(_SEARCH, _SEARCH.c.rowid == _ROWID).where(self._match(query))
            return stmt.order_by(_SEARCH.c.rowid.desc()).limit(WINDOW)  # type: ignore[no-any-return]

        in_titles = "{title tags} : (" + self.fts + ")"
        return _either(newest(in_titles), newest(self.fts))

    def newest_after(self, stmt: Select[Any], after: Keyset | None, limit: int) -> Select[Any]:
        if after is not None:
            mark = select(_ROWID).where(Lesson.id == after.id).scalar_subquery()
            stmt = stmt.where(_SEARCH.c.rowid < mark)
        return stmt.order_by(_SEARCH.c.rowid.desc()).limit(limit)
