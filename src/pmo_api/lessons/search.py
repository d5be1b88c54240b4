"""Full-text search of lessons (``/api/v1/lessons?q=``), by each database's own engine.

PostgreSQL: a ``tsvector`` column that the database keeps (``search_document``,
generated from the title and tags, weight A, what happened, B, and the recommendation,
C; English stemming) with a GIN index; ``q`` is read by ``websearch_to_tsquery`` (web
search syntax: ``"a phrase"``, ``or``, ``-word``), ranked by ``ts_rank`` (``ts_rank_cd``
took 40 % more on 100,000 lessons) and shown with ``ts_headline``.

SQLite: an FTS5 table over the same columns (``lessons_search``, external content: the
lessons' own rows; kept by triggers; Porter stemming, diacritics folded), ranked by
``bm25`` (the same weights) and shown with ``snippet``; ``q`` is turned into FTS5's
query syntax here (``fts5_query``), every word quoted, so no text is ever a syntax
error.

On PostgreSQL the three pieces (the match, the relevance, the snippet) read the list's
``q`` from one parameter of that name (the list's statement is built once and ``q``
bound per request, ``db.repository.Repository.list_template``). On SQLite a search is
the lessons' own statement (``repository.LessonReads``): FTS5 ranks and cuts snippets
only of the rows its MATCH finds, so its table is joined."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Boolean, Float, String, TypeDecorator, bindparam, literal_column
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import visitors
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement

MARK = ("<mark>", "</mark>")
"""How a snippet marks the words that matched."""

ELLIPSIS = " … "

NOTHING = '""'
"""The FTS5 query that matches nothing (an empty phrase): what a ``q`` with no word to
look for reads as."""

_TERM = re.compile(r'"([^"]*)"?|(\S+)')


def fts5_query(text: str) -> str:
    """``q`` in web search syntax as an FTS5 query: words and ``"phrases"`` must all be
    there, ``or`` between two of them lets either be, ``-word`` must not be there; every
    word is quoted (FTS5 reads nothing in it as an operator), and a word with no letter
    or digit in it is left out (FTS5 indexes none)."""
    groups: list[tuple[list[str], list[str]]] = [([], [])]
    for match in _TERM.finditer(text):
        phrase, word = match.group(1), match.group(2)
        if word is not None and word.lower() == "or":
            if groups[-1][0]:
                groups.append(([], []))
            continue
        negative = phrase is None and word.startswith("-") and len(word) > 1
        term = phrase if phrase is not None else word[1:] if negative else word
        if not any(character.isalnum() for character in term):
            continue
        quoted = '"' + term.replace('"', '""') + '"'
        groups[-1][1 if negative else 0].append(quoted)
    parts = []
    for wanted, unwanted in groups:
        if wanted:
            parts.append("(" + " AND ".join(wanted) + "".join(f" NOT {u}" for u in unwanted) + ")")
    return " OR ".join(parts) or NOTHING


class SearchText(TypeDecorator[str]):
    """``q`` as each database's engine reads it: as sent (PostgreSQL's
    ``websearch_to_tsquery``), or in FTS5's syntax (SQLite)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or dialect.name != "sqlite":
            return value
        return fts5_query(value)


def _q(compiler: SQLCompiler, **kw: Any) -> str:
    """The list's ``q`` (null when not sent: the relevance and the snippet are then)."""
    return compiler.process(bindparam("q", None, type_=SearchText()), **kw)


_PG_QUERY = "(SELECT websearch_to_tsquery('english', {q}))"
"""``q`` read once per statement (an init plan), not once per row and use: the function
is only stable, and the statement's plan is generic (``plan_cache_mode``)."""


class Matches(ColumnElement[bool]):
    """The lesson holds what ``q`` asks for."""

    inherit_cache = True
    type = Boolean()


@compiles(Matches, "postgresql")
def _pg_matches(_: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    return "lessons.search_document @@ " + _PG_QUERY.format(q=_q(compiler, **kw))


@compiles(Matches, "sqlite")
def _sqlite_matches(_: Matches, compiler: SQLCompiler, **kw: Any) -> str:
    return (
        "lessons.rowid IN (SELECT lessons_search.rowid FROM lessons_search "
        f"WHERE lessons_search MATCH {_q(compiler, **kw)})"
    )


class Relevance(ColumnElement[float]):
    """How well the lesson matches ``q``: higher is closer (null without ``q``)."""

    inherit_cache = True
    type = Float()


@compiles(Relevance, "postgresql")
def _pg_relevance(_: Relevance, compiler: SQLCompiler, **kw: Any) -> str:
    query = _PG_QUERY.format(q=_q(compiler, **kw))
    return f"CAST(ts_rank(lessons.search_document, {query}) AS DOUBLE PRECISION)"


SNIPPET = f"snippet(lessons_search, -1, '{MARK[0]}', '{MARK[1]}', '{ELLIPSIS}', 24)"
"""SQLite's snippet of a matched lesson (FTS5 picks the column that matches best)."""

# bm25 is lower for a closer match: negated. Weights: title 10, tags 10, what happened 4,
# recommendation 2 (as PostgreSQL's A, A, B, C).
BM25 = "bm25(lessons_search, 10.0, 10.0, 4.0, 2.0)"


@compiles(Relevance, "sqlite")
def _sqlite_relevance(_: Relevance, compiler: SQLCompiler, **kw: Any) -> str:
    # Only a list without q reads it here: a search on SQLite is the lessons' own
    # statement, the FTS5 table joined (``repository.LessonReads``), which reads
    # ``BM25`` and ``SNIPPET`` of the rows its MATCH finds.
    return "CAST(NULL AS REAL)"


class Snippet(ColumnElement[str]):
    """The passage of the lesson that matches ``q`` best, the words found marked
    (null without ``q``)."""

    inherit_cache = True
    type = String()


# One passage (no MaxFragments): fragments cost ts_headline 6 times as much, 35 ms for a
# page of 20 lessons of 200 words.
_HEADLINE_OPTIONS = f"StartSel={MARK[0]}, StopSel={MARK[1]}, MaxWords=30, MinWords=12, ShortWord=2"
_HEADLINE_TEXT = (
    "lessons.title || '. ' || lessons.what_happened || coalesce(' ' || lessons.recommendation, '')"
)


def _headline_sql(query: str) -> str:
    return f"ts_headline('english', {_HEADLINE_TEXT}, {query}, '{_HEADLINE_OPTIONS}')"


def headline(query: ColumnElement[Any]) -> ColumnElement[str]:
    """PostgreSQL's snippet of a lesson for a ``tsquery`` given as SQL (a value)."""
    return literal_column(_headline_sql(str(query)), String)


@compiles(Snippet, "postgresql")
def _pg_snippet(_: Snippet, compiler: SQLCompiler, **kw: Any) -> str:
    return _headline_sql(_PG_QUERY.format(q=_q(compiler, **kw)))


@compiles(Snippet, "sqlite")
def _sqlite_snippet(_: Snippet, compiler: SQLCompiler, **kw: Any) -> str:
    return "CAST(NULL AS TEXT)"  # as _sqlite_relevance


class HasTag(ColumnElement[bool]):
    """The lesson's tags hold ``tag`` (a value, or the list's parameter)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("tag", visitors.InternalTraversal.dp_clauseelement)]

    def __init__(self, tag: Any) -> None:
        self.tag = tag if isinstance(tag, ColumnElement) else bindparam(None, tag, String())


@compiles(HasTag, "postgresql")
def _pg_has_tag(element: HasTag, compiler: SQLCompiler, **kw: Any) -> str:
    tag = compiler.process(element.tag, **kw)
    return f"lessons.tags @> jsonb_build_array(CAST({tag} AS TEXT))"


@compiles(HasTag, "sqlite")
def _sqlite_has_tag(element: HasTag, compiler: SQLCompiler, **kw: Any) -> str:
    tag = compiler.process(element.tag, **kw)
    return f"EXISTS (SELECT 1 FROM json_each(lessons.tags) AS tag WHERE tag.value = {tag})"
