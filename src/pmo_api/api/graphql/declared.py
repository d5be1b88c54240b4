"""How the GraphQL door makes its types from a declaration (a top-level
``ResourceType`` or a project's ``RecordType``): Python types to GraphQL types, the
node type with its stored fields and references, the create, update and filter
inputs, payloads and result unions. ``resources.py`` (people, portfolios...) and
``records.py`` (a project's records) build on these."""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

import enum
import functools
import inspect
import re
import types
import typing
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import strawberry
from pydantic import AwareDatetime, BaseModel
from strawberry.scalars import JSON
from strawberry.types.field import StrawberryField

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.errors import ChangeErrors, parse_model
from pmo_api.api.graphql.execution import plain
from pmo_api.api.graphql.inputs import plain_value, provided
from pmo_api.api.graphql.relay import (
    AFTER_DESCRIPTION,
    FIRST_DESCRIPTION,
    Node,
    camel_case,
    to_global_id,
)
from pmo_api.api.graphql.scalars import Money, graphql_enum
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import DEFAULT_LIMIT
from pmo_api.resources.declaration import Declared
from pmo_api.resources.fields import REQUIRED, Field, allows_none

ID_DESCRIPTION = "Global id or UUID."
IdArgument = Annotated[strawberry.ID, strawberry.argument(description=ID_DESCRIPTION)]
KeyedArgument = Annotated[strawberry.ID, strawberry.argument(description="Global id, UUID or key.")]
FirstArgument = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
AfterArgument = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]
KEYWORD = inspect.Parameter.KEYWORD_ONLY


# -- from Python to GraphQL ------------------------------------------------------------------


def graphql_type(annotation: Any, *, reference: bool = False, written: bool = False) -> Any:
    """The GraphQL type of a field's Python type: its limits dropped (GraphQL states
    none), money as ``Money``, enums registered, a reference as ``ID`` (a global id or
    a UUID), a document (a Pydantic model) as an object type of its own, or, for what is
    ``written``, an input type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return graphql_type(inner, reference=reference, written=written) | None
    if origin is typing.Annotated:
        return graphql_type(typing.get_args(annotation)[0], reference=reference, written=written)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return list[graphql_type(item, written=written)]  # type: ignore[misc]
    if origin is dict or annotation is dict:
        return JSON
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return document_type(annotation, written=written)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        graphql_enum(annotation)
        return annotation
    if annotation is Decimal:
        return Money
    if annotation is uuid.UUID and reference:
        return strawberry.ID
    if annotation in (str, int, bool, float, date, datetime, uuid.UUID):
        return annotation
    if annotation is AwareDatetime:
        return datetime
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


def signed(
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


def field(resolve: Callable[..., Any], description: str | None) -> StrawberryField:
    made: StrawberryField = strawberry.field(resolver=resolve, description=description)
    return made


def mutation(resolve: Callable[..., Any], description: str | None) -> StrawberryField:
    made: StrawberryField = strawberry.mutation(resolver=resolve, description=description)
    return made


def made(
    name: str, namespace: dict[str, Any], bases: tuple[type, ...] = (), module: str = __name__
) -> type:
    """A class made as a class statement of ``module`` would make it."""
    body = {"__module__": module, "__qualname__": name, **namespace}
    return types.new_class(name, bases, {}, lambda ns: ns.update(body))


HUMPS = re.compile(r"(?<=[a-z])(?=[A-Z])")


def lower(name: str) -> str:
    return name[:1].lower() + name[1:]


def input_type(name: str, description: str, fields: Mapping[str, tuple[Any, Any]]) -> type:
    """An input type; ``fields``: name -> (GraphQL type, strawberry field)."""
    namespace: dict[str, Any] = {
        "__annotations__": {field: annotation for field, (annotation, _) in fields.items()},
        **{field: value for field, (_, value) in fields.items()},
    }
    return strawberry.input(made(name, namespace), description=description)


def optional(annotation: Any, description: str | None) -> tuple[Any, Any]:
    """A field that may be left out ("not sent" is not null: ``inputs.provided``)."""
    return annotation | None, strawberry.field(default=strawberry.UNSET, description=description)


def written(f: Field) -> Any:
    return graphql_type(f.type, reference=f.refers_to is not None, written=True)


def create_input(kind: Declared) -> type:
    """Required fields first, then the others in their order."""
    required: dict[str, tuple[Any, Any]] = {}
    left_out: dict[str, tuple[Any, Any]] = {}
    for f in kind.fields:
        if not f.create:
            continue
        if f.default is REQUIRED and not allows_none(f.type):
            required[f.name] = (written(f), strawberry.field(description=described(f)))
        else:
            left_out[f.name] = optional(written(f), described(f))
    ids = [camel_case(f.name) for f in kind.fields if f.create and f.refers_to is not None]
    note = f" {', '.join(ids)}: a global id or a UUID." if ids else ""
    name = f"{kind.create_verb.title()}{kind.pascal}Input"
    return input_type(
        name, kind.docs.create_body or f"A new {kind.words}.{note}", required | left_out
    )


def update_input(kind: Declared) -> type:
    fields = {f.name: optional(written(f), described(f)) for f in kind.fields if f.update}
    description = kind.docs.update_body or "Only the fields sent change; null clears where allowed."
    return input_type(f"Update{kind.pascal}Input", description, fields)


def filter_input(kind: Declared, *, ids: bool = False) -> type:
    """The filter of a type's top-level list: its declared filters; with ``ids``, a
    filter by id takes a global id or a UUID (``ID``)."""
    fields = {
        spec.name: (
            optional(graphql_type(spec.annotation, reference=ids), spec.description)
            if spec.default is None
            else (
                graphql_type(spec.annotation),
                strawberry.field(default=spec.default, description=spec.description),
            )
        )
        for spec in kind.filter_list
    }
    # Non-null with its default: the filter takes no null here (as REST takes none).
    if "include_archived" in kind.filter.model_fields:
        fields["include_archived"] = (bool, strawberry.field(default=False))
    if "updated_since" in kind.filter.model_fields:
        fields["updated_since"] = optional(datetime, None)
    description = f"Filters for {kind.words} lists; all must match."
    return input_type(f"{kind.graphql_type}Filter", description, fields)


def result(name: str, payload: type, errors: Any) -> Any:
    """A mutation's result union: the payload or one of the typed errors."""
    members = (payload, *typing.get_args(errors))
    return Annotated[typing.Union[members], strawberry.union(name)]  # noqa: UP007


# -- documents -------------------------------------------------------------------------------


@functools.cache
def document_type(model: type[BaseModel], *, written: bool = False) -> type:
    """A document held in a field (a person's skills): an object type named as the
    Pydantic model, or its input type (``SkillInput``); described by its docstring."""
    fields = {
        name: (
            graphql_type(info.annotation, written=written),
            strawberry.field(description=info.description),
        )
        for name, info in model.model_fields.items()
    }
    if written:
        # What the document gives a default may be left out (the model fills it in);
        # the required fields come first, as in every input.
        required = {n: fields[n] for n, info in model.model_fields.items() if info.is_required()}
        left_out = {
            n: optional(fields[n][0], info.description)
            for n, info in model.model_fields.items()
            if not info.is_required()
        }
        return input_type(f"{model.__name__}Input", model.__doc__ or "", required | left_out)
    namespace: dict[str, Any] = {
        "__annotations__": {name: annotation for name, (annotation, _) in fields.items()},
        **{name: value for name, (_, value) in fields.items()},
    }
    return strawberry.type(made(model.__name__, namespace), description=model.__doc__)


def _documents_of(f: Field) -> type[BaseModel] | None:
    """The Pydantic model of a field holding a list of documents, if it is one."""
    return _model_in(f.read_type)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The Pydantic model an annotation holds (itself, in a list, optional...), if any."""
    for part in (annotation, *typing.get_args(annotation)):
        for inner in (part, *typing.get_args(part)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _document(model: type[BaseModel], stored: Mapping[str, Any]) -> Any:
    """A stored document (a dict) as the object of its GraphQL type, the documents it
    holds too (a policy rule's ``check``); a field it was stored without shows its
    default."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        value = stored[name] if name in stored else info.get_default(call_default_factory=True)
        inner = _model_in(info.annotation)
        if inner is not None and value is not None:
            if isinstance(value, list):
                value = [_document(inner, item) for item in value]
            else:
                value = _document(inner, value)
        values[name] = value
    return document_type(model)(**values)


def _document_list(f: Field) -> StrawberryField:
    """A field holding documents, as stored (a list of dicts, or one dict or null): made
    into the objects of their type only when a query asks for them."""
    model = _documents_of(f)
    assert model is not None
    column = f.name

    @plain
    def resolve(root: Any) -> Any:
        stored = getattr(root, column)
        if stored is None or isinstance(stored, Mapping):
            return None if stored is None else _document(model, stored)
        return [_document(model, item) for item in stored]

    return field(signed(resolve, [ROOT], graphql_type(f.read_type)), described(f))


# -- nodes -----------------------------------------------------------------------------------


@plain
def _uuid(root: Any) -> uuid.UUID:
    found: uuid.UUID = root.id
    return found


@strawberry.type
class Identified(Node):
    """The fields of every declared type's GraphQL type (``id`` is made with each type)."""

    uuid: UUID = strawberry.field(resolver=_uuid, description="The REST id.")


@strawberry.type
class Stored(Identified):
    """The fields of a type whose records the server keeps versioned, stamped and
    archivable (``Declared.envelope``)."""

    version: int = strawberry.field(description="Pass as `expectedVersion` to update safely.")
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


def node_type(
    kind: Declared,
    *,
    base: type,
    is_type_of: Callable[[Any], bool],
    reference: Callable[[Field], StrawberryField],
    own: type | None = None,
    module: str = __name__,
) -> type:
    """A declared type's node: ``id`` (global), the base's fields, then each declared
    field (a reference shown by ``reference``: ``owner_id`` as ``owner``; documents as
    their objects), the derived values, and the strawberry fields of ``own`` (what the
    door shows of the type its own way). It reads the attributes of what its loaders
    return (rows or ORM objects): nothing is copied per row."""
    name = kind.graphql_type

    @plain
    def global_id(root: Any) -> str:
        return to_global_id(name, root.id)

    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__annotations__": annotations,
        "id": field(
            signed(global_id, [ROOT], strawberry.ID),
            "Opaque global id (Relay). The REST id is `uuid`.",
        ),
        "is_type_of": classmethod(lambda _cls, obj, _info: is_type_of(obj)),
    }
    for f in kind.fields:
        if not f.graphql or not f.stored:
            continue
        if f.refers_to is not None:
            namespace[f.refers_to.shown_as or f.name.removesuffix("_id")] = reference(f)
        elif _documents_of(f) is not None:
            namespace[f.name] = _document_list(f)
        else:
            annotations[f.name] = graphql_type(f.read_type)
            if (description := described(f)) is not None:
                namespace[f.name] = strawberry.field(description=description)
    for d in kind.derived:
        annotations[d.name] = graphql_type(d.type)
        if d.description is not None:
            namespace[d.name] = strawberry.field(description=d.description)
    for item in getattr(kind, "listed", ()):
        if allows_none(item.type) and (own is None or item.name not in vars(own)):
            namespace[item.name] = _listed_field(item.name, item.type, item.description)
    if own is not None:
        namespace.update(
            {key: value for key, value in vars(own).items() if isinstance(value, StrawberryField)}
        )
    return strawberry.type(made(name, namespace, (base,), module), description=kind.docs.summary)


def _listed_field(name: str, annotation: Any, description: str | None) -> StrawberryField:
    """A value a list computes beside each record (a lesson's ``relevance`` to a search):
    null on a record read any other way (``allows_none``: only such values are shown
    here; a count every read can give has a field of its door's own)."""

    @plain
    def resolve(root: Any) -> Any:
        return getattr(root, name, None)

    return field(signed(resolve, [ROOT], graphql_type(annotation)), description)


def payload_type(kind: Declared, node: type, module: str = __name__) -> type:
    """``PersonPayload { person: Person! }``."""
    name = kind.payload or f"{kind.graphql_type}Payload"
    return strawberry.type(made(name, {"__annotations__": {lower(kind.pascal): node}}, (), module))


RESOURCES_MODULE = "pmo_api.api.graphql.resources"
"""Where the top-level resources' types are made (and found lazily by name)."""


def reference_field(f: Field) -> StrawberryField:
    """``owner``: the record ``owner_id`` names (through its type's node loader), or
    null. The type is a top-level resource's, found by name when the schema is built."""
    assert f.refers_to is not None
    node, column = f.refers_to.node, f.name
    shown = Annotated[node, strawberry.lazy(RESOURCES_MODULE)]  # type: ignore[valid-type]

    async def resolve(root: Any, info: GqlInfo) -> Any:
        value = getattr(root, column)
        return None if value is None else await info.context.loaders.by_type[node].load(value)

    return field(signed(resolve, [ROOT, INFO], typing.Optional[shown]), described(f))  # noqa: UP045


# -- what the door makes of one declared type ------------------------------------------------


@dataclass(frozen=True)
class DeclaredTypes:
    """What the door makes of one declared type: its node, connection, inputs and
    payload (``records.TYPES``, ``resources.TYPES``)."""

    kind: Any
    node: type
    connection: Any
    create_input: type
    update_input: type | None
    filter_input: type | None
    payload: type

    def present(self, found: Any) -> Any:
        """What the node reads for a record a service answered (as it is, by default)."""
        return found

    def of(self, found: Any) -> Any:
        """The payload of a mutation's record (``RiskPayload(risk=...)``)."""
        return self.payload(**{lower(self.kind.pascal): self.present(found)})

    @property
    def references(self) -> dict[str, str | None]:
        """The inputs' reference fields and the type each names (for ``provided``)."""
        return {f.name: f.refers_to.node for f in self.kind.fields if f.refers_to and f.written}


def page_parameters(filter_input: Any) -> list[tuple[str, Any, Any]]:
    """A list's ``first``, ``after``, ``filter`` and ``sort`` arguments."""
    return [
        ("first", FirstArgument, DEFAULT_LIMIT),
        ("after", AfterArgument, None),
        ("filter", typing.Optional[filter_input], None),  # noqa: UP045  (made at run time)
        ("sort", str | None, None),
    ]


def sorts_of(kind: Declared) -> tuple[list[str], str]:
    """A list's sort fields as GraphQL names them, and its default (``-`` descending)."""
    default = kind.default_sort
    default = ("-" if default.startswith("-") else "") + camel_case(default.lstrip("-"))
    return [camel_case(name) for name in kind.sort_names], default


ChangeRun = Callable[[ServiceContext, Any, Any, "int | None"], Awaitable[Any]]
ArchiveRun = Callable[[ServiceContext, Any, "int | None"], Awaitable[Any]]


def update_mutation(
    found: DeclaredTypes, argument: Any, to_ref: Callable[[str], Any], run: ChangeRun
) -> StrawberryField:
    """``update<T>(id, input, expectedVersion)``: ``run`` is the use case (context, the
    reference ``to_ref`` made of the id, the parsed patch, the version expected)."""
    kind = found.kind

    async def resolve(info: GqlInfo, id: str, input: Any, expected_version: int | None) -> Any:
        ref = to_ref(id)
        patch = parse_model(kind.update, provided(input, found.references))
        return await info.context.change(
            lambda ctx: run(ctx, ref, patch, expected_version), found.of
        )

    parameters = [
        INFO,
        ("id", argument, inspect.Parameter.empty),
        ("input", found.update_input, inspect.Parameter.empty),
        ("expected_version", int | None, None),
    ]
    union = result(f"Update{kind.pascal}Result", found.payload, ChangeErrors)
    description = kind.docs.update or f"Change the fields sent of {kind.a_word}."
    return mutation(signed(resolve, parameters, union), description)


def archive_mutation(
    found: DeclaredTypes, argument: Any, to_ref: Callable[[str], Any], run: ArchiveRun
) -> StrawberryField:
    """``archive<T>(id, expectedVersion)``: ``run`` is the use case."""
    kind = found.kind

    async def resolve(info: GqlInfo, id: str, expected_version: int | None) -> Any:
        ref = to_ref(id)
        return await info.context.change(lambda ctx: run(ctx, ref, expected_version), found.of)

    parameters = [
        INFO,
        ("id", argument, inspect.Parameter.empty),
        ("expected_version", int | None, None),
    ]
    union = result(f"Archive{kind.pascal}Result", found.payload, ChangeErrors)
    description = kind.docs.archive or f"Archive {kind.a_word}: readable by id, no longer listed."
    return mutation(signed(resolve, parameters, union), description)


def action_mutation(
    found: DeclaredTypes, argument: Any, to_ref: Callable[[str], Any], action: Any, run: ChangeRun
) -> StrawberryField:
    """``<verb><T>(id, <the action input's fields>, expectedVersion)`` (approveChange,
    publishPolicy): ``action`` is a declared action (its verb, input and description),
    ``run`` its use case (context, reference, parsed input or None, version)."""
    kind, model = found.kind, action.input

    async def resolve(info: GqlInfo, id: str, expected_version: int | None, **sent: Any) -> Any:
        ref = to_ref(id)
        values = {name: plain_value(value) for name, value in sent.items()}
        body = None if model is None else parse_model(model, values, "query")
        return await info.context.change(
            lambda ctx: run(ctx, ref, body, expected_version), found.of
        )

    parameters: list[tuple[str, Any, Any]] = [INFO, ("id", argument, inspect.Parameter.empty)]
    for name, info in (model.model_fields if model is not None else {}).items():
        annotation = graphql_type(info.annotation, written=True)
        if info.description is not None:
            annotation = Annotated[annotation, strawberry.argument(description=info.description)]
        # A field the input requires is a required argument (no default); the others
        # default to null.
        parameters.append(
            (name, annotation, inspect.Parameter.empty if info.is_required() else None)
        )
    parameters.append(("expected_version", int | None, None))
    union = result(f"{action.verb.title()}{kind.pascal}Result", found.payload, ChangeErrors)
    return mutation(signed(resolve, parameters, union), action.graphql_description)
