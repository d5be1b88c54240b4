"""The pieces of SQL that judge a rule inside a statement, the same on SQLite and
PostgreSQL: a JSON attribute by its JSON type, money as a number, days between two
dates, a person's valid certification. Each is a construct compiled per dialect, so a
rule's SQL (``predicates.py``) reads the same for both."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, Float, Integer, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import TypeEngine


class JsonAttribute(ColumnElement[Any]):
    """One key of a JSON object column, read as ``kind``: ``type`` (string, number,
    boolean or null; NULL when missing), ``string``, ``number`` or ``boolean`` (the
    value when it is of that JSON type, else NULL; a boolean as 'true' or 'false')."""

    inherit_cache = False

    def __init__(self, column: Any, name: str, kind: str) -> None:
        self.column = column
        self.name = name
        self.kind = kind
        self.type: TypeEngine[Any] = Float() if kind == "number" else String()


def _key(compiler: SQLCompiler, value: str, **kw: Any) -> str:
    return compiler.process(bindparam(None, value, type_=String()), **kw)


@compiles(JsonAttribute, "postgresql")
def _pg_attribute(element: JsonAttribute, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    key = _key(compiler, element.name, **kw)
    typed = f"jsonb_typeof({column} -> {key})"
    if element.kind == "type":
        return typed
    wanted = {"string": "string", "number": "number", "boolean": "boolean"}[element.kind]
    text = f"({column} ->> {key})"
    value = f"CAST({text} AS DOUBLE PRECISION)" if element.kind == "number" else text
    return f"(CASE WHEN {typed} = '{wanted}' THEN {value} END)"


@compiles(JsonAttribute, "sqlite")
def _sqlite_attribute(element: JsonAttribute, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    path = _key(compiler, '$."' + element.name.replace('"', '""') + '"', **kw)
    typed = f"json_type({column}, {path})"
    normal = (
        f"(CASE {typed} WHEN 'text' THEN 'string' WHEN 'integer' THEN 'number' "
        f"WHEN 'real' THEN 'number' WHEN 'true' THEN 'boolean' WHEN 'false' THEN 'boolean' "
        f"WHEN 'null' THEN 'null' END)"
    )
    if element.kind == "type":
        return normal
    if element.kind == "boolean":
        return f"(CASE {typed} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END)"
    wanted = "string" if element.kind == "string" else "number"
    return f"(CASE WHEN {normal} = '{wanted}' THEN json_extract({column}, {path}) END)"


class MoneyAmount(ColumnElement[float]):
    """A money column as a number (SQLite keeps cents)."""

    inherit_cache = False
    type = Float()

    def __init__(self, column: Any) -> None:
        self.column = column


@compiles(MoneyAmount, "postgresql")
def _pg_money(element: MoneyAmount, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.column, **kw)} AS DOUBLE PRECISION)"


@compiles(MoneyAmount, "sqlite")
def _sqlite_money(element: MoneyAmount, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.column, **kw)} / 100.0)"


class DaysBetween(ColumnElement[int]):
    """Whole days from ``earlier`` to ``later`` (negative when later is before)."""

    inherit_cache = False
    type = Integer()

    def __init__(self, earlier: Any, later: Any) -> None:
        self.earlier = earlier
        self.later = later


@compiles(DaysBetween, "postgresql")
def _pg_days(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = compiler.process(element.later, **kw), compiler.process(element.earlier, **kw)
    return f"({later} - {earlier})"


@compiles(DaysBetween, "sqlite")
def _sqlite_days(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = compiler.process(element.later, **kw), compiler.process(element.earlier, **kw)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


class HoldsCertification(ColumnElement[bool]):
    """Whether the person ``person_id`` names holds the certification ``name``, not
    archived and not expired by ``today`` (one without an expiry never does): a row of
    the ``certifications`` table."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, certifications: Any, person_id: Any, name: str, today: date) -> None:
        self.certifications = certifications
        self.person_id = person_id
        self.name = name
        self.today = today


@compiles(HoldsCertification)
def _certified(element: HoldsCertification, compiler: SQLCompiler, **kw: Any) -> str:
    held = compiler.preparer.format_table(element.certifications)
    person = compiler.process(element.person_id, **kw)
    name = _key(compiler, element.name, **kw)
    today = compiler.process(bindparam(None, element.today, type_=Date()), **kw)
    return (
        f"EXISTS (SELECT 1 FROM {held} AS held WHERE held.person_id = {person} "
        f"AND held.name = {name} AND held.archived_at IS NULL "
        f"AND (held.expires_on IS NULL OR held.expires_on >= {today}))"
    )
