"""The GraphQL door's WebSocket at /graphql: subscriptions over graphql-transport-ws.

* **The same keys.** A browser cannot set headers on a WebSocket, so the key comes in
  the ``connection_init`` payload, ``{"Authorization": "Bearer <key>"}`` (the name in
  any case); without one there, the upgrade request's Authorization header counts. It
  is checked as the HTTP door checks it (the key cache, then the reads). A missing,
  malformed, unknown or revoked key closes the socket with 4401 (Unauthorized; the
  protocol's clients do not retry it), the refusal's code as the reason; a database
  that cannot be reached then, with 1013 (try again later). The socket takes no query
  parameters: an API key in the URL is never accepted (the handshake is refused).
* **Subscriptions only.** A query or mutation sent over the socket is answered with an
  ``error`` message (code ``subscriptions_only``: send it with POST /graphql); the
  socket stays open.
* **No database session held.** A connection and its subscriptions hold none: each
  event is presented in a unit of work of its own (``WebSocketContext.presenting``),
  for the caller as its key says then (through the key cache: a key revoked meanwhile
  ends its subscriptions with ``invalid_credentials`` at their next event, within
  PMO_AUTH_CACHE_SECONDS).
* Messages are JSON text frames, as the protocol has them (the HTTP door's JSON is
  bytes).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from pmo_api.api.graphql.context import GraphQLContext
from pmo_api.api.graphql.loaders import Loaders
from pmo_api.api.requests import known_caller, secret_of
from pmo_api.api.state import AppState
from pmo_api.auth.service import authenticate_with
from pmo_api.core.context import Principal, ServiceContext
from pmo_api.core.errors import Unauthenticated
from pmo_api.db.errors import is_unavailable
from pmo_api.db.transaction import unit_of_work_on_demand
from pmo_api.logs import request_id_var

if TYPE_CHECKING:
    from strawberry.fastapi import GraphQLRouter

log = logging.getLogger("pmo_api.graphql")

CONNECTION_INIT_SECONDS = 10
"""How long a new socket may take to send ``connection_init`` (then 4408)."""
UNAUTHORIZED = 4401
TRY_AGAIN_LATER = 1013

M = TypeVar("M")
R = TypeVar("R")

_presenting: contextvars.ContextVar[GraphQLContext | None] = contextvars.ContextVar(
    "pmo_graphql_presenting", default=None
)
"""The unit of work of the event a subscription is presenting, in the task that runs
the subscription (the fields of its selection are resolved there, or in tasks made
there, which inherit it)."""


class WebSocketContext(GraphQLContext):
    """The context of one WebSocket connection, shared by its operations.

    It holds no unit of work: a subscription presents each event in one of its own
    (``presenting``), and the fields resolved meanwhile reach that unit's loaders and
    service context through this one (``loaders``, ``service``, ``fetch``)."""

    def __init__(self, state: AppState, websocket: WebSocket, request_id: str) -> None:
        super().__init__(None, Loaders)
        self.state = state
        self.request_id = request_id
        self._header = websocket.headers.get("authorization")
        self._secret: str | None = None
        self.principal: Principal | None = None
        """The caller, once ``connection_init`` is accepted."""

    async def authenticate(self) -> Principal:
        """The caller of ``connection_init`` (its payload's key, else the upgrade
        request's), or Unauthenticated."""
        self._secret = secret_of(_authorization(self.connection_params) or self._header)
        self.principal = await self._caller()
        return self.principal

    async def _caller(self) -> Principal:
        if self._secret is None:
            raise Unauthenticated(code="missing_credentials", detail="connection_init first.")
        return known_caller(
            await authenticate_with(self.state.reads, self._secret, self.state.scope)
        )

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[GraphQLContext]:
        """A unit of work of its own, as a query's (rows from the reads, a read session
        only if a service asks for one), for the caller as the key says now."""
        principal = await self._caller()
        async with unit_of_work_on_demand(self.state.read_sessions) as unit:
            yield GraphQLContext(
                ServiceContext(
                    None, principal, self.request_id, self.state.reads, open_session=unit.open
                ),
                Loaders,
            )

    @asynccontextmanager
    async def presenting(self) -> AsyncIterator[GraphQLContext]:
        """``unit()``, through which the fields of what the subscription yields meanwhile
        are resolved."""
        async with self.unit() as context:
            _presenting.set(context)
            try:
                yield context
            finally:
                # Not reset by token: a generator closed from elsewhere runs this in
                # another context, where a token of this one is refused.
                _presenting.set(None)

    def _current(self) -> GraphQLContext:
        current = _presenting.get()
        if current is None:
            raise RuntimeError("a subscription field was resolved outside an event's unit")
        return current

    @property
    def loaders(self) -> Loaders:
        return self._current().loaders

    @property
    def service(self) -> ServiceContext:
        return self._current().service

    async def read_nodes(self, type_name: str, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        return await self._current().read_nodes(type_name, ids)

    async def fetch(
        self, read: Callable[[ServiceContext], Awaitable[M]], present: Callable[[M], R]
    ) -> R:
        return await self._current().fetch(read, present)

    async def change(
        self, write: Callable[[ServiceContext], Awaitable[M]], present: Callable[[M], R]
    ) -> R:
        return await self._current().change(write, present)


def _authorization(params: object) -> str | None:
    """The Authorization value of a ``connection_init`` payload, its name in any case."""
    if not isinstance(params, Mapping):
        return None
    for name, value in params.items():
        if isinstance(name, str) and name.lower() == "authorization" and isinstance(value, str):
            return value
    return None


async def connection_init(context: object) -> None:
    """What ``connection_init`` does beside the protocol's: authenticate the caller."""
    if not isinstance(context, WebSocketContext):
        raise TypeError("the WebSocket runs with a WebSocketContext")
    await context.authenticate()


@functools.lru_cache(maxsize=256)
def _operation_type(query: str, name: str | None, max_tokens: int) -> OperationType | None:
    """The type of the operation a subscribe message names; None when the document
    does not parse or names none (strawberry then refuses it its own way)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, name)
    return None if operation is None else operation.operation


class TransportHandler(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    """graphql-transport-ws as strawberry speaks it, with this door's refusals (the
    module's docstring)."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Unauthenticated as refusal:
            await self.websocket.close(code=UNAUTHORIZED, reason=refusal.code)
        except Exception as error:
            if not is_unavailable(error):
                raise
            log.warning("database unavailable while a WebSocket authenticated")
            await self.websocket.close(code=TRY_AGAIN_LATER, reason="database_unavailable")

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        context = self.context
        if self.connection_acknowledged and isinstance(context, WebSocketContext):
            payload = message["payload"]
            name = payload.get("operationName")
            kind = _operation_type(
                payload["query"],
                name if isinstance(name, str) else None,
                context.state.settings.graphql_max_tokens,
            )
            if kind is not None and kind is not OperationType.SUBSCRIPTION:
                await self.send_message(
                    {
                        "id": message["id"],
                        "type": "error",
                        "payload": [
                            {
                                "message": "Only subscriptions are served over the "
                                "WebSocket; send queries and mutations with POST /graphql.",
                                "extensions": {"code": "subscriptions_only"},
                            }
                        ],
                    }
                )
                return
        await super().handle_subscribe(message)


class TextFrames(ASGIWebSocketAdapter):
    """Every message a text frame (the door encodes JSON as bytes)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        data = self.view.encode_json(message)
        try:
            await self.ws.send_text(data.decode() if isinstance(data, bytes) else data)
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


def websocket_endpoint(
    router: GraphQLRouter[GraphQLContext, None],
) -> Callable[[WebSocket], Awaitable[None]]:
    """The endpoint of the GraphQL WebSocket (served without FastAPI's dependencies:
    nothing of an HTTP request is checked on a socket)."""

    async def graphql_websocket(websocket: WebSocket) -> None:
        if websocket.query_params:  # never a key in the URL; nothing else is taken there
            await websocket.close(code=1008)
            return
        state: AppState = websocket.app.state.pmo
        request_id = uuid.uuid4().hex
        request_id_var.set(request_id)
        context = WebSocketContext(state, websocket, request_id)
        await router.run(websocket, context=context, root_value=None)

    return graphql_websocket
