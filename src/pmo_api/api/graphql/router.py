"""The GraphQL door, mounted at /graphql: one unit of work per HTTP request.

* The caller is authenticated before anything executes; a missing or invalid key is
  the same 401 problem+json as REST's (the app's DomainError handler renders it).
* The unit of work commits once when the operation has run and before the response is
  sent (``scope="function"``), so a mutation reported as done is durable. Queries read
  as REST's GETs do (rows from ``db/reads.py``, a read session only if a service asks
  for one); mutations run on the write sessions.
* Subscriptions run over the WebSocket at the same path (graphql-transport-ws; the
  connection, its authentication and its units of work: websocket.py).
* A database that is unreachable, before or during execution, is a 503 problem+json
  with Retry-After; strawberry's own refusals (bad JSON, mutation over GET...) are
  problem+json too.

No ``from __future__ import annotations``: FastAPI reads these dependencies' signatures.
"""

import contextlib
import functools
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

import orjson
from cross_web import HTTPException
from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute, APIWebSocketRoute
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.responses import Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from pmo_api.api import ratelimit
from pmo_api.api.graphql.context import GraphQLContext
from pmo_api.api.graphql.loaders import Loaders
from pmo_api.api.graphql.schema import DOCUMENT_CACHE_SIZE, build_schema
from pmo_api.api.graphql.websocket import (
    CONNECTION_INIT_SECONDS,
    TextFrames,
    TransportHandler,
    connection_init,
    websocket_endpoint,
)
from pmo_api.api.problems import problem_body, problem_response
from pmo_api.api.requests import (
    app_state,
    authenticate_request,
    check_query,
    known_principal,
    request_id,
)
from pmo_api.core.context import ServiceContext
from pmo_api.db.errors import unavailable
from pmo_api.db.transaction import unit_of_work, unit_of_work_on_demand
from pmo_api.settings import Settings

_REFUSALS = {
    400: ("bad_request", "Bad request"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
}


async def _asks_for_mutation(request: Request, max_tokens: int) -> bool:
    """Whether a POST body's operation is a mutation, chosen as strawberry will choose it.

    Anything unparseable is refused before execution, so it needs no write session.
    """
    if request.method != "POST":
        return False
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return False
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        return False
    name = data.get("operationName")
    return _is_mutation(data["query"], name if isinstance(name, str) else None, max_tokens)


@functools.lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _is_mutation(query: str, name: str | None, max_tokens: int) -> bool:
    """Known once per document, as strawberry parses and validates it once (its caches)."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, name)
    return operation is not None and operation.operation is OperationType.MUTATION


async def operation_context(
    request: Request,
    query: Annotated[str | None, Query(description="A query, for GET requests.")] = None,
    variables: Annotated[str | None, Query(description="JSON variables, for GET.")] = None,
    operation_name: Annotated[str | None, Query(alias="operationName")] = None,
    extensions: Annotated[str | None, Query(description="JSON extensions, for GET.")] = None,
) -> AsyncIterator[GraphQLContext]:
    """The unit of work of one GraphQL request (the query parameters are declared so
    that GET requests pass the app's unknown-parameter check)."""
    if request.method == "GET" and query is None:
        # The GraphiQL page, or a refusal: nothing executes, so no caller is needed.
        yield GraphQLContext(None, Loaders)
        return
    state = app_state(request)
    if await _asks_for_mutation(request, state.settings.graphql_max_tokens):
        async with unit_of_work(state.sessions) as session:
            principal = await authenticate_request(session, request)
            context = GraphQLContext(
                ServiceContext(
                    session=session, principal=principal, request_id=request_id(request)
                ),
                Loaders,
            )
            context.charge = ratelimit.graphql_meter(state.limits, request.scope, principal)
            yield context
        return
    # A query reads as REST's GETs do: rows from the reads (no transaction), the caller
    # from the key cache; a session only if a service asks for one.
    principal = await known_principal(request)
    async with unit_of_work_on_demand(state.read_sessions) as unit:
        context = GraphQLContext(
            ServiceContext(
                None, principal, request_id(request), state.reads, open_session=unit.open
            ),
            Loaders,
        )
        context.charge = ratelimit.graphql_meter(state.limits, request.scope, principal)
        yield context


async def _context(
    context: Annotated[GraphQLContext, Depends(operation_context, scope="function")],
) -> GraphQLContext:
    return context


def _refusal(request: Request, error: HTTPException) -> Response:
    code, title = _REFUSALS.get(error.status_code, _REFUSALS[400])
    detail = error.reason
    if error.status_code == 404:
        detail = "The GraphiQL page is switched off here; send queries with POST."
    return problem_response(
        problem_body(
            status=error.status_code,
            code=code,
            title=title,
            detail=detail,
            instance=request.url.path,
            request_id=request_id(request),
        )
    )


class GraphQLDoor(GraphQLRouter[GraphQLContext, None]):
    websocket_adapter_class = TextFrames
    graphql_transport_ws_handler_class = TransportHandler

    async def on_ws_connect(self, context: GraphQLContext) -> UnsetType | dict[str, object] | None:
        """A socket's ``connection_init``: its caller authenticated (websocket.py)."""
        await connection_init(context)
        unset: UnsetType = UNSET
        return unset

    def encode_json(self, data: object) -> bytes:
        """The result encoded once, by orjson (the standard library's encoder was a
        noticeable share of a page's CPU)."""
        return orjson.dumps(data)

    async def get_sub_response(self, request: Request) -> Response:
        """A response of its own for each request. (Strawberry's endpoint keeps the one
        FastAPI made on the router, where a concurrent request can replace it before it
        is read; no resolver here sets headers or a status through it.) Made as
        FastAPI makes the one it gives an endpoint: no status and no Content-Length of
        its own, so the answer's are the ones sent."""
        response = Response()
        del response.headers["content-length"]
        response.status_code = None  # type: ignore[assignment]
        return response

    async def run(  # type: ignore[override]
        self, request: Request, context: GraphQLContext = UNSET, root_value: None = UNSET
    ) -> Response:
        try:
            response = await super().run(request, context=context, root_value=root_value)
        except HTTPException as error:
            response = _refusal(request, error)
        charge = context.charge if isinstance(context, GraphQLContext) else None
        if charge is not None and not ratelimit.charged(request.scope):
            # Refused before its cost was known (a malformed body, a syntax or
            # validation error, over the cost limit): it costs 1 (api/ratelimit.py).
            await charge(1)
        return response

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: GraphQLContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        if context.unavailable:
            # Raised, not returned: the unit of work rolls back and the app answers 503.
            raise unavailable()
        refusal = ratelimit.refusal(request.scope)
        if refusal is not None:
            raise refusal  # over the key's budget: nothing ran (cost.py); the app answers 429
        return result


def graphql_router(settings: Settings) -> APIRouter:
    router = GraphQLDoor(
        build_schema(settings),
        graphql_ide="graphiql" if settings.graphql_ide else None,
        context_getter=_context,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=CONNECTION_INIT_SECONDS),
        max_subscriptions_per_connection=settings.graphql_max_subscriptions,
        allowed_origins=settings.cors_origins,  # pages that may open the socket (as CORS)
    )
    # Subscriptions (websocket.py): the socket's context is its own, not a request's.
    router.routes[:] = [r for r in router.routes if not isinstance(r, APIWebSocketRoute)]
    router.add_api_websocket_route("", websocket_endpoint(router), name="graphql_websocket")
    _serve_posts_directly(router)
    return router


_operation = contextlib.asynccontextmanager(operation_context)


def _serve_posts_directly(router: GraphQLDoor) -> None:
    """POST /graphql served without FastAPI's dependency solving (see api/routing.py):
    the same checks (unknown query parameters, then the caller), the same unit of work
    (committed, for a mutation, before the answer is sent), the same execution. The
    route's declaration stays for the contract and for GET."""
    route = next(
        r for r in router.routes if isinstance(r, APIRoute) and "POST" in (r.methods or ())
    )

    async def direct_post(request: Request) -> Response:
        check_query(request)
        async with _operation(request) as context:
            return await router.run(request, context=context, root_value=None)

    route.endpoint.direct_post = direct_post  # type: ignore[attr-defined]
