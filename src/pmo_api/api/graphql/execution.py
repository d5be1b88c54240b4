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


_Step = tuple[str, str | None, Callable[[Any, Any], Any] | None, Callable[[Any], Any]]
"""One field of a plain selection: its response name, the attribute it reads or the
plain resolver it calls (neither: ``__typename``, answered by the completion), and the
completion of its value."""


class PlainDataExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, answering plain selections directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_info = _Context(self.context_value)
        # Mutations run their fields one after another, subscriptions per event: only
        # queries are answered here.
        self._plain_operation = self.operation.operation is OperationType.QUERY
        # The plan of each selection (a grouped field set, which graphql-core builds
        # once per request and shape, for every object of that shape), or None when it
        # is not plain data: made once per request, used for every object.
        # Each entry holds its field set too, so that its id is not reused meanwhile.
        self._plans: dict[int, tuple[Any, list[_Step] | None]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self._plain_operation:
            plan = self._plan(parent_type, grouped_field_set)
            if plan is not None:
                try:
                    return self._run(plan, source_value)
                except Exception:  # _NotPlain, or for the ordinary execution to report
                    self._plans[id(grouped_field_set)] = (grouped_field_set, None)
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def _run(self, plan: list[_Step], source: Any) -> dict[str, Any]:
        results: dict[str, Any] = {}
        info = self._plain_info
        for response_name, attribute, function, complete in plan:
            if attribute is not None:
                value = getattr(source, attribute)
            elif function is not None:
                value = function(source, info)
            else:
                value = None
            results[response_name] = complete(value)
        return results

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step] | None:
        key = id(grouped_field_set)
        known = self._plans.get(key)
        if known is not None:
            return known[1]
        plan: list[_Step] | None = []
        try:
            for response_name, details in grouped_field_set.items():
                plan.append(self._step(parent_type, response_name, details))  # type: ignore[union-attr]
        except _NotPlain:
            plan = None
        self._plans[key] = (grouped_field_set, plan)
        return plan

    def _step(self, parent_type: GraphQLObjectType, response_name: str, details: Any) -> _Step:
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            type_name = parent_type.name
            return (response_name, None, None, lambda _: type_name)
        if node.arguments or node.directives:
            raise _NotPlain
        reader = _reader(parent_type, name)
        if reader is None:
            raise _NotPlain
        attribute, function = reader
        return (
            response_name,
            attribute,
            function,
            self._completion(parent_type.fields[name].type, details),
        )

    def _completion(self, return_type: GraphQLOutputType, details: Any) -> Callable[[Any], Any]:
        """How a value of ``return_type`` is completed, as graphql-core would; raises
        _NotPlain where the ordinary execution must take over."""
        required = isinstance(return_type, GraphQLNonNull)
        if isinstance(return_type, GraphQLNonNull):
            return_type = return_type.of_type
        inner: Callable[[Any], Any]
        if isinstance(return_type, GraphQLScalarType | GraphQLEnumType):
            coerce = return_type.coerce_output_value

            def inner(value: Any) -> Any:
                coerced = coerce(value)
                if coerced is None or coerced is Undefined:
                    raise _NotPlain
                return coerced

        elif isinstance(return_type, GraphQLList):
            item = self._completion(return_type.of_type, details)

            def inner(value: Any) -> Any:
                if not isinstance(value, list | tuple):
                    raise _NotPlain  # iterables of other kinds: the ordinary way
                return [item(one) for one in value]

        elif isinstance(return_type, GraphQLObjectType):
            inner = self._object_completion(return_type, details)
        else:
            raise _NotPlain  # an interface or a union: resolved the ordinary way
        is_awaitable = self.is_awaitable

        def complete(value: Any) -> Any:
            if value is None:
                if required:
                    raise _NotPlain
                return None
            if is_awaitable(value):
                raise _NotPlain  # a loader's future: not loaded yet
            return inner(value)

        return complete

    def _object_completion(
        self, object_type: GraphQLObjectType, details: Any
    ) -> Callable[[Any], Any]:
        is_type_of = object_type.is_type_of
        definition = object_type.extensions.get("strawberry-definition")
        # The type's own class: an object of exactly that class is of the type, as
        # Strawberry's is_type_of would answer, without asking it.
        origin = getattr(definition, "origin", None)
        plan: list[_Step] | None = None

        def complete(value: Any) -> Any:
            nonlocal plan
            if (
                is_type_of is not None
                and type(value) is not origin
                and not is_type_of(value, _NO_INFO)
            ):
                raise _NotPlain
            if plan is None:
                grouped, deferred, _ = self.collect_subfields(object_type, details)
                plan = None if deferred else self._plan(object_type, grouped)
                if plan is None:
                    raise _NotPlain
            return self._run(plan, value)

        return complete
