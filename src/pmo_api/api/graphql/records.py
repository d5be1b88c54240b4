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

import enum
import inspect
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types.field import StrawberryField

from pmo_api.api.graphql import reporting, schedule
from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import ChangeErrors, CreateErrors, parse_model
from pmo_api.api.graphql.inputs import provided
from pmo_api.api.graphql.people import Person
from pmo_api.api.graphql.relay import (
    AFTER_DESCRIPTION,
    FIRST_DESCRIPTION,
    Connection,
    LoaderSet,
    Node,
    camel_case,
    connection,
    keyed_ref,
    list_params,
    to_global_id,
    uuid_ref,
)
from pmo_api.api.graphql.scalars import Money, graphql_enum
from pmo_api.control import PROJECT_RECORDS
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import DEFAULT_LIMIT, ListParams, Page
from pmo_api.records import service as records
from pmo_api.records.declaration import REQUIRED, Action, Field, RecordType, allows_none

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext
    from pmo_api.api.graphql.projects import Project

    # The types other modules name lazily; the real ones are made below.
    Milestone: TypeAlias = Any
    Baseline: TypeAlias = Any
    StatusReport: TypeAlias = Any

LazyProject = Annotated["Project", strawberry.lazy("pmo_api.api.graphql.projects")]

FIELDS: Mapping[str, type] = {
    "baseline": schedule.BaselineFields,
    "status_report": reporting.StatusReportFields,
}
"""Record types the door shows with fields of its own: entity name -> a class whose
strawberry fields join the type's (after the declared ones)."""

_REFERRED: Mapping[str, type] = {"Person": Person}
"""The GraphQL types a record's references name (``Reference.node``)."""

ID_DESCRIPTION = "Global id or UUID."
PROJECT_ID_DESCRIPTION = "The project's global id, UUID or key."
IdArgument = Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)]
ProjectArgument = Annotated[strawberry.ID, strawberry.argument(description=PROJECT_ID_DESCRIPTION)]
FirstArgument = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
AfterArgument = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]
KEYWORD = inspect.Parameter.KEYWORD_ONLY


# -- what every record shows -----------------------------------------------------------------


def _uuid(root: Any) -> uuid.UUID:
    found: uuid.UUID = root.id
    return found


async def _project(root: Any, info: GqlInfo) -> LazyProject | None:
    return await info.context.loaders.project.load(root.project_id)


@strawberry.type
class ProjectRecord(Node):
    """The fields of every record type's GraphQL type (``id`` is made with each type)."""

    uuid: UUID = strawberry.field(resolver=_uuid, description="The REST id.")
    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    project: LazyProject | None = strawberry.field(
        resolver=_project, description="The project the record belongs to."
    )


# -- from Python to GraphQL ------------------------------------------------------------------


def graphql_type(annotation: Any, *, reference: bool = False) -> Any:
    """The GraphQL type of a field's Python type: its limits dropped (GraphQL states
    none), money as ``Money``, enums registered, a reference as ``ID`` (a global id or
    a UUID)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return graphql_type(inner, reference=reference) | None
    if origin is typing.Annotated:
        return graphql_type(typing.get_args(annotation)[0], reference=reference)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return list[graphql_type(item)]  # type: ignore[misc]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        graphql_enum(annotation)
        return annotation
    if annotation is Decimal:
        return Money
    if annotation is uuid.UUID and reference:
        return strawberry.ID
    if annotation in (str, int, bool, float, date, datetime, uuid.UUID):
        return annotation
    raise TypeError(f"no GraphQL type for {annotation!r}")


def described(f: Field) -> str | None:
    """A field's description: its own, or the one its type carries (``Factor``)."""
    if f.description is not None:
        return f.description
    annotation = f.type
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in typing.get_args(annotation)[1:]:
            if isinstance(description := getattr(meta, "description", None), str):
                return description
    return None


def _signed(
    resolve: Callable[..., Any], parameters: Sequence[tuple[str, Any, Any]], returns: Any
) -> Callable[..., Any]:
    """``resolve`` with the signature strawberry reads its arguments and its type from:
    (name, annotation, default) each, made here from the declaration. ``root`` and
    ``info`` are strawberry's (the record, the request)."""
    resolve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, KEYWORD, annotation=annotation, default=default)
            for name, annotation, default in parameters
        ],
        return_annotation=returns,
    )
    return resolve


ROOT = ("root", Any, inspect.Parameter.empty)
INFO = ("info", GqlInfo, inspect.Parameter.empty)


def _field(resolve: Callable[..., Any], description: str | None) -> StrawberryField:
    made: StrawberryField = strawberry.field(resolver=resolve, description=description)
    return made


def _mutation(resolve: Callable[..., Any], description: str | None) -> StrawberryField:
    made: StrawberryField = strawberry.mutation(resolver=resolve, description=description)
    return made


def _made(name: str, namespace: dict[str, Any], bases: tuple[type, ...] = ()) -> type:
    """A class made as a class statement of this module would make it."""
    body = {"__module__": __name__, "__qualname__": name, **namespace}
    return types.new_class(name, bases, {}, lambda ns: ns.update(body))


_HUMPS = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _lower(name: str) -> str:
    return name[:1].lower() + name[1:]


# -- the types of one record type ------------------------------------------------------------


@dataclass(frozen=True)
class RecordTypes:
    """What the door makes of one record type."""

    kind: RecordType[Any]
    node: type
    connection: Any
    create_input: type
    update_input: type | None
    filter_input: type | None
    payload: type

    def of(self, record: Any) -> Any:
        """The payload of a mutation's record (``RiskPayload(risk=...)``)."""
        return self.payload(**{_lower(self.kind.pascal): record})

    @property
    def references(self) -> dict[str, str | None]:
        """The inputs' reference fields and the type each names (for ``provided``)."""
        return {f.name: f.refers_to.node for f in self.kind.fields if f.refers_to and f.written}


def _reference(f: Field) -> StrawberryField:
    """``owner``: the record ``owner_id`` names (through its loader), or null."""
    assert f.refers_to is not None
    node, column = f.refers_to.node, f.name

    async def resolve(root: Any, info: GqlInfo) -> Any:
        value = getattr(root, column)
        return None if value is None else await info.context.loaders.by_type[node].load(value)

    return _field(_signed(resolve, [ROOT, INFO], _REFERRED[node] | None), described(f))


def _node(kind: RecordType[Any]) -> type:
    name, model = kind.graphql_type, kind.model

    def global_id(root: Any) -> str:
        return to_global_id(name, root.id)

    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "id": _field(
            _signed(global_id, [ROOT], strawberry.ID),
            "Opaque global id (Relay). The REST id is `uuid`.",
        ),
        # What a resolver returns is the ORM record itself.
        "is_type_of": classmethod(lambda _cls, obj, _info: isinstance(obj, model)),
    }
    for f in kind.fields:
        if f.graphql and f.refers_to is None:
            annotations[f.name] = graphql_type(f.read_type)
            if (description := described(f)) is not None:
                namespace[f.name] = strawberry.field(description=description)
    for d in kind.derived:
        annotations[d.name] = graphql_type(d.type)
        if d.description is not None:
            namespace[d.name] = strawberry.field(description=d.description)
    for f in kind.references:
        if f.graphql:
            namespace[f.name.removesuffix("_id")] = _reference(f)
    own = vars(FIELDS[kind.name]) if kind.name in FIELDS else {}
    namespace.update(
        {key: value for key, value in own.items() if isinstance(value, StrawberryField)}
    )
    return strawberry.type(_made(name, namespace, (ProjectRecord,)), description=kind.docs.summary)


def _input(name: str, description: str, fields: Mapping[str, tuple[Any, Any]]) -> type:
    """An input type; ``fields``: name -> (GraphQL type, strawberry field)."""
    namespace: dict[str, Any] = {
        "__annotations__": {field: annotation for field, (annotation, _) in fields.items()},
        **{field: value for field, (_, value) in fields.items()},
    }
    return strawberry.input(_made(name, namespace), description=description)


def _optional(annotation: Any, description: str | None) -> tuple[Any, Any]:
    """A field that may be left out ("not sent" is not null: ``inputs.provided``)."""
    return annotation | None, strawberry.field(default=strawberry.UNSET, description=description)


def _written(f: Field) -> Any:
    return graphql_type(f.type, reference=f.refers_to is not None)


def _create_input(kind: RecordType[Any]) -> type:
    """Required fields first, then the others in their order."""
    required: dict[str, tuple[Any, Any]] = {}
    optional: dict[str, tuple[Any, Any]] = {}
    for f in kind.fields:
        if not f.create:
            continue
        if f.default is REQUIRED and not allows_none(f.type):
            required[f.name] = (_written(f), strawberry.field(description=described(f)))
        else:
            optional[f.name] = _optional(_written(f), described(f))
    ids = [camel_case(f.name) for f in kind.fields if f.create and f.refers_to is not None]
    note = f" {', '.join(ids)}: a global id or a UUID." if ids else ""
    name = f"{kind.create_verb.title()}{kind.pascal}Input"
    return _input(name, kind.docs.create_body or f"A new {kind.words}.{note}", required | optional)


def _update_input(kind: RecordType[Any]) -> type | None:
    if not kind.updatable:
        return None
    fields = {f.name: _optional(_written(f), described(f)) for f in kind.fields if f.update}
    description = kind.docs.update_body or "Only the fields sent change; null clears where allowed."
    return _input(f"Update{kind.pascal}Input", description, fields)


def _filter_input(kind: RecordType[Any]) -> type | None:
    """The filter of a record type's top-level list (``list_query``)."""
    if not kind.list_query:
        return None
    fields = {
        spec.name: _optional(graphql_type(spec.annotation), spec.description)
        for spec in kind.filter_list
    }
    # Non-null with its default: the filter takes no null here (as REST takes none).
    fields["include_archived"] = (bool, strawberry.field(default=False))
    fields["updated_since"] = _optional(datetime, None)
    description = f"Filters for {kind.words} lists; all must match."
    return _input(f"{kind.graphql_type}Filter", description, fields)


def _types(kind: RecordType[Any]) -> RecordTypes:
    node = _node(kind)
    payload = kind.payload or f"{kind.graphql_type}Payload"
    return RecordTypes(
        kind=kind,
        node=node,
        connection=Connection[node],  # type: ignore[valid-type]
        create_input=_create_input(kind),
        update_input=_update_input(kind),
        filter_input=_filter_input(kind),
        payload=strawberry.type(_made(payload, {"__annotations__": {_lower(kind.pascal): node}})),
    )


TYPES: dict[str, RecordTypes] = {kind.name: _types(kind) for kind in PROJECT_RECORDS}
"""Every record type's GraphQL types, by entity name."""

globals().update({found.kind.graphql_type: found.node for found in TYPES.values()})


def _result(name: str, payload: type, errors: Any) -> Any:
    """A mutation's result union: the payload or one of the typed errors."""
    members = (payload, *typing.get_args(errors))
    return Annotated[typing.Union[members], strawberry.union(name)]  # noqa: UP007


# -- per-request loaders ---------------------------------------------------------------------

PageArgs = tuple[ListParams, tuple[tuple[str, Any], ...]]
"""A nested connection's page and the filters asked, hashable: the same for every
project of a page, so one batch."""


def _same(row: Any) -> Any:
    return row


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
            self.node[name] = self.nodes(kind.graphql_type, kind.name, _by_ids(kind), _same)
            self.connections[name] = self.pages(_pages_of(kind), _same)

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
        return await info.context.loaders.records.connection(kind, root.uuid, first, after, filters)

    description = f"The project's {kind.words}s (not archived), {kind.docs.listed}."
    return _field(_signed(resolve, parameters, found.connection), description)


ClassT = TypeVar("ClassT", bound=type)


def with_project_connections(cls: ClassT) -> ClassT:
    """The Project class with a connection per record type (``risks``, ``statusReports``
    ...), after its own fields; applied before ``strawberry.type``."""
    for kind in PROJECT_RECORDS:
        setattr(cls, kind.plural.replace("-", "_"), _connection(TYPES[kind.name]))
    return cls


# -- lookups and lists -----------------------------------------------------------------------


def _lookup(found: RecordTypes) -> StrawberryField:
    """``risk(id:)``: null when nothing is there."""
    kind = found.kind

    async def resolve(info: GqlInfo, id: str) -> Any:
        record_id = uuid_ref(id, kind.graphql_type)
        return await info.context.loaders.records.node[kind.name].load(record_id)

    parameters = [INFO, ("id", IdArgument, inspect.Parameter.empty)]
    words = _HUMPS.sub(" ", kind.graphql_type).lower()
    return _field(
        _signed(resolve, parameters, found.node | None), f"One {words} by global id or UUID."
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
            lambda page: connection(page, _same),
        )

    parameters = [
        INFO,
        (
            "project",
            Annotated[str, strawberry.argument(description=PROJECT_ID_DESCRIPTION)],
            inspect.Parameter.empty,
        ),
        ("first", FirstArgument, DEFAULT_LIMIT),
        ("after", AfterArgument, None),
        ("filter", typing.Optional[found.filter_input], None),  # noqa: UP045  (made at run time)
        ("sort", str | None, None),
    ]
    sorts = [camel_case(name) for name in kind.sort_names]
    default = kind.default_sort
    default = ("-" if default.startswith("-") else "") + camel_case(default.lstrip("-"))
    description = (
        f"A project's {kind.words}s, sorted by {', '.join(sorts[:-1])} or {sorts[-1]}; "
        f"`-` for descending; default {default}."
    )
    return _field(_signed(resolve, parameters, found.connection), description)


# -- mutations -------------------------------------------------------------------------------


def _create(found: RecordTypes) -> StrawberryField:
    kind = found.kind

    async def resolve(info: GqlInfo, project_id: str, input: Any) -> Any:
        ref = keyed_ref(project_id, "Project", "projectId")
        data = parse_model(kind.create, provided(input, found.references))
        return await info.context.change(lambda ctx: records.create(ctx, kind, ref, data), found.of)

    result = _result(f"{kind.create_verb.title()}{kind.pascal}Result", found.payload, CreateErrors)
    parameters = [
        INFO,
        ("project_id", ProjectArgument, inspect.Parameter.empty),
        ("input", found.create_input, inspect.Parameter.empty),
    ]
    description = kind.docs.create or (
        f"Add {kind.a_word} to a project (pmo, admin; a manager: their projects)."
    )
    return _mutation(_signed(resolve, parameters, result), description)


def _update(found: RecordTypes) -> StrawberryField:
    kind = found.kind

    async def resolve(info: GqlInfo, id: str, input: Any, expected_version: int | None) -> Any:
        record_id = uuid_ref(id, kind.graphql_type)
        patch = parse_model(kind.update, provided(input, found.references))
        return await info.context.change(
            lambda ctx: records.update(ctx, kind, record_id, patch, expected_version), found.of
        )

    result = _result(f"Update{kind.pascal}Result", found.payload, ChangeErrors)
    parameters = [
        INFO,
        ("id", IdArgument, inspect.Parameter.empty),
        ("input", found.update_input, inspect.Parameter.empty),
        ("expected_version", int | None, None),
    ]
    description = kind.docs.update or f"Change the fields sent of {kind.a_word}."
    return _mutation(_signed(resolve, parameters, result), description)


def _act(found: RecordTypes, action: Action[Any]) -> StrawberryField:
    """``approveChange(id, <the action input's fields>, expectedVersion)``."""
    kind, model = found.kind, action.input

    async def resolve(info: GqlInfo, id: str, expected_version: int | None, **sent: Any) -> Any:
        record_id = uuid_ref(id, kind.graphql_type)
        body = None if model is None else parse_model(model, sent, "query")
        return await info.context.change(
            lambda ctx: records.act(ctx, kind, action, record_id, body, expected_version),
            found.of,
        )

    parameters: list[tuple[str, Any, Any]] = [INFO, ("id", IdArgument, inspect.Parameter.empty)]
    for name, info in (model.model_fields if model is not None else {}).items():
        annotation = graphql_type(info.annotation)
        if info.description is not None:
            annotation = Annotated[annotation, strawberry.argument(description=info.description)]
        parameters.append((name, annotation, None))
    parameters.append(("expected_version", int | None, None))
    result = _result(f"{action.verb.title()}{kind.pascal}Result", found.payload, ChangeErrors)
    return _mutation(_signed(resolve, parameters, result), action.graphql_description)


def _archive(found: RecordTypes) -> StrawberryField:
    kind = found.kind

    async def resolve(info: GqlInfo, id: str, expected_version: int | None) -> Any:
        record_id = uuid_ref(id, kind.graphql_type)
        return await info.context.change(
            lambda ctx: records.archive(ctx, kind, record_id, expected_version), found.of
        )

    result = _result(f"Archive{kind.pascal}Result", found.payload, ChangeErrors)
    parameters = [
        INFO,
        ("id", IdArgument, inspect.Parameter.empty),
        ("expected_version", int | None, None),
    ]
    description = kind.docs.archive or f"Archive {kind.a_word}: readable by id, no longer listed."
    return _mutation(_signed(resolve, parameters, result), description)


def _operations() -> tuple[type, type]:
    """The Query and Mutation fields of every record type, in ``PROJECT_RECORDS`` order."""
    queries: dict[str, StrawberryField] = {}
    mutations: dict[str, StrawberryField] = {}
    for kind in PROJECT_RECORDS:
        found = TYPES[kind.name]
        queries[_HUMPS.sub("_", kind.graphql_type).lower()] = _lookup(found)
        if kind.list_query:
            queries[kind.plural.replace("-", "_")] = _list(found)
        mutations[f"{kind.create_verb}_{kind.name}"] = _create(found)
        if kind.updatable:
            mutations[f"update_{kind.name}"] = _update(found)
        for action in kind.actions:
            mutations[f"{action.verb}_{kind.name}"] = _act(found, action)
        if kind.archivable:
            mutations[f"archive_{kind.name}"] = _archive(found)
    return (
        strawberry.type(_made("RecordsQuery", dict(queries))),
        strawberry.type(_made("RecordsMutation", dict(mutations))),
    )


RecordsQuery, RecordsMutation = _operations()
