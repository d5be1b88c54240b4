"""Plain data answered without a resolver call per field.

graphql-core executes every field of every object the same way: a resolve-info object,
the field's resolver (Strawberry's wrapper around it: an ``Info``, its arguments, its
extensions), then the completion of the value it returned. On a page of fifty projects
with their portfolio and manager that is some four hundred fields, each a few
microseconds of machinery around a ``getattr``, and most of a GraphQL request's time.

``PlainDataExecutionContext`` answers an object's selection directly when all of it is
plain data: every field is a stored attribute of the Strawberry object (a "basic"
field) or a synchronous resolver declared ``plain`` (it takes no arguments and only
reads ``info.context``), and the values are already there (what the page query
loaded, or what it preloaded for all its nodes). Leaves are serialised by their own
GraphQL type, as graphql-core does; nested objects are answered the same way.

Anything else is left to graphql-core, unchanged, and the object's whole selection is
then executed the ordinary way: a field with arguments or directives, an abstract
type, a resolver that is not plain, a value not loaded yet (a loader's future), a null
where the schema promises a value, a resolver that raises. The answer is therefore the
same as the ordinary execution's, errors included; only the way to it is shorter.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    OperationType,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

F = TypeVar("F", bound=Callable[..., Any])

PLAIN = "__pmo_plain_resolver__"


def plain(resolver: F) -> F:
    """Mark a resolver as plain: synchronous, no arguments (but ``info``, if it takes
    it: then it reads only ``info.context``), without side effects. Its field may then
    be answered without Strawberry's per-field machinery (see the module's docstring);
    when it returns a loader's future, the ordinary execution takes over."""
    setattr(resolver, PLAIN, True)
    return resolver


class _NotPlain(Exception):
    """This selection is not plain data: execute it the ordinary way."""


_NO_INFO: Any = None
"""Strawberry's ``is_type_of`` checks the value alone; it is given no resolve info."""


class _Context:
    """What a plain resolver reads of ``info``."""

    __slots__ = ("context",)

    def __init__(self, context: Any) -> None:
        self.context = context


# How each field of each object type is read: (python attribute name, None) for a
# stored attribute, (None, function) for a plain resolver, None when neither. Built
# from the schema's types, which live as long as the process.
_FieldReader = tuple[str | None, Callable[..., Any] | None] | None
_READERS: dict[tuple[int, str], tuple[GraphQLObjectType, _FieldReader]] = {}


def _reader(parent_type: GraphQLObjectType, name: str) -> _FieldReader:
    key = (id(parent_type), name)
    known = _READERS.get(key)
    if known is not None and known[0] is parent_type:
        return known[1]
    reader: _FieldReader = None
    field = parent_type.fields.get(name)
    definition = None if field is None else field.extensions.get("strawberry-definition")
    if definition is not None and not field.args and not definition.extensions:
        resolver = definition.base_resolver
        if resolver is None:
            if getattr(definition, "default_resolver", getattr) is getattr:
                reader = (definition.python_name, None)
        else:
            function = resolver.wrapped_func
            if getattr(function, PLAIN, False) and not inspect.iscoroutinefunction(function):
                takes_info = len(inspect.signature(function).parameters) > 1
                reader = (None, function if takes_info else _without_info(function))
    _READERS[key] = (parent_type, reader)
    return reader


def _without_info(function: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def call(source: Any, _info: Any) -> Any:
        return function(source)

    return call


class PlainDataExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, answering plain selections directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_info = _Context(self.context_value)
        # Mutations run their fields one after another, subscriptions per event: only
        # queries are answered here.
        self._plain_operation = self.operation.operation is OperationType.QUERY
        # Selections (grouped field sets, which graphql-core builds once per request
        # and shape) found not to be plain: not tried again in this request.
        self._not_plain: set[int] = set()

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self._plain_operation and id(grouped_field_set) not in self._not_plain:
            try:
                return self._fields(parent_type, source_value, grouped_field_set)
            except _NotPlain:
                self._not_plain.add(id(grouped_field_set))
            except Exception:
                self._not_plain.add(id(grouped_field_set))
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _fields(
        self, parent_type: GraphQLObjectType, source: Any, grouped_field_set: Any
    ) -> dict[str, Any]:
        results: dict[str, Any] = {}
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            name = node.name.value
            if name == "__typename":
                results[response_name] = parent_type.name
                continue
            if node.arguments or node.directives:
                raise _NotPlain
            reader = _reader(parent_type, name)
            if reader is None:
                raise _NotPlain
            attribute, function = reader
            if attribute is not None:
                value = getattr(source, attribute)
            else:
                value = function(source, self._plain_info)  # type: ignore[misc]
                if self.is_awaitable(value):
                    raise _NotPlain
            field_type = parent_type.fields[name].type
            results[response_name] = self._complete(field_type, details, value)
        return results

    def _complete(self, return_type: GraphQLOutputType, details: Any, value: Any) -> Any:
        if isinstance(return_type, GraphQLNonNull):
            if value is None:
                raise _NotPlain
            return_type = return_type.of_type
        if value is None:
            return None
        if isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
            coerced = return_type.coerce_output_value(value)
            if coerced is None or coerced is Undefined:
                raise _NotPlain
            return coerced
        if isinstance(return_type, GraphQLList):
            if not isinstance(value, list | tuple):
                raise _NotPlain  # iterables of other kinds: the ordinary way
            item_type = return_type.of_type
            return [self._complete(item_type, details, item) for item in value]
        if isinstance(return_type, GraphQLObjectType):
            if return_type.is_type_of is not None and not return_type.is_type_of(value, _NO_INFO):
                raise _NotPlain
            if self.is_awaitable(value):
                raise _NotPlain
            grouped, deferred, _ = self.collect_subfields(return_type, details)
            if deferred or id(grouped) in self._not_plain:
                raise _NotPlain
            try:
                return self._fields(return_type, value, grouped)
            except _NotPlain:
                self._not_plain.add(id(grouped))
                raise
        raise _NotPlain  # an interface or a union: resolved the ordinary way
