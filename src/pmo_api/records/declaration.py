"""One declaration per project record type (a risk, a milestone, a cost...).

A ``RecordType`` states, once, everything about a record a project keeps that is not
its own behaviour: its entity name, its table, its fields (types with their limits,
who writes each), its filters and sorts, its parent, its access rule, its events, its
state changes (``Action``) and the names the doors show it by. From it come:

* its write bodies, its representation and its list filter (``records/schemas.py``:
  ``RiskCreate``, ``RiskUpdate``, ``RiskRead``, ``RiskFilter``);
* its repository (``records/repository.py``: ``RiskRepository``) and every use case
  (``records/service.py``: list, read, create, update, archive, actions), each
  recording the declared event (``risk.raised``...);
* in the doors, its REST routes (``api/rest/records.py``) and its GraphQL type,
  inputs, payloads, result unions, mutations, loaders and the connection nested
  under ``Project`` (``api/graphql/records.py``).

What is the record's own (a derived score, an acceptance stamped on a deliverable,
approving a change) is plain code in its package, handed to the declaration as
``RecordRules`` hooks and ``Action`` functions. ``pmo_api/control.py`` registers every
declaration in one tuple.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pmo_api.core.context import Principal, ServiceContext
from pmo_api.core.schemas import Input
from pmo_api.events.types import RecordEvent
from pmo_api.people.declaration import PERSON
from pmo_api.projects import access
from pmo_api.projects.models import Project
from pmo_api.records.models import ProjectRecord
from pmo_api.records.repository import RecordRepository, repository_for
from pmo_api.resources.declaration import Declared, Docs, Events
from pmo_api.resources.fields import (
    DESCRIPTION,
    NAME,
    REQUIRED,
    TITLE,
    Condition,
    Derived,
    Field,
    Filter,
    Range,
    Reference,
    Sort,
    allows_none,
    owned,
    shown_as,
)

__all__ = [
    "DESCRIPTION",
    "NAME",
    "PERSON",
    "PROJECT",
    "PROJECT_EDITORS",
    "REQUIRED",
    "TITLE",
    "Access",
    "Action",
    "Condition",
    "Derived",
    "Docs",
    "Events",
    "Field",
    "Filter",
    "Parent",
    "Range",
    "RecordModel",
    "RecordRules",
    "RecordType",
    "Reference",
    "Sort",
    "allows_none",
    "owned",
    "shown_as",
]


RecordModel = ProjectRecord
"""What the machinery reads of a record: the ``ProjectRecord`` columns."""

M = TypeVar("M", bound=ProjectRecord)


# -- behaviour -------------------------------------------------------------------------------


class RecordRules(Generic[M]):
    """The behaviour that is a record type's own, called by the shared use cases
    (``records/service.py``) at fixed points. ``values`` are the fields being written
    (from the body, after the declared checks); a hook may refuse (raise a
    ``DomainError``) or add the fields the server owns. The default does nothing."""

    lock_project: bool = False
    """Every write takes the project's row lock first (a project figure is kept equal
    to a sum over its records)."""

    async def creating(self, ctx: ServiceContext, project: Project, values: dict[str, Any]) -> None:
        """Before a new record is added (its project writable and locked if asked)."""

    async def created(self, ctx: ServiceContext, project: Project, record: M) -> None:
        """After it is added and its event recorded."""

    async def updating(self, ctx: ServiceContext, record: M, values: dict[str, Any]) -> None:
        """Before the sent fields are applied (the record checked writable)."""

    async def updated(
        self, ctx: ServiceContext, project: Project, record: M, changes: Mapping[str, Any]
    ) -> None:
        """After a real change is flushed and its event recorded."""

    async def archiving(self, ctx: ServiceContext, record: M) -> None:
        """Before the record is archived."""

    async def archived(self, ctx: ServiceContext, project: Project, record: M) -> None:
        """After it is archived and its event recorded."""


ActionRun = Callable[[ServiceContext, M, Project, Any, RecordEvent], Awaitable[None]]
"""An action's work: (context, the record, its project, the parsed input or None, the
event to record)."""


@dataclass(frozen=True)
class Action(Generic[M]):
    """A state change of one record beyond update and archive (approve, submit): REST
    ``POST /<records>/{id}/<verb>``, GraphQL ``<verb><Noun>(id, ...input fields,
    expectedVersion)``. Before ``run``, the shared steps: the record read, ``allowed``
    (else 403 ``refusal``), the project's object rules (row-locked with
    ``lock_project``), the version and a refusal of archived records; ``run`` applies
    the change and records ``event``."""

    verb: str
    event: str
    run: ActionRun[M]
    summary: str
    input: type[Input] | None = None
    allowed: Callable[[Principal], bool] | None = None
    refusal: tuple[str, str] = ("forbidden", "This key may not do this.")
    lock_project: bool = False
    description: str | None = None
    """The REST operation's description."""
    graphql_description: str | None = None


@dataclass(frozen=True)
class Parent:
    """What a record type belongs to. Every record type today belongs to a project: it
    is listed and added under ``/projects/{id}``, and written by the project's rules."""

    name: str
    model: type[Any]
    column: str


PROJECT = Parent("project", Project, "project_id")


@dataclass(frozen=True)
class Access:
    """Who may change a record: every role reads every project's records (viewers are
    executives and scripts); writing follows ``may_write`` on the parent project (pmo
    and admin everywhere, a manager on the projects they manage, a viewer never), and
    nothing changes on an archived project (409 ``project_archived``)."""

    may_write: Callable[[Principal, Project], bool]
    refusal: tuple[str, str]


PROJECT_EDITORS = Access(
    access.can_edit,
    (
        "project_forbidden",
        "Managers write only on the projects they manage; viewers read only.",
    ),
)


# -- the declaration -------------------------------------------------------------------------

DECLARED: list[RecordType[Any]] = []
"""Every record type declared in this process, in order (``control.py`` registers
them; a test proves none is left out)."""


@dataclass(frozen=True, eq=False)
class RecordType(Declared, Generic[M]):
    """A project record type, declared once (see the module's docstring)."""

    name: str
    """The entity: ``risk`` names events (``risk.raised``), the trail's entity type,
    error codes (``risk_not_found``), the repository and the loaders."""
    model: type[M]
    fields: tuple[Field, ...]
    sorts: tuple[str | Sort, ...]
    default_sort: str
    """``field`` or ``-field``: the order of a list when none is asked for."""
    docs: Docs
    filters: tuple[Filter | Range, ...] = ()
    derived: tuple[Derived, ...] = ()
    rules: RecordRules[M] = field(default_factory=RecordRules)
    actions: tuple[Action[M], ...] = ()
    events: Events = field(default_factory=Events)
    updatable: bool = True
    archivable: bool = True
    in_order: tuple[tuple[str, str], ...] = ()
    """(start, end) fields of a body: the end may not be before the start (422
    ``dates_out_of_order``, on create before anything is read)."""
    create_schema: Mapping[str, Any] | None = None
    """JSON Schema stated beside the create body's fields: a rule between its values
    that the rules enforce (a resolved issue carries a resolution)."""
    parent: Parent = PROJECT
    access: Access = PROJECT_EDITORS
    # names in the doors
    noun: str | None = None
    """In words (``change request``); default: the name with spaces."""
    path: str | None = None
    """The REST collection (``changes``); default: the name in the plural, with dashes."""
    type_name: str | None = None
    """The GraphQL type (``ChangeRequest``); default: the name in PascalCase."""
    create_verb: str = "create"
    """GraphQL's creating mutation: ``createRisk``, ``proposeChange``, ``recordCost``."""
    payload: str | None = None
    """The GraphQL payload type; default: ``<type_name>Payload``."""
    nested_filters: tuple[str, ...] = ()
    """The filters ``Project.<path>`` takes as arguments."""
    list_query: bool = False
    """GraphQL also has a top-level ``<path>(project:, filter:, sort:)``."""

    # derived from the above when declared
    repository: type[RecordRepository[Any]] = field(init=False, repr=False)
    """Its reads (``RiskRepository``)."""

    def __post_init__(self) -> None:
        self._declare(DECLARED)
        object.__setattr__(self, "repository", repository_for(self))

    def action_verbs(self) -> Sequence[str]:
        return [action.event for action in self.actions]
