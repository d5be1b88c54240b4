"""Live updates: the ``Subscription`` type, served over the WebSocket at /graphql
(graphql-transport-ws, ``websocket.py``) from the process's live hub
(``events/live.py``), which hears the committed changes of every server process.

* ``projectChanged(portfolio, includeSubPortfolios)``: the project an event concerns,
  for every event that concerns a project: the project's own (``project.*``,
  ``compliance.*``) and those of its records (risks, milestones, status reports...).
  With ``portfolio``: only projects of that portfolio (with ``includeSubPortfolios``,
  of the portfolios nested below it too), as the event found them (a project moved
  out of the portfolio is last reported to the portfolio it moved to).
* ``portfolioChanged(id, includeSubPortfolios)``: the portfolio, for every event that
  concerns it: its own, and those of its projects and their records (its figures
  move with them); with ``includeSubPortfolios``, those of the portfolios below it too.
* ``events(types)``: each event of those types (all when null).

What is yielded is read afresh, as it is when it is sent, with the subscriber's
visibility, in a unit of work of its own per event (``WebSocketContext.presenting``):
an object the subscriber may not see is skipped, and so is an event whose record
(or, for a record that is no GraphQL type, its project) the subscriber may not read.
Events that arrive together and name the same object are sent as one. The same limits
as a query's apply to the subscription document (depth, aliases, tokens, cost).

Live, not durable: what happens while a client is not subscribed is not kept for it,
and a subscriber that falls ``PMO_LIVE_QUEUE_SIZE`` events behind is ended with the
error ``subscriber_too_slow`` (reload, then subscribe again). Webhooks are the durable
way to follow changes.
"""

# strawberry.field(description=...) and strawberry.subscription(...) are typed as
# returning Any; the resolvers they decorate are typed all the same.
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Iterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from pmo_api.api.graphql.context import GqlInfo, GraphQLContext
from pmo_api.api.graphql.errors import MASKED_MESSAGE
from pmo_api.api.graphql.records import TYPES as RECORD_TYPES
from pmo_api.api.graphql.relay import Node, keyed_ref, same, to_global_id
from pmo_api.api.graphql.resources import TYPES as RESOURCE_TYPES
from pmo_api.api.graphql.resources import Portfolio, Project
from pmo_api.api.graphql.websocket import WebSocketContext
from pmo_api.control import EVENT_TYPES, RESOURCES
from pmo_api.core.errors import DomainError, ErrorDetail, Forbidden, InvalidInput, NotFound
from pmo_api.db.errors import is_unavailable
from pmo_api.events import live
from pmo_api.events.types import refuse_unknown_types
from pmo_api.portfolios import service as portfolios
from pmo_api.resources import service as resources

log = logging.getLogger("pmo_api.graphql")

MAX_TYPES = 100

NODE_TYPE_NAMES: dict[str, str] = {
    found.kind.name: found.kind.graphql_type
    for found in (*RESOURCE_TYPES.values(), *RECORD_TYPES.values())
}
"""The GraphQL type of each entity type the audit trail names, where it has one."""

DECLARED = {kind.name: kind for kind in RESOURCES}
"""The declared resource types by entity type (their readers, for those with no
GraphQL type: API keys)."""

PORTFOLIO_KIND = RESOURCE_TYPES["portfolio"].kind


@strawberry.type(
    description="A committed change, delivered live (not kept for later: webhooks are the "
    "durable way). The audit trail holds it in full."
)
class LiveEvent:
    uuid: UUID = strawberry.field(
        description="The event's REST id: GET /api/v1/audit-events/{uuid} reads it in full."
    )
    type: str = strawberry.field(description="The event type, e.g. project.updated.")
    entity_type: str = strawberry.field(description="person, portfolio, project, risk...")
    entity_id: UUID = strawberry.field(description="The changed record's UUID (REST id).")
    project_id: UUID | None = strawberry.field(
        description="The project it concerns (the record itself, or the record's project)."
    )
    portfolio_id: UUID | None = strawberry.field(
        description="The portfolio it concerns (its own, or its project's)."
    )
    occurred_at: datetime
    version: int | None = strawberry.field(
        description="The record's version after the change; null when it has none."
    )

    @strawberry.field(description="The audit event's global id (`node(id:)` reads it).")
    def audit_event_id(self) -> strawberry.ID:
        return to_global_id("AuditEvent", self.uuid)

    @strawberry.field(
        description="The changed record's global id; null when its type is not a node."
    )
    def entity_global_id(self) -> strawberry.ID | None:
        type_name = NODE_TYPE_NAMES.get(self.entity_type)
        return None if type_name is None else to_global_id(type_name, self.entity_id)

    @strawberry.field(
        description="The changed record as it is now, when it is a node the caller may see."
    )
    async def entity(self, info: GqlInfo) -> Node | None:
        return await info.context.loaders.entity(self.entity_type, self.entity_id)

    @classmethod
    def of(cls, event: live.LiveEvent) -> LiveEvent:
        return cls(
            uuid=event.id,
            type=event.type,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            project_id=event.project_id,
            portfolio_id=event.portfolio_id,
            occurred_at=event.occurred_at,
            version=event.version,
        )


# -- what a subscription follows -------------------------------------------------------------


class PortfolioScope:
    """The portfolios a subscription follows: one, or with ``nested`` also those below
    it (known from each event's portfolio and the portfolios above that, read once per
    portfolio and read again after any change to a portfolio, which may move it)."""

    def __init__(self, portfolio_id: UUID, nested: bool) -> None:
        self.portfolio_id = portfolio_id
        self.nested = nested
        self._above: dict[UUID, frozenset[UUID]] = {}

    def may_hold(self, event: live.LiveEvent) -> bool:
        """Whether the event may concern a portfolio of the scope (decided now, as it is
        published; a portfolio's change makes the tree be read again)."""
        if event.entity_type == "portfolio":
            self._above.clear()
        if event.portfolio_id is None:
            return False
        return self.nested or event.portfolio_id == self.portfolio_id

    async def holds(self, context: GraphQLContext, portfolio_id: UUID | None) -> bool:
        if portfolio_id is None:
            return False
        if portfolio_id == self.portfolio_id:
            return True
        if not self.nested:
            return False
        above = self._above.get(portfolio_id)
        if above is None:
            found: frozenset[UUID] = await context.fetch(
                lambda ctx: portfolios.ancestor_ids(ctx, portfolio_id), frozenset[UUID]
            )
            above = self._above[portfolio_id] = found
        return self.portfolio_id in above


async def _visible(load: Awaitable[Any]) -> Any:
    """What a loader found, or None when the caller may not see it."""
    try:
        return await load
    except (Forbidden, NotFound):
        return None


async def _may_see(context: GraphQLContext, event: live.LiveEvent) -> bool:
    """Whether the caller may read the event's record (its node, or, for a type that
    is none, as REST reads it); for a record that is no declared type, its project."""
    loaders = context.loaders
    if event.entity_type in loaders.by_entity_type:
        return await _visible(loaders.entity(event.entity_type, event.entity_id)) is not None
    kind = DECLARED.get(event.entity_type)
    if kind is not None:
        rows = await _visible(
            context.fetch(lambda ctx: resources.read_many(ctx, kind, [event.entity_id]), same)
        )
        return bool(rows)
    if event.project_id is not None:
        return await _visible(loaders.project.load(event.project_id)) is not None
    return True  # the audit trail shows it to every role


Accept = Callable[[GraphQLContext, live.LiveEvent], Awaitable[Hashable | None]]
Show = Callable[[GraphQLContext, Any], Awaitable[Any]]


async def _follow(
    connection: WebSocketContext, matches: live.Matches, accept: Accept, show: Show
) -> AsyncGenerator[Any, None]:
    """The objects ``show`` finds for the events ``matches`` (as they are published) and
    ``accept`` (as they are presented: what to show, or None) let through, each event
    in a unit of work of its own; of the events that came together, those naming the
    same object show it once (it is read as it is now)."""
    try:
        with connection.state.live.subscribe(matches) as events:
            async for first in events:
                shown: set[Hashable] = set()
                for event in [first, *events.pending()]:
                    async with connection.presenting() as context:
                        target = await accept(context, event)
                        if target is None or target in shown:
                            continue
                        shown.add(target)
                        found = await show(context, target)
                        if found is not None:
                            yield found
    except live.SubscriberTooSlow as error:
        raise GraphQLError(
            "This subscription fell too far behind and was ended; reload what it shows, "
            "then subscribe again.",
            extensions={"code": "subscriber_too_slow"},
        ) from error
    except (DomainError, GraphQLError):
        raise  # translated by ErrorTranslation
    except Exception as error:
        if is_unavailable(error):
            raise
        log.exception("a subscription failed")
        raise GraphQLError(MASKED_MESSAGE, extensions={"code": "internal_error"}) from None


def _connection(info: GqlInfo) -> WebSocketContext:
    context = info.context
    if not isinstance(context, WebSocketContext):
        raise InvalidInput(
            code="subscription_needs_websocket",
            detail="Subscriptions are served over the WebSocket at /graphql "
            "(graphql-transport-ws).",
        )
    return context


async def _portfolio_id(connection: WebSocketContext, ref: str, argument: str) -> UUID:
    """The portfolio a global id, UUID or key names (422 / not found as a lookup's)."""
    found = keyed_ref(ref, "Portfolio", argument)
    async with connection.unit() as context:
        row = await context.fetch(lambda ctx: resources.read(ctx, PORTFOLIO_KIND, found), same)
    portfolio_id: UUID = row["id"]
    return portfolio_id


class SubscriptionRefusals(SchemaExtension):
    """A refusal an earlier extension made before execution (a cost over the limit)
    raised for a subscription: strawberry runs a subscription even when an extension set
    a result in its place (queries and mutations heed it). The client gets the refusal
    and the subscription ends; nothing runs."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        refused = context.result
        if (
            refused is not None
            and refused.errors
            and context.operation_type is OperationType.SUBSCRIPTION
        ):
            raise refused.errors[0]
        yield


NestedArgument = Annotated[
    bool,
    strawberry.argument(description="Also the portfolios nested below it (programs)."),
]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The project, as it is now, each time it or one of its records "
        "changes (risks, milestones, status reports...); with `portfolio`, only projects "
        "of that portfolio. Projects the caller may not see are skipped."
    )
    async def project_changed(
        self,
        info: GqlInfo,
        portfolio: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only the projects of this portfolio: global id, UUID or key."
            ),
        ] = None,
        include_sub_portfolios: NestedArgument = False,
    ) -> AsyncGenerator[Project, None]:
        connection = _connection(info)
        scope = None
        if portfolio is not None:
            portfolio_id = await _portfolio_id(connection, portfolio, "portfolio")
            scope = PortfolioScope(portfolio_id, include_sub_portfolios)

        def matches(event: live.LiveEvent) -> bool:
            in_scope = scope is None or scope.may_hold(event)
            return in_scope and event.project_id is not None

        async def accept(context: GraphQLContext, event: live.LiveEvent) -> Hashable | None:
            if scope is not None and not await scope.holds(context, event.portfolio_id):
                return None
            return event.project_id

        async def show(context: GraphQLContext, project_id: UUID) -> Any:
            return await _visible(context.loaders.project.load(project_id))

        return _follow(connection, matches, accept, show)

    @strawberry.subscription(
        description="The portfolio, as it is now, each time it changes, or one of its "
        "projects or their records does (its figures move with them)."
    )
    async def portfolio_changed(
        self,
        info: GqlInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id, UUID or key.")],
        include_sub_portfolios: NestedArgument = False,
    ) -> AsyncGenerator[Portfolio, None]:
        connection = _connection(info)
        scope = PortfolioScope(await _portfolio_id(connection, id, "id"), include_sub_portfolios)

        async def accept(context: GraphQLContext, event: live.LiveEvent) -> Hashable | None:
            return scope.portfolio_id if await scope.holds(context, event.portfolio_id) else None

        async def show(context: GraphQLContext, portfolio_id: UUID) -> Any:
            return await _visible(context.loaders.portfolio.load(portfolio_id))

        return _follow(connection, scope.may_hold, accept, show)

    @strawberry.subscription(
        description="Each event of these types (all when null), for records the caller may read."
    )
    async def events(
        self,
        info: GqlInfo,
        types: Annotated[
            list[str] | None,
            strawberry.argument(
                description=f"Event types, e.g. project.updated (at most {MAX_TYPES}); "
                "null: every type."
            ),
        ] = None,
    ) -> AsyncGenerator[LiveEvent, None]:
        connection = _connection(info)
        wanted = None if types is None else _event_types(types)

        def matches(event: live.LiveEvent) -> bool:
            return wanted is None or event.type in wanted

        async def accept(context: GraphQLContext, event: live.LiveEvent) -> Hashable | None:
            return event

        async def show(context: GraphQLContext, event: live.LiveEvent) -> Any:
            return LiveEvent.of(event) if await _may_see(context, event) else None

        return _follow(connection, matches, accept, show)


def _event_types(types: list[str]) -> frozenset[str]:
    """The event types asked for: known ones (422 ``unknown_event_type``)."""
    if len(types) > MAX_TYPES:
        raise InvalidInput(
            code="too_many_event_types",
            detail=f"events takes at most {MAX_TYPES} types.",
            errors=[ErrorDetail(("types",), f"at most {MAX_TYPES}", "value_error")],
        )
    refuse_unknown_types(types, EVENT_TYPES, ("types",))
    return frozenset(types)
