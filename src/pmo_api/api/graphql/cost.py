"""What a GraphQL operation may cost, known before it runs.

Every field costs 1. A field that takes a page size (``first``: a connection, the
suggested lessons) multiplies the cost of everything selected beneath it by that size:
its ``first`` argument, a variable's value, or the field's default when neither is
given; a size the resolver would refuse counts as the largest it accepts
(``MAX_LIMIT``), since no page is ever larger. Fragments and inline fragments count
where they are spread. So ``projects(first: 50) { nodes { key risks(first: 10) {
nodes { title } } } }`` costs 1 + 50 x (1 + 1 + (1 + 10 x (1 + 1))) = 1,151.

``QueryCost`` (a schema extension) computes the cost of the operation a request
chose, with its variables, once validation has passed and before anything executes;
an operation over ``PMO_GRAPHQL_MAX_COST`` is refused with a GraphQL error whose
``extensions.code`` is ``query_too_expensive``, and nothing of it runs. Within the
limit, the cost is charged to the caller's rate-limit budget (``GraphQLContext.charge``,
set by the door): over budget, nothing runs either and the door answers 429. Every
answer whose cost was known reports it in the response's ``extensions``::

    {"cost": {"requested": 451, "limit": 50000}}

The cost is computed once per document, operation and values of the variables that
size a page (``CostTable``): a UI's queries are a handful of texts, so a request
usually finds its cost in a dictionary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.pyutils import Undefined
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from pmo_api.api.graphql.context import GraphQLContext
from pmo_api.core.pagination import DEFAULT_LIMIT, MAX_LIMIT

PAGE_SIZE_ARGUMENT: Final = "first"
TABLE_SIZE = 1024
"""Costs kept per process (documents x page-size values); cleared when full."""

_MISSING: Final = object()
"""A variable the request did not send (the field's own default applies)."""


class _Walk:
    """One computation of an operation's cost, with its variables."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables
        self.defaults = {
            d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
        }
        self.sizing: dict[str, Any] = {}
        """The variables that sized a page, with the value each had: the cost's key."""
        self._fragment_costs: dict[str, int] = {}

    def selection_set(self, parent: Any, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = parent if condition is None else self.schema.get_type(condition.name.value)
                total += self.selection_set(kind, selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        cost = self._fragment_costs.get(name)
        if cost is None:
            definition = self.fragments.get(name)
            if definition is None:  # validation refuses unknown fragments first
                return 0
            self._fragment_costs[name] = 0  # a cycle (refused by validation) adds nothing
            kind = self.schema.get_type(definition.type_condition.name.value)
            cost = self._fragment_costs[name] = self.selection_set(kind, definition.selection_set)
        return cost

    def field(self, parent: Any, node: FieldNode) -> int:
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(node.name.value)
        if definition is None:  # __typename, __schema, __type: their subtree as it is
            meta = self.schema.get_type("__Schema") if node.name.value == "__schema" else None
            if node.name.value == "__type":
                meta = self.schema.get_type("__Type")
            return 1 + self.selection_set(meta, node.selection_set)
        beneath = self.selection_set(get_named_type(definition.type), node.selection_set)
        argument = definition.args.get(PAGE_SIZE_ARGUMENT)
        if argument is None or not beneath:
            return 1 + beneath
        return 1 + self.page_size(node, argument.default_value) * beneath

    def page_size(self, node: FieldNode, default: Any) -> int:
        value: Any = _MISSING
        for given in node.arguments or ():
            if given.name.value != PAGE_SIZE_ARGUMENT:
                continue
            literal = given.value
            if isinstance(literal, VariableNode):
                name = literal.name.value
                value = self.variables.get(name, _MISSING)
                if value is _MISSING:
                    fallback = self.defaults.get(name)
                    if isinstance(fallback, IntValueNode):
                        value = int(fallback.value)
                    elif isinstance(fallback, NullValueNode):
                        value = None
                self.sizing[name] = value
            elif isinstance(literal, IntValueNode):
                value = int(literal.value)
            elif isinstance(literal, NullValueNode):
                value = None
        if value is _MISSING:
            value = default if default is not Undefined else None
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            return DEFAULT_LIMIT  # null is the default page; a non-number is refused later
        return max(0, min(value, MAX_LIMIT))


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> tuple[int, dict[str, Any]]:
    """The cost of the operation ``operation_name`` chooses in ``document`` (see the
    module's docstring), and the variables that sized its pages, with their values."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0, {}
    root = schema.get_root_type(operation.operation)
    walk = _Walk(schema, document, operation, variables or {})
    return walk.selection_set(root, operation.selection_set), walk.sizing


class CostTable:
    """The costs of the documents a process has seen, by query text, operation name
    and the values of the variables that sized their pages (``operation_cost``): a
    document whose pages are sized by literals is walked once; one sized by variables,
    once per distinct set of sizes."""

    def __init__(self, size: int = TABLE_SIZE) -> None:
        self.size = size
        self._sizing: dict[tuple[str, str | None], tuple[str, ...]] = {}
        self._costs: dict[tuple[Any, ...], int] = {}

    def cost(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        given = variables or {}
        operation = (query, operation_name)
        sizing = self._sizing.get(operation)
        if sizing is not None:
            cost = self._costs.get(_key(operation, sizing, given))
            if cost is not None:
                return cost
        cost, used = operation_cost(schema, document, operation_name, given)
        if len(self._costs) >= self.size:
            self._costs.clear()
            self._sizing.clear()
        sizing = self._sizing[operation] = tuple(used)
        self._costs[_key(operation, sizing, given)] = cost
        return cost


def _key(
    operation: tuple[str, str | None], sizing: tuple[str, ...], given: Mapping[str, Any]
) -> tuple[Any, ...]:
    """A cost's key: the operation, and the values the variables that size its pages
    were given (a page size is a number or null; any other value, refused when the
    variables are coerced, is told apart by its type alone)."""
    values = []
    for name in sizing:
        value = given.get(name, _MISSING)
        if not (value is None or value is _MISSING or type(value) is int):
            value = type(value).__name__
        values.append(value)
    return (*operation, *values)


def too_expensive(cost: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"The query costs {cost}, more than the limit of {limit}: ask for smaller pages "
        "(first) or fewer nested connections.",
        extensions={"code": "query_too_expensive", "cost": cost, "limit": limit},
    )


def over_budget(cost: int) -> GraphQLError:
    """What the operation would answer had the door not answered 429 (``router.py``)."""
    return GraphQLError(
        f"The query's cost ({cost}) is more than what is left of the API key's budget.",
        extensions={"code": "rate_limited", "cost": cost},
    )


class QueryCost(SchemaExtension):
    """The cost rule (see the module's docstring): refuses an operation over ``limit``
    before it runs, charges the caller's budget with the cost of the others, and reports
    the cost in the response's ``extensions``."""

    def __init__(self, limit: int, table: CostTable) -> None:
        super().__init__()
        self.limit = limit
        self.table = table
        self.requested: int | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is None or context.query is None:
            yield
            return
        schema = context.schema._schema
        cost = self.requested = self.table.cost(
            schema, context.query, document, context.operation_name, context.variables
        )
        refusal = None
        if cost > self.limit:
            refusal = too_expensive(cost, self.limit)
        else:
            charge = context.context.charge if isinstance(context.context, GraphQLContext) else None
            if charge is not None and not await charge(cost):
                refusal = over_budget(cost)
        if refusal is not None:
            if context.operation_type is OperationType.SUBSCRIPTION:
                raise refusal  # a subscription ignores a result set here: answered as an error
            context.result = GraphQLExecutionResult(data=None, errors=[refusal])  # not executed
        yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        return {"cost": {"requested": self.requested, "limit": self.limit}}
