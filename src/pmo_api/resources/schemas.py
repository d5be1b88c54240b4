"""The Pydantic shapes of a declared resource, derived from its declaration (a
``ResourceType``, or a project's ``RecordType``).

``<Name>Create``: the fields a client writes on create, with their limits and
defaults. ``<Name>Update``: the fields it writes on update, each optional ("not sent"
is not null: ``Patch``), the ones that may not be null stated so. ``<Name>Read``: id,
the parent's id (a project record's ``project_id``), every field as reads show it, the
derived values, version and timestamps. ``<Name>Filter``: the declared filters, the
sort fields, the ranges kept in order.

They live here, importable by name (``from pmo_api.resources.schemas import RiskRead``,
once the type is declared), and are what both doors and the contract use.
"""

from __future__ import annotations

import types
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import ConfigDict, model_validator
from pydantic import Field as Limits
from pydantic.fields import FieldInfo

from pmo_api.core.schemas import Input, ListFilter, Patch, Read, dates_out_of_order
from pmo_api.resources.fields import REQUIRED, allows_none

if TYPE_CHECKING:
    from pmo_api.resources.declaration import Declared

_SHAPES: dict[str, type[Any]] = {}


class DeclaredFilter(Input):
    """A declared list's filter: ``sort_fields`` (stated in the contract) and the ranges
    whose upper bound may not be below the lower. Beside the declared filters, what
    every list of records the server keeps that way has (``ListFilter``):
    ``include_archived`` and ``updated_since``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    json_body: ClassVar[bool] = False

    sort_fields: ClassVar[tuple[str, ...]] = ()
    sort_note: ClassVar[str | None] = None
    """What the contract says of a sort beyond its name (a relevance to a search)."""
    ranges: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _ranges_in_order(self) -> Self:
        for lower, upper in self.ranges:
            low, high = getattr(self, lower), getattr(self, upper)
            if low is not None and high is not None and high < low:
                raise dates_out_of_order(upper, lower)
        return self


class _InOrder(Input):
    """A create body whose (start, end) pairs may not end before they start."""

    in_order: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        for start, end in self.in_order:
            first, last = getattr(self, start), getattr(self, end)
            if first is not None and last is not None and last < first:
                raise dates_out_of_order(end, start)
        return self


def _model(
    name: str,
    base: type[Any],
    fields: dict[str, tuple[Any, FieldInfo]],
    namespace: dict[str, Any] | None = None,
) -> type[Any]:
    """A Pydantic model class made as a class statement would make it."""
    body: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__annotations__": {field: annotation for field, (annotation, _) in fields.items()},
        **{field: info for field, (_, info) in fields.items()},
    }
    for key, value in (namespace or {}).items():
        if key == "__annotations__":
            body["__annotations__"].update(value)
        else:
            body[key] = value
    model = types.new_class(name, (base,), {}, lambda ns: ns.update(body))
    if name in _SHAPES:
        raise ValueError(f"two declarations derive a schema named {name}")
    _SHAPES[name] = model
    return model


def _info(description: str | None, **kwargs: Any) -> FieldInfo:
    """A field's info; no description keeps the one its type carries (``Factor``)."""
    if description is not None:
        kwargs["description"] = description
    info: FieldInfo = Limits(**kwargs)
    return info


def shapes_of(kind: Declared) -> tuple[type[Input], type[Patch], type[Read], type[Any]]:
    prefix = kind.pascal
    create_fields: dict[str, tuple[Any, FieldInfo]] = {}
    for f in kind.fields:
        if not f.create:
            continue
        if f.default is REQUIRED:
            create_fields[f.name] = (f.type, _info(f.description))
        else:
            create_fields[f.name] = (f.type, _info(f.description, default=f.default))
    extra: dict[str, Any] = {}
    if kind.create_schema is not None:
        extra["model_config"] = {"extra": "forbid", "json_schema_extra": dict(kind.create_schema)}
    if kind.docs.create_body is not None:
        extra["__doc__"] = kind.docs.create_body
    # A resource's body keeps its dates in order as it is validated (a project record
    # type's use cases check its own: records/service.check_in_order).
    base = _InOrder if kind.parent is None and kind.in_order else Input
    if base is _InOrder:
        extra["__annotations__"] = {"in_order": ClassVar[tuple[tuple[str, str], ...]]}
        extra["in_order"] = kind.in_order
    create = _model(f"{prefix}Create", base, create_fields, extra)

    update_fields = {
        f.name: (f.type | None, _info(f.description, default=None))
        for f in kind.fields
        if f.update and kind.updatable
    }
    non_nullable = frozenset(
        f.name for f in kind.fields if f.update and kind.updatable and not allows_none(f.type)
    )
    update = _model(
        f"{prefix}Update",
        Patch,
        update_fields,
        {
            "__annotations__": {"non_nullable": ClassVar[frozenset[str]]},
            "non_nullable": non_nullable,
            **({"__doc__": kind.docs.update_body} if kind.docs.update_body else {}),
        },
    )

    read_fields: dict[str, tuple[Any, FieldInfo]] = {"id": (uuid.UUID, _info(None))}
    if kind.parent is not None:
        read_fields[kind.parent.column] = (uuid.UUID, _info(None))
    for f in kind.fields:
        if f.stored:
            read_fields[f.name] = (f.read_type, _info(f.description))
    for d in kind.derived:
        read_fields[d.name] = (d.type, _info(d.description))
    envelope = {
        "version": (int, _info(None)),
        "created_at": (datetime, _info(None)),
        "updated_at": (datetime, _info(None)),
        "archived_at": (datetime | None, _info(None)),
    }
    read_fields |= {name: envelope[name] for name in kind.envelope}
    # A declared archive column (an API key's revoked_at) shows last, as archived_at.
    if kind.archivable and kind.archive_column in read_fields:
        read_fields[kind.archive_column] = read_fields.pop(kind.archive_column)
    read = _model(f"{prefix}Read", Read, read_fields)

    filter_fields: dict[str, tuple[Any, FieldInfo]] = {}
    every_list = ListFilter.model_fields
    if "archived_at" in kind.envelope and kind.hides_archived:
        filter_fields["include_archived"] = (bool, every_list["include_archived"])
    if kind.timestamps:
        info = every_list["updated_since"]
        filter_fields["updated_since"] = (info.annotation, info)
    filter_fields |= {
        f.name: (
            (f.annotation | None, _info(f.description, default=None, **f.limits))
            if f.default is None
            else (f.annotation, _info(f.description, default=f.default, **f.limits))
        )
        for f in kind.filter_list
    }
    filter_ = _model(
        f"{prefix}Filter",
        DeclaredFilter,
        filter_fields,
        {"sort_fields": kind.sort_names, "sort_note": _ranked_note(kind), "ranges": kind.ranges},
    )
    return create, update, read, filter_


def _ranked_note(kind: Declared) -> str | None:
    ranked = kind.ranked
    if ranked is None:
        return None
    return (
        f"{ranked.name}: how well a record matches {ranked.by} (-{ranked.name}: the closest "
        f"first); it needs {ranked.by}, and is the order when {ranked.by} is sent and no "
        "sort is asked."
    )


def created_of(kind: Any) -> type[Read]:
    """A create's answer (``ApiKeyCreated``): the representation, and what it shows once
    (``shown_once``); the representation itself when there is nothing such."""
    if not kind.shown_once:
        return kind.read  # type: ignore[no-any-return]
    fields = {item.name: (item.type, _info(item.description)) for item in kind.shown_once}
    doc = f"The new {kind.words}: its representation, and what is shown only now."
    return _model(f"{kind.pascal}Created", kind.read, fields, {"__doc__": doc})


def created_under(kind: Any, parent: str, field: str) -> type[Input]:
    """The create body of a resource made under its parent's record
    (``PersonCertificationCreate``): the create's fields but the one naming the parent,
    which the path gives, with the create's own checks."""
    create = kind.create
    fields = {
        name: (info.annotation, info) for name, info in create.model_fields.items() if name != field
    }
    namespace: dict[str, Any] = {"model_config": create.model_config}
    if kind.docs.create_body is not None:
        namespace["__doc__"] = kind.docs.create_body
    base = create.__bases__[0]
    if base is _InOrder:
        namespace["__annotations__"] = {"in_order": ClassVar[tuple[tuple[str, str], ...]]}
        namespace["in_order"] = kind.in_order
    made: type[Input] = _model(f"{parent}{kind.pascal}Create", base, fields, namespace)
    return made


def list_item_of(kind: Any) -> type[Read]:
    """How a list shows a resource (``ProjectListItem``): its representation, and the
    values its list computes beside it (``listed``); the representation itself when
    there are none."""
    if not kind.listed:
        return kind.read  # type: ignore[no-any-return]
    fields = {item.name: (item.type, _info(item.description)) for item in kind.listed}
    doc = (
        f"{kind.a_word.capitalize()} as lists show it: its representation plus values "
        "computed in the list's own statement (a GET answers the representation alone, "
        "which its ETag covers)."
    )
    return _model(f"{kind.pascal}ListItem", kind.read, fields, {"__doc__": doc})


def __getattr__(name: str) -> type[Any]:
    """A derived shape by its name (``RiskRead``), once its type is declared."""
    try:
        return _SHAPES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
