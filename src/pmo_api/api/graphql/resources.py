"""Every top-level resource type over GraphQL (people, portfolios...), made from its
declaration (``resources/declaration.py``): its type and connection, its inputs,
payload and result unions, its lookup and its list, its mutations (create, update,
archive), and its node loader.

The types read the attributes of what the loaders return (rows, shown as this
module's row objects, or the ORM records a mutation changed): nothing is copied per
field. ``id`` is the global id and ``uuid`` the REST id; a reference (``owner_id``)
shows as the record it names (``owner``). What the door shows of a type its own way (a
person's allocation) is a class of strawberry fields in the module named after its
domain, listed in ``FIELDS``.

Each type is also a name of this module (``resources.Person``), where
``strawberry.lazy`` finds it for the modules that refer to it.
"""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeAlias

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types.field import StrawberryField

from pmo_api.api.graphql import audit_events, people, portfolios, projects
from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.declared import (
    INFO,
    DeclaredTypes,
    IdArgument,
    Identified,
    KeyedArgument,
    Stored,
    action_mutation,
    archive_mutation,
    create_input,
    field,
    filter_input,
    made,
    mutation,
    node_type,
    page_parameters,
    payload_type,
    reference_field,
    result,
    signed,
    sorts_of,
    update_input,
    update_mutation,
)
from pmo_api.api.graphql.errors import CreateErrors, parse_model
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.relay import (
    Connection,
    LoaderSet,
    camel_case,
    connection,
    keyed_ref,
    list_params,
    uuid_ref,
)
from pmo_api.control import RESOURCES
from pmo_api.core.context import ServiceContext
from pmo_api.db.reads import Row
from pmo_api.resources import service as resources
from pmo_api.resources.declaration import ResourceAction, ResourceType

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext

    # The types other modules name; the real ones are made below.
    Person: TypeAlias = Any
    Portfolio: TypeAlias = Any
    Project: TypeAlias = Any
    ProjectFilter: TypeAlias = Any

FIELDS: Mapping[str, type] = {
    "person": people.PersonFields,
    "portfolio": portfolios.PortfolioFields,
    "project": projects.ProjectFields,
    "audit_event": audit_events.AuditEventFields,
}
"""Types the door shows with fields of its own: entity name -> a class whose strawberry
fields join the type's (after the declared ones)."""

PAGES: Mapping[str, Callable[[GqlInfo, list[Any]], Awaitable[None]]] = {"project": projects.preload}
"""Types whose list pages load more for all their nodes at once (a project's portfolio
and manager): entity name -> what does it, given the page's nodes."""


# -- the types of one resource type ----------------------------------------------------------


@dataclass(frozen=True)
class ResourceTypes(DeclaredTypes):
    """What the door makes of one resource type."""

    row: type
    """What a row read for this type is shown as (its attributes, the node's type)."""

    def present(self, found: Any) -> Any:
        """A row (a read, a create) or an ORM record (an update), as the node reads it."""
        return self.row(**found) if isinstance(found, Mapping) else found

    @property
    def filter_references(self) -> dict[str, str | None]:
        """The filter's ids and the type each names (None: any, as the trail's
        ``entity_id``): a global id or a UUID each."""
        named = self.references
        return {
            spec.name: named.get(spec.name)
            for spec in self.kind.filter_list
            if spec.annotation is uuid.UUID
        }


def _types(kind: ResourceType[Any]) -> ResourceTypes:
    model = kind.model
    row = type(f"{kind.pascal}Row", (SimpleNamespace,), {"__module__": __name__})
    if kind.envelope not in (("version", "created_at", "updated_at", "archived_at"), ()):
        raise TypeError(f"{kind.name}: no GraphQL base type keeps {kind.envelope}")
    node = node_type(
        kind,
        base=Stored if kind.envelope else Identified,
        is_type_of=lambda obj: isinstance(obj, (row, model)),
        reference=reference_field,
        own=FIELDS.get(kind.name),
        module=__name__,
    )
    return ResourceTypes(
        kind=kind,
        node=node,
        row=row,
        connection=Connection[node],  # type: ignore[valid-type]
        create_input=create_input(kind),
        update_input=update_input(kind),
        filter_input=filter_input(kind, ids=True),
        payload=payload_type(kind, node, __name__),
    )


TYPES: dict[str, ResourceTypes] = {kind.name: _types(kind) for kind in RESOURCES if kind.graphql}
"""Every resource type's GraphQL types, by entity name."""

globals().update({found.kind.graphql_type: found.node for found in TYPES.values()})
globals().update(
    {f"{found.kind.graphql_type}Filter": found.filter_input for found in TYPES.values()}
)


# -- per-request loaders ---------------------------------------------------------------------


def _batch(kind: ResourceType[Any]) -> Callable[[ServiceContext, Sequence[uuid.UUID]], Any]:
    return lambda ctx, ids: resources.read_many(ctx, kind, ids)


NODE_READS: dict[str, tuple[Callable[..., Any], Callable[[Row], Any]]] = {
    found.kind.graphql_type: (_batch(found.kind), found.present) for found in TYPES.values()
}
"""Each type's batch read and presenter (type name -> both), for its loader and for a
page that reads all its nodes at once (``Loaders.read_nodes``)."""


class ResourceLoaders(LoaderSet):
    """Each resource type's node loader, by entity name (``node(id:)``, the audit
    trail's entities, references): one statement per batch."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.node: dict[str, DataLoader[uuid.UUID, Any]] = {}
        for name, found in TYPES.items():
            kind = found.kind
            batch, present = NODE_READS[kind.graphql_type]
            self.node[name] = self.nodes(kind.graphql_type, kind.name, batch, present)


# -- lookups and lists -----------------------------------------------------------------------


def _ref(kind: ResourceType[Any], value: str, argument: str) -> uuid.UUID | str:
    if kind.keyed:
        return keyed_ref(value, kind.graphql_type, argument)
    return uuid_ref(value, kind.graphql_type, argument)


def _lookup(found: ResourceTypes) -> StrawberryField:
    """``person(id:)``, ``portfolio(idOrKey:)``."""
    kind = found.kind

    async def resolve(info: GqlInfo, **given: str) -> Any:
        ((argument, value),) = given.items()
        ref = _ref(kind, value, camel_case(argument))
        return await info.context.fetch(lambda ctx: resources.read(ctx, kind, ref), found.present)

    argument: tuple[str, Any, Any]
    if kind.keyed:
        argument = ("id_or_key", str, inspect.Parameter.empty)
        description = f"One {kind.words} by global id, UUID or key."
    else:
        argument = ("id", strawberry.ID, inspect.Parameter.empty)
        description = f"One {kind.words} by global id or UUID."
    return field(signed(resolve, [INFO, argument], found.node | None), description)


def _list(found: ResourceTypes) -> StrawberryField:
    """``people(first, after, filter, sort)``: the REST list's filters, sorts and cursors."""
    kind = found.kind
    more = PAGES.get(kind.name)

    async def resolve(
        info: GqlInfo, first: int | None, after: str | None, filter: Any, sort: str | None
    ) -> Any:
        params = list_params(first, after, sort)
        filters = parse_model(kind.filter, provided(filter, found.filter_references), "filter")
        page = await info.context.fetch(
            lambda ctx: resources.read_list(ctx, kind, filters, params),
            lambda page: connection(page, found.present),
        )
        if more is not None:
            await more(info, [edge.node for edge in page.edges])
        return page

    parameters = [INFO, *page_parameters(found.filter_input)]
    sorts, default = sorts_of(kind)
    description = (
        f"{kind.docs.listed}, sorted by `sort` ({', '.join(sorts)}; `-` for descending; "
        f"default {default})."
    )
    return field(signed(resolve, parameters, found.connection), description)


# -- mutations -------------------------------------------------------------------------------


def _create(found: ResourceTypes) -> StrawberryField:
    kind = found.kind

    async def resolve(info: GqlInfo, input: Any) -> Any:
        data = parse_model(kind.create, provided(input, found.references))
        return await info.context.change(lambda ctx: resources.create(ctx, kind, data), found.of)

    parameters = [INFO, ("input", found.create_input, inspect.Parameter.empty)]
    union = result(f"{kind.create_verb.title()}{kind.pascal}Result", found.payload, CreateErrors)
    description = kind.docs.create or f"Create {kind.a_word}."
    return mutation(signed(resolve, parameters, union), description)


def _update(found: ResourceTypes) -> StrawberryField:
    kind = found.kind
    return update_mutation(
        found,
        KeyedArgument if kind.keyed else IdArgument,
        lambda id: _ref(kind, id, "id"),
        lambda ctx, ref, patch, version: resources.update(ctx, kind, ref, patch, version),
    )


def _archive(found: ResourceTypes) -> StrawberryField:
    kind = found.kind
    return archive_mutation(
        found,
        KeyedArgument if kind.keyed else IdArgument,
        lambda id: _ref(kind, id, "id"),
        lambda ctx, ref, version: resources.archive(ctx, kind, ref, version),
    )


def _act(found: ResourceTypes, action: ResourceAction) -> StrawberryField:
    kind = found.kind
    return action_mutation(
        found,
        KeyedArgument if kind.keyed else IdArgument,
        lambda id: _ref(kind, id, "id"),
        action,
        lambda ctx, ref, body, version: resources.act(ctx, kind, action, ref, body, version),
    )


def _operations() -> tuple[type, type]:
    """The Query and Mutation fields of every resource type, in ``RESOURCES`` order."""
    queries: dict[str, StrawberryField] = {}
    mutations: dict[str, StrawberryField] = {}
    for found in TYPES.values():
        kind = found.kind
        queries[kind.name] = _lookup(found)
        queries[kind.collection.replace("-", "_")] = _list(found)
        if kind.creatable:
            mutations[f"{kind.create_verb}_{kind.name}"] = _create(found)
        if kind.updatable:
            mutations[f"update_{kind.name}"] = _update(found)
        for action in kind.actions:
            mutations[f"{action.verb}_{kind.name}"] = _act(found, action)
        if kind.archivable:
            mutations[f"archive_{kind.name}"] = _archive(found)
    return (
        strawberry.type(made("ResourcesQuery", dict(queries), module=__name__)),
        strawberry.type(made("ResourcesMutation", dict(mutations), module=__name__)),
    )


ResourcesQuery, ResourcesMutation = _operations()
