"""The five routes every versioned, archivable resource has, built from its service.

One definition keeps the conventions (ETag, If-Match, Idempotency-Key, 201 +
Location, lists, archive-on-DELETE) identical across resources. No
``from __future__ import annotations`` here: FastAPI must see the real classes in
the closures' signatures.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import (
    Caller,
    Ctx,
    app_state,
    caller,
    check_query,
    path_parser,
    query_parser,
    request_context,
    request_id,
    serve_directly,
)
from pmo_api.api.rest.docs import list_problems, problems
from pmo_api.api.rest.idempotency import (
    IdempotencyKey,
    canonical_of,
    idempotent,
    replay,
    replayed_headers,
)
from pmo_api.api.rest.lists import KeyedRef, ListQuery, UuidRef, ref_or_422, split
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams, Page
from pmo_api.db import writes
from pmo_api.db.writes import NeedsSession
from pmo_api.idempotency.service import (
    StoredResponse,
    claim_with_response,
    request_fingerprint,
)
from pmo_api.idempotency.service import stored as stored_response

Ref = uuid.UUID | str
ExpectedVersion = Annotated[int | None, Depends(present.expected_version)]


@dataclass(frozen=True)
class Resource:
    path: str
    noun: str
    entity: str
    """The routes' names: ``get_<entity>``..."""
    read: type[BaseModel]
    create: type[BaseModel]
    update: type[BaseModel]
    filter: type[BaseModel]
    list_: Callable[[ServiceContext, Any, ListParams, bool], Awaitable[Page[Any]]]
    """A page of the list; the flag: rows read for JSON (``present.printed_plain``)."""
    get: Callable[[ServiceContext, Any], Awaitable[Any]]
    create_: Callable[[ServiceContext, Any], Awaitable[Any]]
    update_: Callable[[ServiceContext, Any, Any, int | None], Awaitable[Any]]
    archive: Callable[[ServiceContext, Any, int | None], Awaitable[Any]]
    keyed: bool = True
    """Whether paths accept a human key beside the UUID."""
    list_item: type[BaseModel] | None = None
    """How lists show a record, when it differs from ``read`` (e.g. summary counts)."""
    created: type[BaseModel] | None = None
    """How a create answers, when it differs from ``read`` (a secret shown once)."""
    creatable: bool = True
    updatable: bool = True
    archivable: bool = True
    versioned: bool = True
    """False: no version, so no ETag of one (a GET's ETag is a hash of its body)."""
    idempotent: bool = True
    """False: a create takes no Idempotency-Key (its stored answer would keep a secret)."""
    archive_summary: str | None = None
    """What DELETE does, when it is not "Archive a <noun>" (revoke an API key)."""
    archive_verb: str = "archive"
    archive_description: str = (
        "Archives the record: it stays readable by id, lists hide it by default."
    )
    list_summary: str | None = None


def _no_session() -> Any:
    raise NeedsSession


_JSON = "application/json"


async def create_in_one_statement(
    request: Request,
    schema: type[BaseModel],
    create: Callable[[ServiceContext, Any], Awaitable[Any]],
    read: type[BaseModel],
    path: str,
) -> Response | None:
    """A create served in one statement (``db.writes``): the references checked, the
    row, its audit event and the Idempotency-Key's record with the response to replay
    written together, in one round trip, without FastAPI's dependency solving.

    It serves the plain case only and answers None for anything else, which the route
    then serves the ordinary way (``api/routing.py``): a database that cannot stage
    (SQLite), a body that is not plain JSON or is refused (FastAPI words the 422), a
    header out of its limits, a service that needs a session. The checks come in the
    ordinary route's order: unknown query parameters, the caller, the body."""
    state = app_state(request)
    if not writes.writes_in_one_statement(state.reads):
        return None
    if request.headers.get("content-type", "").partition(";")[0].strip() != _JSON:
        return None
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= 255:
        return None
    check_query(request)
    principal = await caller(request)
    raw = await request.body()
    try:
        parsed = orjson.loads(raw)
        body = schema.model_validate(parsed)
    except (orjson.JSONDecodeError, ValidationError):
        return None
    ctx = ServiceContext(
        None, principal, request_id(request), state.reads, open_session=_no_session, staged=[]
    )
    try:
        row = await create(ctx, body)
    except NeedsSession:
        return None
    response = present.created(request, read, row, f"/api/v1{path}/{row['id']}")
    claim = None
    if key is not None:
        fingerprint = request_fingerprint(request.method, request.url.path, canonical_of(parsed))
        stored = StoredResponse(
            response.status_code, replayed_headers(response), bytes(response.body)
        )
        ttl = state.settings.idempotency_ttl_hours
        claim = claim_with_response(ctx, key, fingerprint, ttl, stored)
    outcome = await writes.write_staged(state.reads, ctx.staged or [], claim)
    if not outcome.claimed:
        assert key is not None
        return replay(await stored_response(ctx, key, fingerprint))
    return response


def list_query_model(filter_model: type[BaseModel]) -> type[BaseModel]:
    return type(
        f"{filter_model.__name__.removesuffix('Filter')}ListQuery", (filter_model, ListQuery), {}
    )


def crud_router(res: Resource, tag: str) -> APIRouter:
    router = APIRouter(prefix=res.path, tags=[tag])
    Read, Update = res.read, res.update
    Item = res.list_item or res.read
    Query_ = list_query_model(res.filter)
    noun = res.noun

    IdPath = KeyedRef if res.keyed else UuidRef

    def ref(value: str) -> Ref:
        return ref_or_422(value, keyed=res.keyed)

    @router.get(
        "",
        response_model=present.ListOf[Item],  # type: ignore[valid-type]
        responses=list_problems(),
        summary=res.list_summary or f"List {tag.replace('-', ' ')}",
        name=f"list_{tag.replace('-', '_')}",
    )
    async def list_(request: Request, _: Caller, query: Annotated[Query_, Query()]) -> Response:  # type: ignore[valid-type]
        return await listing(request, query)

    async def listing(request: Request, query: Any) -> Response:
        filters, params, fmt = split(query, res.filter)
        for_json = present.printed_plain(request, Item, fmt)
        async with request_context(request) as ctx:
            found = await res.list_(ctx, filters, params, for_json)
        return present.page(request, Item, found, fmt)

    serve_directly(list_, listing, query_parser(Query_))

    if res.creatable:
        _create_route(router, res, noun)

    @router.get(
        "/{id}",
        response_model=Read,
        responses=problems(304, 404),
        summary=f"Get {_a(noun)}",
        name=f"get_{res.entity}",
    )
    async def read(request: Request, _: Caller, id: IdPath) -> Response:  # type: ignore[valid-type]
        return await reading(request, id)

    async def reading(request: Request, id: str) -> Response:
        async with request_context(request) as ctx:
            found = await res.get(ctx, ref(id))
        if not res.versioned:
            return present.computed(request, present.dump_row(Read, found))
        return present.resource(request, Read, found)

    serve_directly(read, reading, path_parser(TypeAdapter(IdPath)))

    if res.updatable:
        _update_route(router, res, noun, Read, Update, IdPath, ref)
    if res.archivable:
        _archive_route(router, res, noun, Read, IdPath, ref)
    return router


def _update_route(
    router: APIRouter, res: Resource, noun: str, Read: Any, Update: Any, IdPath: Any, ref: Any
) -> None:
    @router.patch(
        "/{id}",
        response_model=Read,
        responses=problems(404, 409, 412),
        summary=f"Update {_a(noun)}",
        name=f"update_{res.entity}",
    )
    async def update(
        request: Request,
        ctx: Ctx,
        id: IdPath,
        body: Update,
        version: ExpectedVersion,
    ) -> Response:
        return present.resource(request, Read, await res.update_(ctx, ref(id), body, version))


def _archive_route(
    router: APIRouter, res: Resource, noun: str, Read: Any, IdPath: Any, ref: Any
) -> None:
    route = router.delete(
        "/{id}",
        response_model=Read,
        responses=problems(404, 409, 412) if res.versioned else problems(404, 409),
        summary=res.archive_summary or f"Archive {_a(noun)}",
        description=res.archive_description,
        name=f"{res.archive_verb}_{res.entity}",
    )

    async def archive(request: Request, ctx: Ctx, id: IdPath, version: ExpectedVersion) -> Response:
        return present.resource(request, Read, await res.archive(ctx, ref(id), version))

    async def set_aside(ctx: Ctx, id: IdPath) -> Response:
        """A record with no version takes no If-Match."""
        found = await res.archive(ctx, ref(id), None)
        return Response(content=present.dump_row(Read, found), media_type=present.JSON)

    route(archive if res.versioned else set_aside)


def _a(noun: str) -> str:
    """The noun with its article: "a person", "an API key"."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _create_route(router: APIRouter, res: Resource, noun: str) -> None:
    Read, Create = res.read, res.create
    Answer = res.created or res.read
    route = router.post(
        "",
        status_code=201,
        response_model=Answer,
        responses=problems(409),
        summary=f"Create {_a(noun)}",
        description=None
        if res.idempotent
        else "The answer shows what nothing keeps (a secret) once: an Idempotency-Key is "
        "not taken, so a retried POST makes another.",
        name=f"create_{res.entity}",
    )

    def answer(request: Request, obj: Any) -> Response:
        found = obj["id"] if isinstance(obj, dict) else obj.id
        location = f"/api/v1{res.path}/{found}"
        if res.versioned:
            return present.created(request, Answer, obj, location)
        return Response(
            content=present.dump_row(Answer, obj),
            status_code=201,
            media_type=present.JSON,
            headers={"Location": location},
        )

    if not res.idempotent:

        @route
        async def create_once(request: Request, ctx: Ctx, body: Create) -> Response:  # type: ignore[valid-type]
            return answer(request, await res.create_(ctx, body))

        return

    @route
    async def create(
        request: Request,
        ctx: Ctx,
        body: Create,  # type: ignore[valid-type]
        key: IdempotencyKey = None,
    ) -> Response:
        async def produce() -> Response:
            return answer(request, await res.create_(ctx, body))

        return await idempotent(ctx, request, key, produce)

    async def creating(request: Request) -> Response | None:
        return await create_in_one_statement(
            request, Create, lambda ctx, body: res.create_(ctx, body), Read, res.path
        )

    if res.versioned:
        create.direct_post = creating  # type: ignore[attr-defined]
