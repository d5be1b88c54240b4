"""Relay plumbing: the Node interface, opaque global ids, forward-only connections, the
translation of list arguments (``first``/``after``/``sort``) into ``ListParams``, and the
per-request DataLoaders that batch nodes and nested connections over service batch
functions (one statement per batch, the services' visibility rules applied)."""

# strawberry.field(description=...) is typed as returning Any.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any, Generic, Protocol, TypeVar, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types.nodes import FragmentSpread, InlineFragment

from pmo_api.api.graphql.execution import plain
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, ListParams, Page
from pmo_api.core.schemas import is_key

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.core.context import ServiceContext

M = TypeVar("M")
NodeT = TypeVar("NodeT")
KeyT = TypeVar("KeyT", bound=Hashable)
ArgsT = TypeVar("ArgsT", bound=Hashable)
RowT = TypeVar("RowT")
OutT = TypeVar("OutT")
MissingT = TypeVar("MissingT")

MAX_CURSOR_LENGTH = 1024
MAX_SORT_LENGTH = 64


def to_global_id(type_name: str, row_id: uuid.UUID) -> strawberry.ID:
    """``base64("Project:<uuid>")``: opaque to clients, stable for the row's life."""
    return strawberry.ID(base64.b64encode(f"{type_name}:{row_id}".encode()).decode())


def from_global_id(value: str) -> tuple[str, uuid.UUID] | None:
    """The type name and UUID in a global id, or None when ``value`` is not one."""
    try:
        decoded = base64.b64decode(value, validate=True).decode()
        type_name, _, raw = decoded.partition(":")
        return type_name, uuid.UUID(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _invalid_identifier(argument: str, value: str, expected: str) -> InvalidInput:
    return InvalidInput(
        code="invalid_identifier",
        detail=f"{argument}: {value!r} is not {expected}.",
        errors=[ErrorDetail((argument,), f"must be {expected}", "value_error")],
    )


def uuid_ref(value: str, type_name: str, argument: str = "id") -> uuid.UUID:
    """A reference argument: the type's global id or its UUID (the REST id)."""
    decoded = from_global_id(value)
    if decoded is not None and decoded[0] == type_name:
        return decoded[1]
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _invalid_identifier(argument, value, f"a {type_name} id") from None


def keyed_ref(value: str, type_name: str, argument: str = "idOrKey") -> uuid.UUID | str:
    """A reference to a keyed record: its global id, its UUID or its human key."""
    if is_key(value):
        return value
    try:
        return uuid_ref(value, type_name, argument)
    except InvalidInput:
        raise _invalid_identifier(
            argument, value, f"a {type_name} id or a key like ABC-12"
        ) from None


def raw_uuid(value: str, type_name: str | None = None) -> str:
    """An id inside an input object, as the Pydantic model validates it: a global id
    (of ``type_name`` when given) becomes its UUID; anything else is left for the model
    to accept or refuse, with the field's own location."""
    decoded = from_global_id(value)
    if decoded is not None and (type_name is None or decoded[0] == type_name):
        return str(decoded[1])
    return value


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="Opaque global id (Relay). The REST id is `uuid`."
    )


@strawberry.type(description="Where a page ends and whether another follows.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="True when another page follows; fetch it with `after: endCursor`."
    )
    has_previous_page: bool = strawberry.field(
        default=False, description="Always false: connections page forward only."
    )

    page: strawberry.Private[Page[Any]]

    @strawberry.field(
        description="The last edge's cursor: continue after this page with `after: "
        "endCursor` (when `hasNextPage` is false, the next page is empty until rows are "
        "added). Null when the page is empty."
    )
    @plain
    def end_cursor(self) -> str | None:
        if self.page.next_cursor is not None:
            return self.page.next_cursor
        return _cursor_after(self.page, self.page.items[-1]) if self.page.items else None

    @strawberry.field(description="The first edge's cursor; null when the page is empty.")
    @plain
    def start_cursor(self) -> str | None:
        return _cursor_after(self.page, self.page.items[0]) if self.page.items else None


def _cursor_after(page: Page[Any], row: Any) -> str:
    if page.cursors is None:
        raise RuntimeError("a connection was made from a page whose rows have no cursors")
    return page.cursors.after(row)


@strawberry.type(description="A node and its cursor.")
class Edge(Generic[NodeT]):
    node: NodeT

    page: strawberry.Private[Page[Any]]
    row: strawberry.Private[Any]

    @strawberry.field(
        description="Where the node stands in the list: `after: cursor` continues with "
        "the nodes that follow it."
    )
    @plain
    def cursor(self) -> str:
        return _cursor_after(self.page, self.row)


@strawberry.type(description="One page of a list, in a stable total order.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    @plain
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


def requested_node_fields(info: Any) -> set[str]:
    """The fields a connection's query asks of its nodes (under ``edges { node }`` or
    ``nodes``, fragments included), by their GraphQL names: what a page may load for all
    its nodes at once."""
    wanted: set[str] = set()
    for connection_field in info.selected_fields:
        for child in _fields(connection_field.selections):
            if child.name == "nodes":
                wanted.update(f.name for f in _fields(child.selections))
            elif child.name == "edges":
                for edge_field in _fields(child.selections):
                    if edge_field.name == "node":
                        wanted.update(f.name for f in _fields(edge_field.selections))
    return wanted


def _fields(selections: Sequence[Any]) -> Iterator[Any]:
    for selection in selections:
        if isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)
        else:
            yield selection


def connection(page: Page[M], present: Callable[[M], NodeT]) -> Connection[NodeT]:
    """A page as a connection; each cursor is made only if a client asks for it."""
    return Connection(
        edges=[Edge(node=present(row), page=page, row=row) for row in page.items],
        page_info=PageInfo(has_next_page=page.next_cursor is not None, page=page),
    )


_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake_case(name: str) -> str:
    return _CAMEL_HUMP.sub(r"_\1", name).lower()


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def list_params(first: int | None, after: str | None, sort: str | None) -> ListParams:
    """``first`` (1..200; null: the default), ``after`` (a cursor) and ``sort``
    (``field`` or ``-field``, camelCase or snake_case) as the services' ListParams."""
    if first is None:
        first = DEFAULT_LIMIT
    errors: list[ErrorDetail] = []
    if not 1 <= first <= MAX_LIMIT:
        errors.append(ErrorDetail(("first",), f"must be between 1 and {MAX_LIMIT}", "value_error"))
    if after is not None and len(after) > MAX_CURSOR_LENGTH:
        errors.append(ErrorDetail(("after",), "is not a cursor of this service", "value_error"))
    if sort is not None and len(sort) > MAX_SORT_LENGTH:
        errors.append(ErrorDetail(("sort",), "is not a sortable field", "value_error"))
    if errors:
        raise InvalidInput(
            code="invalid_page_arguments",
            detail="; ".join(f"{e.loc[0]} {e.msg}" for e in errors) + ".",
            errors=errors,
        )
    if sort is not None:
        descending = sort.startswith("-")
        sort = ("-" if descending else "") + snake_case(sort.removeprefix("-"))
    return ListParams(limit=first, cursor=after or None, sort=sort)


FIRST_DESCRIPTION = f"Page size, 1 to {MAX_LIMIT} (default, and when null: {DEFAULT_LIMIT})."
AFTER_DESCRIPTION = "Start after this cursor: an edge's `cursor` or a page's `pageInfo.endCursor`."

First = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
"""A connection's page size: a nullable Int with a default, as Relay's fragments expect
(``@argumentDefinitions(count: {type: "Int", defaultValue: ...})``)."""
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]


# -- per-request DataLoaders ------------------------------------------------------------------


class _Row(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


IdRowT = TypeVar("IdRowT", bound=_Row | Mapping[str, Any])
"""A record with an id: a model object, or a row read as a dict (``db.reads``)."""


class _Clearable(Protocol):
    def clear_all(self) -> None: ...


ClearableT = TypeVar("ClearableT", bound=_Clearable)


def keyed_loader(
    context: GraphQLContext,
    batch: Callable[[ServiceContext, list[KeyT]], Awaitable[Mapping[KeyT, RowT]]],
    present: Callable[[RowT], OutT],
    missing: MissingT,
) -> DataLoader[KeyT, OutT | MissingT]:
    """A loader over a batch read that answers a mapping from the asked keys (a project's
    id to its next milestone, a report's id to its diff...); ``missing`` for keys it left
    out."""

    async def load(keys: list[KeyT]) -> list[OutT | MissingT]:
        found = await context.fetch(
            lambda ctx: batch(ctx, keys),
            lambda rows: {key: present(row) for key, row in rows.items()},
        )
        return [found.get(key, missing) for key in keys]

    return DataLoader(load_fn=load)


def node_loader(
    context: GraphQLContext,
    batch: Callable[[ServiceContext, Sequence[uuid.UUID]], Awaitable[Sequence[IdRowT]]],
    present: Callable[[IdRowT], NodeT],
) -> DataLoader[uuid.UUID, NodeT | None]:
    """Records by id over a service batch read; None for what the caller cannot see."""

    async def by_id(ctx: ServiceContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, IdRowT]:
        rows = await batch(ctx, ids)
        return {row["id"] if isinstance(row, Mapping) else row.id: row for row in rows}

    return keyed_loader(context, by_id, present, None)


def _bound(
    batch: Callable[[ServiceContext, list[uuid.UUID], ArgsT], Awaitable[Mapping[uuid.UUID, RowT]]],
    ids: list[uuid.UUID],
    args: ArgsT,
) -> Callable[[ServiceContext], Awaitable[Mapping[uuid.UUID, RowT]]]:
    return lambda ctx: batch(ctx, ids, args)


def grouped_loader(
    context: GraphQLContext,
    batch: Callable[[ServiceContext, list[uuid.UUID], ArgsT], Awaitable[Mapping[uuid.UUID, RowT]]],
    present: Callable[[RowT], OutT],
    missing: Callable[[], OutT] | None = None,
) -> DataLoader[tuple[uuid.UUID, ArgsT], OutT]:
    """A loader keyed by (id, arguments): one batch call for all the ids asked with the
    same arguments (a page of projects asking for the same page of their risks). Without
    ``missing``, the batch answers every id."""

    async def load(keys: list[tuple[uuid.UUID, ArgsT]]) -> list[OutT]:
        wanted: dict[ArgsT, list[uuid.UUID]] = {}
        for row_id, args in keys:
            wanted.setdefault(args, []).append(row_id)
        found: dict[tuple[uuid.UUID, ArgsT], OutT] = {}
        for args, ids in wanted.items():
            rows = await context.fetch(
                _bound(batch, ids, args),
                lambda rows: {row_id: present(row) for row_id, row in rows.items()},
            )
            found.update({(row_id, args): out for row_id, out in rows.items()})
        if missing is None:
            return [found[key] for key in keys]
        return [found[key] if key in found else missing() for key in keys]

    return DataLoader(load_fn=load)


def page_loader(
    context: GraphQLContext,
    batch: Callable[
        [ServiceContext, list[uuid.UUID], ArgsT], Awaitable[Mapping[uuid.UUID, Page[RowT]]]
    ],
    present: Callable[[RowT], NodeT],
) -> DataLoader[tuple[uuid.UUID, ArgsT], Connection[NodeT]]:
    """Per-project pages of a nested connection, keyed by (project id, the page's
    arguments); a project the batch left out has an empty page."""
    return grouped_loader(
        context,
        batch,
        lambda page: connection(page, present),
        lambda: connection(Page(items=[], next_cursor=None), present),
    )


class _OnFirstUse:
    """A DataLoader made when a field first loads through it: a request builds only the
    loaders its query uses (about fifty exist; making them all cost a tenth of a page's
    CPU)."""

    __slots__ = ("_loader", "_make")

    def __init__(self, make: Callable[[], DataLoader[Any, Any]]) -> None:
        self._make = make
        self._loader: DataLoader[Any, Any] | None = None

    @property
    def loader(self) -> DataLoader[Any, Any]:
        if self._loader is None:
            self._loader = self._make()
        return self._loader

    def load(self, key: Any) -> Any:
        return self.loader.load(key)

    def load_many(self, keys: Any) -> Any:
        return self.loader.load_many(keys)

    def clear_all(self) -> None:
        if self._loader is not None:
            self._loader.clear_all()


def _on_first_use(make: Callable[[], DataLoader[KeyT, OutT]]) -> DataLoader[KeyT, OutT]:
    lazy: Any = _OnFirstUse(make)
    return cast(DataLoader[KeyT, OutT], lazy)


class LoaderSet:
    """The loaders of one request (or of one area of it): made through the methods
    below, they are cleared together, and the node loaders answer ``node(id:)`` and the
    audit trail's entities by type name."""

    def __init__(self, context: GraphQLContext) -> None:
        self.context = context
        self._members: list[_Clearable] = []
        self.by_type: dict[str, DataLoader[uuid.UUID, Any]] = {}
        self.by_entity_type: dict[str, DataLoader[uuid.UUID, Any]] = {}

    def _keep(self, member: ClearableT) -> ClearableT:
        self._members.append(member)
        return member

    def nodes(
        self,
        type_name: str,
        entity_type: str | None,
        batch: Callable[[ServiceContext, Sequence[uuid.UUID]], Awaitable[Sequence[IdRowT]]],
        present: Callable[[IdRowT], NodeT],
    ) -> DataLoader[uuid.UUID, NodeT | None]:
        """The nodes of one type, by id; ``entity_type``: the audit trail's name for the
        records (None for what the trail never names, such as its own events)."""
        loader = self._keep(_on_first_use(lambda: node_loader(self.context, batch, present)))
        self.by_type[type_name] = loader
        if entity_type is not None:
            self.by_entity_type[entity_type] = loader
        return loader

    def keyed(
        self,
        batch: Callable[[ServiceContext, list[KeyT]], Awaitable[Mapping[KeyT, RowT]]],
        present: Callable[[RowT], OutT],
        missing: MissingT,
    ) -> DataLoader[KeyT, OutT | MissingT]:
        return self._keep(
            _on_first_use(lambda: keyed_loader(self.context, batch, present, missing))
        )

    def grouped(
        self,
        batch: Callable[
            [ServiceContext, list[uuid.UUID], ArgsT], Awaitable[Mapping[uuid.UUID, RowT]]
        ],
        present: Callable[[RowT], OutT],
    ) -> DataLoader[tuple[uuid.UUID, ArgsT], OutT]:
        return self._keep(_on_first_use(lambda: grouped_loader(self.context, batch, present)))

    def pages(
        self,
        batch: Callable[
            [ServiceContext, list[uuid.UUID], ArgsT], Awaitable[Mapping[uuid.UUID, Page[RowT]]]
        ],
        present: Callable[[RowT], NodeT],
    ) -> DataLoader[tuple[uuid.UUID, ArgsT], Connection[NodeT]]:
        return self._keep(_on_first_use(lambda: page_loader(self.context, batch, present)))

    def include(self, area: LoaderSetT) -> LoaderSetT:
        """Another set's loaders, cleared and found by type with these."""
        self.by_type.update(area.by_type)
        self.by_entity_type.update(area.by_entity_type)
        return self._keep(area)

    def clear_all(self) -> None:
        for member in self._members:
            member.clear_all()


LoaderSetT = TypeVar("LoaderSetT", bound=LoaderSet)


def same(value: Any) -> Any:
    """What a loader presents as it was read (rows the types read as they are)."""
    return value


def as_record(found: Any, **missing: Any) -> Any:
    """A record a service answered as a row (a create written by ``db.writes``) with
    attribute access, as a type's ``from_model`` reads a model object; ``missing``: the
    values a row does not carry (a count only lists compute)."""
    if isinstance(found, Mapping):
        return SimpleNamespace(**{**missing, **found})
    return found
