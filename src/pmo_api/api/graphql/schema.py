"""The GraphQL schema: the domains' queries and mutations, the live updates
(subscriptions.py), the Node lookup, the viewer, and the limits a deployment sets.

``schema`` (default settings) is what ``openapi/schema.graphql`` is generated from;
``build_schema(settings)`` is what the app serves. Both print the same SDL: settings
change validation and introspection, never the types.
"""

# strawberry.field(description=...) and strawberry.mutation(...) are typed as returning
# Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Annotated
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from pmo_api.api.graphql.audits import AuditsMutation, AuditsQuery
from pmo_api.api.graphql.compliance import ComplianceQuery
from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.cost import CostTable, QueryCost
from pmo_api.api.graphql.errors import EXCEPTION_HANDLERS, ErrorTranslation
from pmo_api.api.graphql.execution import PlainDataExecutionContext
from pmo_api.api.graphql.metrics import MetricsQuery
from pmo_api.api.graphql.records import RecordsMutation, RecordsQuery
from pmo_api.api.graphql.relay import Node
from pmo_api.api.graphql.resources import Person, ResourcesMutation, ResourcesQuery
from pmo_api.api.graphql.scalars import SCALAR_MAP
from pmo_api.api.graphql.subscriptions import Subscription, SubscriptionRefusals
from pmo_api.api.graphql.training import TrainingQuery
from pmo_api.core.context import Role
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.settings import Settings

strawberry.enum(Role, description="What an API key may do.")

MAX_NODES = 100
DOCUMENT_CACHE_SIZE = 256
"""Distinct query texts whose parse and validation each process keeps (LRU)."""


@strawberry.type(description="The API key making this request.")
class Viewer:
    name: str
    role: Role
    key_id: UUID | None = strawberry.field(description="The key's id (null for the system).")
    person_id: strawberry.Private[UUID | None]

    @strawberry.field(description="The person the key acts for (managers always have one).")
    async def person(self, info: GqlInfo) -> Person | None:
        if self.person_id is None:
            return None
        return await info.context.loaders.person.load(self.person_id)


@strawberry.type
class NodeQuery:
    @strawberry.field(description="The object with this global id; null if none is visible.")
    async def node(self, info: GqlInfo, id: strawberry.ID) -> Node | None:
        return await info.context.loaders.node(id)

    @strawberry.field(
        description="The objects with these global ids, in order; null where none is visible."
    )
    async def nodes(
        self,
        info: GqlInfo,
        ids: Annotated[
            list[strawberry.ID], strawberry.argument(description=f"At most {MAX_NODES} ids.")
        ],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidInput(
                code="too_many_ids",
                detail=f"nodes takes at most {MAX_NODES} ids.",
                errors=[ErrorDetail(("ids",), f"at most {MAX_NODES} ids", "value_error")],
            )
        # Loads started together are one batch per type.
        return list(await asyncio.gather(*(info.context.loaders.node(i) for i in ids)))

    @strawberry.field(description="Who is calling: the API key's name and role.")
    def viewer(self, info: GqlInfo) -> Viewer:
        principal = info.context.service.principal
        return Viewer(
            name=principal.name,
            role=principal.role,
            key_id=principal.key_id,
            person_id=principal.person_id,
        )


Query = merge_types(
    "Query",
    (
        NodeQuery,
        ResourcesQuery,
        RecordsQuery,
        ComplianceQuery,
        MetricsQuery,
        AuditsQuery,
        TrainingQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        ResourcesMutation,
        RecordsMutation,
        AuditsMutation,
    ),
)


class ParserCache(strawberry.extensions.ParserCache):
    """Strawberry's parse cache, minus one flaw: its ``on_parse`` raises a syntax error
    (or a token-limit refusal) outside the block where Strawberry answers such errors,
    so they would skip ErrorTranslation's ``code``. A document that does not parse is
    left to Strawberry's own parse, which refuses it the usual way."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        except GraphQLError:
            context.graphql_document = None
        yield


def _extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Limits, caches and error translation; the caches come after what they depend on.

    The validation rules are made once per schema, not per request: the limiters
    would otherwise make a new rule class each time, and ValidationCache (keyed by
    the document and the rule classes) would never hit. A repeated document (a UI's
    queries are a handful of texts) is then parsed and validated once per process.
    """
    rules = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
    ]
    if not settings.graphql_introspection:
        rules.extend(DisableIntrospection().validation_rules)
    costs = CostTable()  # the schema's own: known once per document (and page sizes)
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: QueryCost(settings.graphql_max_cost, costs),
        SubscriptionRefusals,  # after the extensions whose refusals it raises
        ErrorTranslation,
    ]


class PmoSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """No log line per refused query: the caller's mistakes are answered, not logged;
        unexpected failures are logged once, with the request id, by ErrorTranslation."""


def build_schema(settings: Settings) -> strawberry.Schema:
    return PmoSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=_extensions(settings),
        exception_handlers=EXCEPTION_HANDLERS,
        execution_context_class=PlainDataExecutionContext,
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP,
            # No batching: a JSON array of operations is refused (400 problem+json), so
            # one request is one operation, one cost and one charge to the rate limits.
            batching_config=None,
            # Suggestions ("did you mean ...?") would describe a schema kept private.
            disable_field_suggestions=not settings.graphql_introspection,
        ),
    )


schema = build_schema(Settings.model_construct())
"""Built from the settings' defaults, not the environment: its SDL is the contract."""
