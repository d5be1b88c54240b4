"""One declaration per resource type: the top-level resources (people, portfolios...)
as ``ResourceType``, and what they share with a project's record types
(``records/declaration.py``'s ``RecordType``) as ``Declared``.

A ``ResourceType`` states, once, everything about a resource that is not its own
behaviour: its entity name, its table, its fields (types with their limits, who writes
each), its filters and sorts, who may change it, its events, its unique column, and
the names the doors show it by. From it come:

* its write bodies, its representation and its list filter (``resources/schemas.py``:
  ``PersonCreate``, ``PersonUpdate``, ``PersonRead``, ``PersonFilter``);
* its repository (``resources/repository.py``: ``PersonRepository``), how it is
  created (``db.writes.Creates``: in one statement where the unit of work allows) and
  every use case (``resources/service.py``: list, read, create, update, archive), each
  recording the declared event (``person.created``...) and its reference to it
  (``PEOPLE.reference``, for the fields of other types that name a person);
* in the doors, its REST routes (``api/rest/resources.py``) and its GraphQL type,
  inputs, payload, result unions, lookup, list, mutations and loader
  (``api/graphql/resources.py``).

What is the resource's own (a portfolio refusing a cycle, a project's key) is plain
code in its package, handed to the declaration as ``ResourceRules`` hooks.
``pmo_api/control.py`` registers every declaration.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Generic, TypeVar

from pmo_api.core.context import Principal, ServiceContext
from pmo_api.core.schemas import Input, Patch, Read
from pmo_api.db import writes
from pmo_api.events.types import RecordEvent
from pmo_api.resources.fields import (
    Condition,
    Derived,
    Field,
    Filter,
    Listed,
    Range,
    Ranked,
    Reference,
    Sort,
)
from pmo_api.resources.schemas import created_of, created_under, list_item_of, shapes_of

M = TypeVar("M")

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Events:
    """The verbs of a type's events: ``<entity>.<verb>``."""

    created: str = "created"
    updated: str = "updated"
    archived: str = "archived"


@dataclass(frozen=True)
class Docs:
    """What the doors say about a type (the contract's descriptions)."""

    summary: str
    """What the resource is (the GraphQL type's description)."""
    listed: str
    """A project record: its order in a project's list ("highest score first"). A
    resource: what its list is ("The directory"), before the sorts the door states."""
    create: str | None = None
    update: str | None = None
    archive: str | None = None
    """The mutations' descriptions (defaults say what they do and who may)."""
    create_body: str | None = None
    update_body: str | None = None
    """The write bodies' descriptions (defaults: "A new risk.", "Only the fields sent
    change; null clears where allowed.")."""
    list_route: str | None = None
    archive_route: str | None = None
    """The REST list's and DELETE's summaries, when not "List <them>", "Archive a <it>"
    (the audit trail, revoking an API key)."""


class Declared:
    """What every declaration has and derives the same way, whether a top-level
    resource or a project's record: names, fields, filters, sorts, events."""

    name: str
    model: type[Any]
    fields: tuple[Field, ...]
    sorts: tuple[str | Sort | Ranked, ...]
    default_sort: str
    docs: Docs
    filters: tuple[Filter | Range, ...]
    derived: tuple[Derived, ...]
    events: Events
    updatable: bool
    archivable: bool
    create_schema: Mapping[str, Any] | None
    noun: str | None
    path: str | None
    type_name: str | None
    create_verb: str
    payload: str | None
    parent: Any
    """What a record belongs to (``records.declaration.Parent``); None for a resource."""
    in_order: tuple[tuple[str, str], ...]
    """(start, end) fields of a body and a record: the end may not be before the start
    (422 ``dates_out_of_order``)."""
    # What the server keeps of every record, shown after its fields (a project record
    # keeps all of it; a resource may keep less: the trail's events are never changed).
    creatable: bool = True
    versioned: bool = True
    """A version, bumped by every change, checked by If-Match and ``expectedVersion``."""
    timestamps: bool = True
    """``created_at`` and ``updated_at``."""
    archive_column: str = "archived_at"
    """Set when the record is archived (an API key's ``revoked_at``: a declared field)."""
    hides_archived: bool = True
    """Lists leave archived records out unless ``include_archived=true``."""

    # derived when declared
    create: type[Input]
    """The create body (``PersonCreate``)."""
    update: type[Patch]
    """The PATCH body (``PersonUpdate``)."""
    read: type[Read]
    """The representation (``PersonRead``)."""
    filter: type[Input]
    """The list's filter (``PersonFilter``), with its sort fields."""
    sortable: Mapping[str, Any]
    """Each sort field's key in SQL (a column, or a ``Sort``'s stand-in for null)."""

    def _declare(self, registry: list[Any]) -> None:
        """Checks the declaration and derives its schemas (``__post_init__``)."""
        from pmo_api.resources.repository import sort_keys

        if not _SNAKE.match(self.name):
            raise ValueError(f"a declared type's name is snake_case, not {self.name!r}")
        if any(kind.name == self.name for kind in registry):
            raise ValueError(f"type {self.name!r} is declared twice")
        named = [
            s.name if isinstance(s, Sort) else s for s in self.sorts if not isinstance(s, Ranked)
        ]
        unknown = [s for s in (*named, self.default_sort.lstrip("-")) if not self._column(s)]
        if unknown:
            raise ValueError(f"{self.name}: no column to sort by {', '.join(unknown)}")
        object.__setattr__(self, "sortable", sort_keys(self))
        create, update, read, filter_ = shapes_of(self)
        object.__setattr__(self, "create", create)
        object.__setattr__(self, "update", update)
        object.__setattr__(self, "read", read)
        object.__setattr__(self, "filter", filter_)
        registry.append(self)

    def _column(self, name: str) -> bool:
        return name in self.model.__table__.columns

    # -- names --------------------------------------------------------------------------

    @property
    def pascal(self) -> str:
        """``status_report`` -> ``StatusReport``: the prefix of its schemas' names."""
        return "".join(part.title() for part in self.name.split("_"))

    @property
    def words(self) -> str:
        return self.noun or self.name.replace("_", " ")

    @property
    def a_word(self) -> str:
        """The noun with its article: "a risk", "an issue"."""
        return ("an " if self.words[0].lower() in "aeiou" else "a ") + self.words

    @property
    def plural(self) -> str:
        """The REST collection's segment (``status-reports``)."""
        return self.path or self.name.replace("_", "-") + "s"

    @property
    def collection(self) -> str:
        """The collection's last path segment (``status-reports``, ``policies`` of
        ``standards/policies``): its tag, and, in snake_case, its operations' names."""
        return self.plural.rsplit("/", 1)[-1]

    @property
    def graphql_type(self) -> str:
        return self.type_name or self.pascal

    # -- what it declares ---------------------------------------------------------------

    @property
    def sort_names(self) -> tuple[str, ...]:
        return tuple(s if isinstance(s, str) else s.name for s in self.sorts)

    @property
    def ranked(self) -> Ranked | None:
        """The sort by relevance to a search, if the type has one."""
        return next((s for s in self.sorts if isinstance(s, Ranked)), None)

    @property
    def filter_list(self) -> tuple[Filter, ...]:
        """The filters, ranges opened up, in order."""
        out: list[Filter] = []
        for item in self.filters:
            out.extend((item.lower, item.upper) if isinstance(item, Range) else (item,))
        return tuple(out)

    @property
    def ranges(self) -> tuple[tuple[str, str], ...]:
        return tuple((r.lower.name, r.upper.name) for r in self.filters if isinstance(r, Range))

    def event(self, verb: str) -> RecordEvent:
        return RecordEvent(self.name, verb)

    @property
    def created_event(self) -> RecordEvent:
        return self.event(self.events.created)

    @property
    def updated_event(self) -> RecordEvent:
        return self.event(self.events.updated)

    @property
    def archived_event(self) -> RecordEvent:
        return self.event(self.events.archived)

    def action_verbs(self) -> Sequence[str]:
        """The verbs of the state changes beyond update and archive."""
        return ()

    @property
    def envelope(self) -> tuple[str, ...]:
        """The columns the server keeps of every record, in the order reads show them
        after its fields."""
        kept = ["version"] if self.versioned else []
        kept += ["created_at", "updated_at"] if self.timestamps else []
        if self._column("archived_at"):
            kept.append("archived_at")
        return tuple(kept)

    @property
    def all_events(self) -> tuple[RecordEvent, ...]:
        """Every event a record of this type may record."""
        verbs = [self.events.created] if self.creatable else []
        if self.updatable:
            verbs.append(self.events.updated)
        verbs += self.action_verbs()
        if self.archivable:
            verbs.append(self.events.archived)
        return tuple(self.event(verb) for verb in verbs)

    @property
    def references(self) -> Sequence[Field]:
        return [f for f in self.fields if f.refers_to is not None]

    @functools.cached_property
    def instructions(self) -> frozenset[str]:
        """The create-only fields that are not kept (``Field.stored``)."""
        return frozenset(f.name for f in self.fields if not f.stored)

    def condition(self, spec: Filter) -> Condition:
        """A filter's condition."""
        if spec.where is None:
            raise RuntimeError(f"{self.name}: the filter {spec.name!r} is not bound")
        return spec.where


# -- top-level resources ---------------------------------------------------------------------


class ResourceRules(Generic[M]):
    """The behaviour that is a resource type's own, called by the shared use cases
    (``resources/service.py``) at fixed points. ``values`` are the fields being
    written (from the body, after the declared checks); a hook may refuse (raise a
    ``DomainError``); ``creating`` answers the fields the server owns on a new one.
    The default does nothing.

    A hook that reads the database makes a create run in the session (``db.writes``):
    ``creating`` is given the unit of work's context, and asking it for a session is
    what does that."""

    def checking(self, values: Mapping[str, Any]) -> None:
        """The body's own checks beyond its schema, on the values sent alone (nothing
        read): run before anything else, so that a bad body is a 422 ahead of any 404,
        403 or 412 the stored record would answer."""

    async def expanding(self, ctx: ServiceContext, data: Any) -> Any:
        """First of all, the create body the record is made from: ``data`` as sent, or
        completed (a template's defaults where the body says nothing)."""
        return data

    async def creating(self, ctx: ServiceContext, values: dict[str, Any]) -> Mapping[str, Any]:
        """Before a new resource is added (the caller allowed to): the values the server
        owns beside ``values``."""
        return {}

    async def created(self, ctx: ServiceContext, row: Mapping[str, Any], data: Any) -> None:
        """After it is added with its event, in the same unit of work (``data``: the body,
        with its fields not stored)."""

    async def updating(self, ctx: ServiceContext, obj: M, values: dict[str, Any]) -> None:
        """Before the sent fields are applied (the caller allowed, the version checked,
        the references sent checked)."""

    async def archiving(self, ctx: ServiceContext, obj: M) -> None:
        """Before the resource is archived."""

    def may_change(self, ctx: ServiceContext, obj: M) -> None:
        """The object rule of an update (after ``Writers``, before the version check):
        raise ``Forbidden`` to refuse. By default every writer may."""

    def may_archive(self, ctx: ServiceContext, obj: M) -> None:
        """The object rule of archiving; by default the update's."""
        self.may_change(ctx, obj)


Prepare = Callable[[Any, Any, "date"], Awaitable[Any]]
"""(the request's row reads, the value sent, today) -> what the filter's condition is
given (``ResourceType.bind_filter``)."""

ActionRun = Callable[[ServiceContext, Any, Any, RecordEvent], Awaitable[None]]
"""A resource action's work: (context, the record, the parsed input or None, the event
to record)."""


@dataclass(frozen=True)
class ResourceAction:
    """A state change of a resource beyond update and archive (publish, retire): REST
    ``POST /<resources>/{id}/<verb>``, GraphQL ``<verb><Type>(id, ...input fields,
    expectedVersion)``. Before ``run``, the shared steps: the record read, the writers
    (or ``allowed``, else 403), the version; ``run`` applies the change and records
    ``event`` (``<entity>.<event>``)."""

    verb: str
    event: str
    run: ActionRun
    summary: str
    input: type[Input] | None = None
    allowed: Writers | None = None
    """Who may do it; None: the type's writers."""
    description: str | None = None
    """The REST operation's description."""
    graphql_description: str | None = None


@dataclass(frozen=True)
class Writers:
    """Who may change a resource (every role reads: viewers are executives and
    scripts); anyone else is refused with 403 ``refusal`` (code, detail)."""

    may_write: Callable[[Principal], bool]
    refusal: tuple[str, str]


@dataclass(frozen=True)
class Under:
    """The record of another resource type that a resource's collection is also kept
    under: a person's certifications, ``/people/{id}/certifications``. ``field`` is the
    resource's field naming it (a reference to ``parent``, not changed once written).

    The REST door derives ``GET`` (the parent's records, with every filter and sort of
    the list) and ``POST`` (a new one for the parent: the body without ``field``) at
    ``/<parent path>/{id}/<collection>``, both 404 when the parent is not there; the
    record itself stays at ``/<resources>/{id}``, and the top-level collection is a
    list alone (every record is made under its parent). GraphQL takes ``field`` in the
    create's input like any reference."""

    parent: ResourceType[Any]
    field: str
    collection: str | None = None
    """The segment under the parent's record, when not the collection's own (a webhook's
    ``deliveries``, whose own collection is ``webhook-deliveries``)."""


DECLARED: list[ResourceType[Any]] = []
"""Every resource type declared in this process, in order (``control.py`` registers
them; a test proves none is left out)."""


@dataclass(frozen=True, eq=False)
class ResourceType(Declared, Generic[M]):
    """A top-level resource type, declared once (see the module's docstring)."""

    name: str
    """The entity: ``person`` names events (``person.created``), the trail's entity
    type, error codes (``person_not_found``), the repository and the loader."""
    model: type[M]
    fields: tuple[Field, ...]
    sorts: tuple[str | Sort | Ranked, ...]
    default_sort: str
    """``field`` or ``-field``: the order of a list when none is asked for."""
    docs: Docs
    writers: Writers
    filters: tuple[Filter | Range, ...] = ()
    derived: tuple[Derived, ...] = ()
    rules: ResourceRules[M] = field(default_factory=ResourceRules)
    events: Events = field(default_factory=Events)
    unique: str | None = None
    """The column a 409 ``duplicate_key`` names (``email``, ``key``)."""
    keyed: bool = False
    """Paths and references take its human ``key`` beside its id (``/portfolios/PF-1``)."""
    reads: type | None = None
    """A class of the type's own reads (a portfolio's tree), which its repository gets
    beside the ones every resource has."""
    readers: Writers | None = None
    """Who may read it; None: every role (viewers are executives and scripts)."""
    creatable: bool = True
    updatable: bool = True
    archivable: bool = True
    versioned: bool = True
    timestamps: bool = True
    archive_column: str = "archived_at"
    hides_archived: bool = True
    create_schema: Mapping[str, Any] | None = None
    in_order: tuple[tuple[str, str], ...] = ()
    """(start, end) fields: the end not before the start, in a create's body (its
    validation) and on the record an update leaves."""
    listed: tuple[Listed, ...] = ()
    """What lists show beside each record (``<Name>ListItem``)."""
    actions: tuple[ResourceAction, ...] = ()
    """Its state changes beyond update and archive (a standard's publish)."""
    shown_once: tuple[Listed, ...] = ()
    """What the create's answer shows beside the record and nothing keeps (an API key's
    secret): ``creating`` answers it among the values the server owns; the answer's
    shape is ``<Name>Created``, and a create that shows one takes no Idempotency-Key
    (its stored answer would keep it)."""
    under: Under | None = None
    """The other resource's record its collection is kept under, if any (``Under``)."""
    graphql: bool = True
    """Whether the GraphQL door shows it (an API key is the REST admin's business)."""
    # names in the doors
    noun: str | None = None
    path: str | None = None
    """The REST collection (``people``); default: the name in the plural."""
    type_name: str | None = None
    create_verb: str = "create"
    payload: str | None = None

    parent: ClassVar[None] = None  # type: ignore[misc]  # a resource has none; a record's is a field

    # derived from the above when declared
    creates: writes.Creates = field(init=False, repr=False)
    """How a new one is written (``db.writes``): its table, references, unique column."""
    reference: Reference = field(init=False, repr=False)
    """What a field of another type that names one of these refers to."""
    repository: type[Any] = field(init=False, repr=False)
    """Its reads (``PersonRepository``)."""
    conditions: dict[str, Condition] = field(init=False, repr=False)
    """The conditions of the filters another domain owns, once bound."""
    preparers: dict[str, Prepare] = field(init=False, repr=False)
    """Per filter so bound: what its value is made into before the list is read."""
    list_item: type[Read] = field(init=False, repr=False)
    """How lists show one (``ProjectListItem``): the representation and ``listed``."""
    list_columns: dict[str, Any] = field(init=False, repr=False)
    """The SQL of each ``listed`` value, once bound."""
    created: type[Read] = field(init=False, repr=False)
    """The create's answer: the representation and ``shown_once``."""
    create_under: type[Input] | None = field(init=False, repr=False)
    """With ``under``: the create body under the parent (``PersonCertificationCreate``,
    the create's without the field naming the parent)."""

    def __post_init__(self) -> None:
        from pmo_api.resources.repository import repository_for

        self._declare(DECLARED)
        table: Any = self.model.__table__  # type: ignore[attr-defined]
        creates = writes.Creates(
            table,
            references=tuple(
                writes.Reference(f.name, f.refers_to.entity)
                for f in self.fields
                if f.refers_to is not None
            ),
            entity=self.name,
            unique=self.unique,
        )
        object.__setattr__(self, "creates", creates)
        object.__setattr__(self, "reference", Reference(self.model, self.name, self.graphql_type))
        object.__setattr__(self, "conditions", {})
        object.__setattr__(self, "preparers", {})
        object.__setattr__(self, "list_columns", {})
        object.__setattr__(self, "list_item", list_item_of(self))
        object.__setattr__(self, "created", created_of(self))
        object.__setattr__(self, "repository", repository_for(self))
        object.__setattr__(self, "create_under", self._create_under())

    def _create_under(self) -> type[Input] | None:
        if self.under is None:
            return None
        named = next((f for f in self.fields if f.name == self.under.field), None)
        if (
            named is None
            or named.refers_to is None
            or named.refers_to.entity != self.under.parent.name
            or named.update
        ):
            raise ValueError(
                f"{self.name}: under {self.under.parent.name}, {self.under.field!r} is a "
                f"field naming a {self.under.parent.name}, not updatable"
            )
        return created_under(self, self.under.parent.pascal, self.under.field)

    def action_verbs(self) -> Sequence[str]:
        return [action.event for action in self.actions]

    def bind_filter(self, name: str, where: Condition, prepare: Prepare | None = None) -> None:
        """The condition of a filter declared ``Filter.elsewhere``, from the domain that
        owns it (``control.py``). With ``prepare``, the value sent is first made into
        what the condition is given, reading the database (the rules in force a
        compliance filter tests)."""
        if name not in {f.name for f in self.filter_list if f.where is None}:
            raise ValueError(f"{self.name} declares no filter {name!r} owned elsewhere")
        self.conditions[name] = where
        if prepare is not None:
            self.preparers[name] = prepare

    async def prepared(self, reads: Any, filters: Any) -> Any:
        """``filters`` with each value that has a ``prepare`` made into what its
        condition is given (after the cursor's fingerprint was taken of the sent ones)."""
        today = date.today()
        for name, prepare in self.preparers.items():
            value = getattr(filters, name, None)
            if value is not None:
                filters = filters.model_copy(update={name: await prepare(reads, value, today)})
        return filters

    def bind_listed(self, name: str, column: Any) -> None:
        """The SQL of a ``listed`` value, from the domain that owns it (``control.py``):
        a labelled scalar subquery correlated with the type's table."""
        if name not in {item.name for item in self.listed}:
            raise ValueError(f"{self.name} lists no value {name!r}")
        self.list_columns[name] = column

    def listed_columns(self) -> tuple[Any, ...]:
        """The bound SQL of every ``listed`` value, in order."""
        try:
            return tuple(self.list_columns[item.name] for item in self.listed)
        except KeyError as missing:
            raise RuntimeError(f"{self.name}: the listed value {missing} is not bound") from None

    def condition(self, spec: Filter) -> Condition:
        """A filter's condition, its own or the one bound to it."""
        where = spec.where or self.conditions.get(spec.name)
        if where is None:
            raise RuntimeError(f"{self.name}: the filter {spec.name!r} is not bound")
        return where
