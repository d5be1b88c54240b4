"""A declared resource's fields, filters and sorts: the parts of a ``ResourceType``
(or a project's ``RecordType``) that say what a client writes, reads, filters and sorts
by (``declaration.py`` puts them together)."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from pmo_api.core.errors import DomainError
from pmo_api.core.schemas import Name, Search, Text
from pmo_api.db.records import text_search


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""The default of a field that every new record must be sent."""


# -- fields ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A field holding the id of another record: a sent id must name one that exists and
    is not archived (else 422 ``<entity>_not_found``), and GraphQL shows the record
    itself (``owner_id`` -> ``owner``)."""

    model: type[Any] | None
    """The table's model; None when only the door and the database know it (a project's
    current baseline: a record type declared above projects, checked by the foreign
    key and the project's own rule)."""
    entity: str
    node: str
    """The GraphQL type of the record referred to."""
    accept: Callable[[Any], DomainError | None] | None = None
    """A further rule on the record found; the refusal it returns, or None."""
    shown_as: str | None = None
    """The GraphQL field showing the record, when the field's name without ``_id`` is
    another field's (a project's ``methodology`` is its name, the revision it follows
    ``methodology_revision``)."""


@dataclass(frozen=True)
class Field:
    """A column of the record as the API shows it.

    ``type`` is the type a client writes, with its limits (``Name``, ``Text | None``,
    ``Factor``); reads show it without its input limits (``shown_as``) unless
    ``read_as`` says otherwise. A field with ``default=REQUIRED`` must be sent on
    create; ``create``/``update`` say whether a client writes it at all (``owned``: the
    server does, on neither).
    """

    name: str
    type: Any
    default: Any = REQUIRED
    description: str | None = None
    create: bool = True
    update: bool = True
    read_as: Any = None
    refers_to: Reference | None = None
    graphql: bool = True
    """False: the GraphQL door shows this field its own way (``api/graphql/records.FIELDS``)."""
    stored: bool = True
    """False: written on create and never kept nor shown (a template a project is made
    from); the type's rules use it (``ResourceRules.expanding``, ``created``)."""

    @property
    def written(self) -> bool:
        return self.create or self.update

    @property
    def read_type(self) -> Any:
        return self.read_as if self.read_as is not None else shown_as(self.type)


def instruction(name: str, type: Any, description: str) -> Field:
    """A create-only field that tells the service how to make the record, not a value it
    keeps (``stored=False``)."""
    return Field(name, type, None, description, update=False, stored=False)


def owned(
    name: str,
    type: Any,
    description: str | None = None,
    *,
    refers_to: Reference | None = None,
    read_as: Any = None,
    graphql: bool = True,
) -> Field:
    """A field only the server writes (a derived score, who accepted, when submitted)."""
    return Field(
        name,
        type,
        description=description,
        create=False,
        update=False,
        refers_to=refers_to,
        read_as=read_as,
        graphql=graphql,
    )


TITLE = Field("title", Name)
"""A record's title (risks, issues, change requests, assumptions)."""
NAME = Field("name", Name)
"""A record's name (milestones, deliverables, baselines)."""
DESCRIPTION = Field("description", Text | None, None)
"""Its free text, optional."""


@dataclass(frozen=True)
class Derived:
    """A value computed in SQL when the record is read, never stored (a milestone's
    ``overdue``); the model declares it as ``query_expression()``. ``clause`` gets the
    day it is computed for: the representation changes with the date alone, so a GET
    of the record never answers 304."""

    name: str
    type: Any
    clause: Callable[[date], ColumnElement[Any]]
    description: str | None = None


def shown_as(annotation: Any) -> Any:
    """The type a read shows a written value as: a string or a number without the
    limits put on what is written (``Name`` -> ``str``); dates, money, enums, ids as
    they are."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        shown = tuple(shown_as(arg) for arg in typing.get_args(annotation))
        return typing.Union[shown]  # noqa: UP007  (built from a tuple of types)
    if origin is typing.Annotated:
        base = typing.get_args(annotation)[0]
        if base in (str, int, bool):
            return base
    return annotation


def allows_none(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


# -- filters and sorts -----------------------------------------------------------------------

Condition = Callable[[Any, date], ColumnElement[bool] | None]
"""A filter's SQL condition for the value asked (a joint filter: the whole filter) and
the day the list is read; None adds none."""


@dataclass(frozen=True)
class Filter:
    """A list filter: a query parameter (``annotation | None``, default None) and the
    condition it adds when given."""

    name: str
    annotation: Any
    where: Condition | None
    """None: the condition is another domain's, above this one, bound by
    ``control.py`` (``ResourceType.bind_filter``): a person's over-allocation is
    staffing's query."""
    description: str | None = None
    limits: Mapping[str, Any] = field(default_factory=dict)
    """Keyword limits of the parameter (``max_length`` of a list)."""
    bound: bool = False
    """A plain comparison with the value, so a list's statement is built once for
    every value (``db.repository.Repository.list_template``)."""
    joint: bool = False
    """``where`` is given the whole filter, not the value alone (a portfolio's projects,
    with or without its sub-portfolios'); it answers None for no condition."""
    default: Any = None
    """The value when none is sent; with one, the parameter takes no null."""

    @classmethod
    def search(cls, columns: tuple[InstrumentedAttribute[Any], ...], description: str) -> Filter:
        """``q=``: the text found in any of ``columns`` (case-insensitive)."""
        return cls("q", Search, lambda value, _today: text_search(value, columns), description)

    @classmethod
    def modifier(
        cls, name: str, annotation: Any, default: Any, description: str | None = None
    ) -> Filter:
        """A parameter with no condition of its own: another filter's joint condition
        reads it (``include_sub_portfolios``)."""
        return cls(name, annotation, lambda _value, _today: None, description, default=default)

    @classmethod
    def elsewhere(cls, name: str, annotation: Any, description: str | None = None) -> Filter:
        """A filter whose condition another domain owns (see ``where``)."""
        return cls(name, annotation, None, description)

    @classmethod
    def one_of(cls, column: InstrumentedAttribute[Any], enum: type[Enum]) -> Filter:
        """``status=open&status=mitigating``: any of the values sent."""
        return cls(
            column.key,
            list[enum],  # type: ignore[valid-type]
            lambda value, _today: column.in_(value),
            limits={"max_length": len(enum)},
            bound=True,
        )

    @classmethod
    def equal(
        cls,
        column: InstrumentedAttribute[Any],
        annotation: Any,
        description: str | None = None,
    ) -> Filter:
        return cls(
            column.key, annotation, lambda value, _today: column == value, description, bound=True
        )

    @classmethod
    def at_least(
        cls,
        name: str,
        column: InstrumentedAttribute[Any],
        annotation: Any,
        description: str | None = None,
    ) -> Filter:
        return cls(name, annotation, lambda value, _today: column >= value, description, bound=True)

    @classmethod
    def at_most(
        cls,
        name: str,
        column: InstrumentedAttribute[Any],
        annotation: Any,
        description: str | None = None,
    ) -> Filter:
        return cls(name, annotation, lambda value, _today: column <= value, description, bound=True)


@dataclass(frozen=True)
class Listed:
    """A value lists show beside each record, computed in the list's own statement (a
    project's open risk count): in the list item's shape (``ProjectListItem``), not in
    the representation a GET answers (its ETag covers the record's version alone). Its
    SQL is another domain's, bound by ``control.py`` (``ResourceType.bind_listed``)."""

    name: str
    type: Any
    description: str | None = None


@dataclass(frozen=True)
class Sort:
    """A sort field whose column may be null (a date not yet set): a null sorts as
    ``missing`` (after every date, ascending) instead of leaving the record out of the
    list, as a plain nullable sort field does."""

    name: str
    missing: Any


@dataclass(frozen=True)
class Ranked:
    """A sort by how well a record matches a search filter (``relevance``: higher is
    closer): its key is SQL that reads the filter's value (a parameter of the filter's
    name). A list that sends the filter and asks no sort is in this order, best first;
    asking it without the filter is refused (422 ``sort_needs_search``)."""

    name: str
    key: Any
    by: str
    """The filter whose value it ranks by (``q``)."""


@dataclass(frozen=True)
class Range:
    """Two filters bounding one range (``due_from``, ``due_to``): the upper bound may
    not be below the lower (422 ``dates_out_of_order``)."""

    lower: Filter
    upper: Filter
