"""Every project record type over GraphQL, made from its declaration
(``records/declaration.py``): its type and connection, its connection under ``Project``,
its inputs, payload and result unions, its mutations (create, update, its actions,
archive), its lookup by id (and, when declared, its list), and the per-request loaders
behind them.

The types read the attributes of what the loaders return (the ORM records): nothing is
copied per row. ``id`` is the global id and ``uuid`` the REST id; a reference
(``owner_id``) shows as the record it names (``owner``); ``project`` is the project.
What the door shows of a record type its own way (a baseline's comparison, a status
report's diff) is a class of strawberry fields in the module named after its domain,
listed in ``FIELDS``.

Each type is also a name of this module (``records.Risk``), where ``strawberry.lazy``
finds it for the modules that refer to it.
"""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types.field import StrawberryField

from pmo_api.api.graphql import reporting, schedule
from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.declared import (
    HUMPS,
    INFO,
    ROOT,
    AfterArgument,
    DeclaredTypes,
    FirstArgument,
    IdArgument,
    Stored,
    action_mutation,
    archive_mutation,
    create_input,
    field,
    filter_input,
    graphql_type,
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
    connection,
    keyed_ref,
    list_params,
    same,
    uuid_ref,
)
from pmo_api.control import PROJECT_RECORDS
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import DEFAULT_LIMIT, ListParams, Page
from pmo_api.records import service as records
from pmo_api.records.declaration import Action, RecordType

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.api.graphql.resources import Project

    # The types other modules name lazily; the real ones are made below.
    Milestone: TypeAlias = Any
    Baseline: TypeAlias = Any
    StatusReport: TypeAlias = Any

LazyProject = Annotated["Project", strawberry.lazy("pmo_api.api.graphql.resources")]

FIELDS: Mapping[str, type] = {
    "baseline": schedule.BaselineFields,
    "status_report": reporting.StatusReportFields,
}
"""Record types the door shows with fields of its own: entity name -> a class whose
strawberry fields join the type's (after the declared ones)."""

PROJECT_ID_DESCRIPTION = "The project's global id, UUID or key."
ProjectArgument = Annotated[strawberry.ID, strawberry.argument(description=PROJECT_ID_DESCRIPTION)]


# -- what every record shows -----------------------------------------------------------------


async def _project(root: Any, info: GqlInfo) -> LazyProject | None:
    return await info.context.loaders.project.load(root.project_id)


@strawberry.type
class ProjectRecord(Stored):
    """The fields of every record type's GraphQL type (``id`` is made with each type)."""

    project: LazyProject | None = strawberry.field(
        resolver=_project, description="The project the record belongs to."
    )


# -- the types of one record type ------------------------------------------------------------


RecordTypes = DeclaredTypes
"""What the door makes of one record type."""


def _node(kind: RecordType[Any]) -> type:
    model = kind.model
    return node_type(
        kind,
        base=ProjectRecord,
        is_type_of=lambda obj: isinstance(obj, model),
        reference=reference_field,
        own=FIELDS.get(kind.name),
        module=__name__,
    )


def _types(kind: RecordType[Any]) -> RecordTypes:
    node = _node(kind)
    return RecordTypes(
        kind=kind,
        node=node,
        connection=Connection[node],  # type: ignore[valid-type]
        create_input=create_input(kind),
        update_input=update_input(kind) if kind.updatable else None,
        filter_input=filter_input(kind) if kind.list_query else None,
        payload=payload_type(kind, node, __name__),
    )


TYPES: dict[str, RecordTypes] = {kind.name: _types(kind) for kind in PROJECT_RECORDS}
"""Every record type's GraphQL types, by entity name."""

globals().update({found.kind.graphql_type: found.node for found in TYPES.values()})


# -- per-request loaders ---------------------------------------------------------------------

PageArgs = tuple[ListParams, tuple[tuple[str, Any], ...]]
"""A nested connection's page and the filters asked, hashable: the same for every
project of a page, so one batch."""


def _by_ids(kind: RecordType[Any]) -> Callable[[ServiceContext, Sequence[uuid.UUID]], Any]:
    return lambda ctx, ids: records.get_many(ctx, kind, ids)


def _pages_of(kind: RecordType[Any]) -> Callable[..., Any]:
    async def batch(
        ctx: ServiceContext, project_ids: list[uuid.UUID], args: PageArgs
    ) -> dict[uuid.UUID, Page[Any]]:
        params, given = args
        values = {name: list(v) if isinstance(v, tuple) else v for name, v in given}
        filters = parse_model(kind.filter, values, "query")
        return await records.pages(ctx, kind, project_ids, filters, params)

    return batch


class RecordLoaders(LoaderSet):
    """Each record type's loaders, by entity name: ``node`` (records by id: ``node(id:)``,
    the audit trail's entities, references) and ``connections`` (each project's page),
    one statement per batch."""

    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.node: dict[str, DataLoader[uuid.UUID, Any]] = {}
        self.connections: dict[str, DataLoader[tuple[uuid.UUID, PageArgs], Connection[Any]]] = {}
        for name, found in TYPES.items():
            kind = found.kind
            self.node[name] = self.nodes(kind.graphql_type, kind.name, _by_ids(kind), same)
            self.connections[name] = self.pages(_pages_of(kind), same)

    async def connection(
        self,
        kind: RecordType[Any],
        project_id: uuid.UUID,
        first: int | None,
        after: str | None,
        filters: Mapping[str, Any],
    ) -> Connection[Any]:
        given = tuple(
            sorted(
                (name, tuple(sorted(set(value))) if isinstance(value, list) else value)
                for name, value in filters.items()
                if value is not None
            )
        )
        page = (list_params(first, after, None), given)
        return await self.connections[kind.name].load((project_id, page))


# -- Project's connections -------------------------------------------------------------------


def _connection(found: RecordTypes) -> StrawberryField:
    """``Project.risks(first, after, <nested filters>)``."""
    kind = found.kind
    parameters = [
        ROOT,
        INFO,
        ("first", FirstArgument, DEFAULT_LIMIT),
        ("after", AfterArgument, None),
    ]
    for spec in kind.filter_list:
        if spec.name in kind.nested_filters:
            annotation = graphql_type(spec.annotation) | None
            if spec.description is not None:
                annotation = Annotated[
                    annotation, strawberry.argument(description=spec.description)
                ]
            parameters.append((spec.name, annotation, None))

    async def resolve(
        root: Any, info: GqlInfo, first: int | None, after: str | None, **filters: Any
    ) -> Any:
        return await info.context.loaders.records.connection(kind, root.id, first, after, filters)

    description = f"The project's {kind.words}s (not archived), {kind.docs.listed}."
    return field(signed(resolve, parameters, found.connection), description)


ClassT = TypeVar("ClassT", bound=type)


def with_project_connections(cls: ClassT) -> ClassT:
    """The Project class with a connection per record type (``risks``, ``statusReports``
    ...), after its own fields; applied before ``strawberry.type``."""
    for kind in PROJECT_RECORDS:
        setattr(cls, kind.collection.replace("-", "_"), _connection(TYPES[kind.name]))
    return cls


# -- lookups and lists -----------------------------------------------------------------------


def _lookup(found: RecordTypes) -> StrawberryField:
    """``risk(id:)``: null when nothing is there."""
    kind = found.kind

    async def resolve(info: GqlInfo, id: str) -> Any:
        record_id = uuid_ref(id, kind.graphql_type)
        return await info.context.loaders.records.node[kind.name].load(record_id)

    parameters = [INFO, ("id", IdArgument, inspect.Parameter.empty)]
    words = HUMPS.sub(" ", kind.graphql_type).lower()
    return field(
        signed(resolve, parameters, found.node | None), f"One {words} by global id or UUID."
    )


def _list(found: RecordTypes) -> StrawberryField:
    """``statusReports(project:, first, after, filter, sort)``: the REST list's filters,
    sorts and cursors."""
    kind = found.kind

    async def resolve(
        info: GqlInfo,
        project: str,
        first: int | None,
        after: str | None,
        filter: Any,
        sort: str | None,
    ) -> Any:
        ref = keyed_ref(project, "Project", "project")
        params = list_params(first, after, sort)
        filters = parse_model(kind.filter, provided(filter), "filter")
        return await info.context.fetch(
            lambda ctx: records.list_records(ctx, kind, ref, filters, params),
            lambda page: connection(page, same),
        )

    parameters = [
        INFO,
        (
            "project",
            Annotated[str, strawberry.argument(description=PROJECT_ID_DESCRIPTION)],
            inspect.Parameter.empty,
        ),
        *page_parameters(found.filter_input),
    ]
    sorts, default = sorts_of(kind)
    description = (
        f"A project's {kind.words}s, sorted by {', '.join(sorts[:-1])} or {sorts[-1]}; "
        f"`-` for descending; default {default}."
    )
    return field(signed(resolve, parameters, found.connection), description)


# -- mutations -------------------------------------------------------------------------------


def _create(found: RecordTypes) -> StrawberryField:
    kind = found.kind

    async def resolve(info: GqlInfo, project_id: str, input: Any) -> Any:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(kind.create, provided(input, found.references))
        return await info.context.change(lambda ctx: records.create(ctx, kind, ref, data), found.of)

    union = result(f"{kind.create_verb.title()}{kind.pascal}Result", found.payload, CreateErrors)
    parameters = [
        INFO,
        ("project_id", ProjectArgument, inspect.Parameter.empty),
        ("input", found.create_input, inspect.Parameter.empty),
    ]
    description = kind.docs.create or (
        f"Add {kind.a_word} to a project (pmo, admin; a manager: their projects)."
    )
    return mutation(signed(resolve, parameters, union), description)


def _update(found: RecordTypes) -> StrawberryField:
    kind = found.kind
    return update_mutation(
        found,
        IdArgument,
        lambda id: uuid_ref(id, kind.graphql_type),
        lambda ctx, ref, patch, version: records.update(ctx, kind, ref, patch, version),
    )


def _act(found: RecordTypes, action: Action[Any]) -> StrawberryField:
    """``approveChange(id, <the action input's fields>, expectedVersion)``."""
    kind = found.kind
    return action_mutation(
        found,
        IdArgument,
        lambda id: uuid_ref(id, kind.graphql_type),
        action,
        lambda ctx, ref, body, version: records.act(ctx, kind, action, ref, body, version),
    )


def _archive(found: RecordTypes) -> StrawberryField:
    kind = found.kind
    return archive_mutation(
        found,
        IdArgument,
        lambda id: uuid_ref(id, kind.graphql_type),
        lambda ctx, ref, version: records.archive(ctx, kind, ref, version),
    )


def _operations() -> tuple[type, type]:
    """The Query and Mutation fields of every record type, in ``PROJECT_RECORDS`` order."""
    queries: dict[str, StrawberryField] = {}
    mutations: dict[str, StrawberryField] = {}
    for kind in PROJECT_RECORDS:
        found = TYPES[kind.name]
        queries[HUMPS.sub("_", kind.graphql_type).lower()] = _lookup(found)
        if kind.list_query:
            queries[kind.collection.replace("-", "_")] = _list(found)
        mutations[f"{kind.create_verb}_{kind.name}"] = _create(found)
        if kind.updatable:
            mutations[f"update_{kind.name}"] = _update(found)
        for action in kind.actions:
            mutations[f"{action.verb}_{kind.name}"] = _act(found, action)
        if kind.archivable:
            mutations[f"archive_{kind.name}"] = _archive(found)
    return (
        strawberry.type(made("RecordsQuery", dict(queries), module=__name__)),
        strawberry.type(made("RecordsMutation", dict(mutations), module=__name__)),
    )


RecordsQuery, RecordsMutation = _operations()
