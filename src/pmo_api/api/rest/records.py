"""The REST routes of every project record type (risks, milestones, costs...), made
from its declaration (``records/declaration.py``) with the conventions of the
top-level resources.

A record is listed and created under its project (``/projects/{id}/risks``) and read,
changed and archived by its own id (``/risks/{id}``), the way GitHub nests issue
comments and Stripe nests a customer's sources: a client that holds the record's id
does not need to know its project. A declared ``Action`` is ``POST /<records>/{id}/<verb>``.
GET and lists read rows outside the ORM (``db/reads.py``). A record type declared
without update or archive has no PATCH or DELETE: the method answers 405 with the exact
``Allow``. No ``from __future__ import annotations`` here: FastAPI must see the real
classes in the closures' signatures.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, TypeAdapter
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.crud import ExpectedVersion, list_query_model
from pmo_api.api.rest.deps import (
    Caller,
    Ctx,
    path_parser,
    query_parser,
    request_context,
    serve_directly,
)
from pmo_api.api.rest.docs import list_problems, problems
from pmo_api.api.rest.idempotency import IdempotencyKey, idempotent
from pmo_api.api.rest.lists import KeyedRef, UuidRef, ref_or_422, split, uuid_or_422
from pmo_api.control import PROJECT_RECORDS
from pmo_api.core.context import ServiceContext
from pmo_api.records import service as records
from pmo_api.records.declaration import Action, RecordType

KEYED_REF: TypeAdapter[str] = TypeAdapter(KeyedRef)
UUID_REF: TypeAdapter[str] = TypeAdapter(UuidRef)


async def record_action(
    request: Request,
    ctx: ServiceContext,
    key: str | None,
    read: type[BaseModel],
    action: Callable[[], Awaitable[Any]],
) -> Response:
    """A route acting on one record beyond the generic ones (approve, submit ...): the
    service call under the Idempotency-Key, the record presented as ``read``."""

    async def produce() -> Response:
        return present.resource(request, read, await action())

    return await idempotent(ctx, request, key, produce)


def record_routers(kind: RecordType[Any]) -> tuple[APIRouter, APIRouter]:
    """(routes under /projects/{id}, routes under the record's own path)."""
    tag = f"{kind.words}s"
    nested = APIRouter(prefix=f"/projects/{{id}}/{kind.plural}", tags=[tag])
    own = APIRouter(prefix=f"/{kind.plural}", tags=[tag])
    Read, Create, Filter = kind.read, kind.create, kind.filter
    Query_ = list_query_model(Filter)
    noun = kind.words.replace(" ", "_")
    plural = kind.plural.replace("-", "_")
    time_derived = bool(kind.derived)
    """A representation derived from the date (a milestone's ``overdue``) changes without
    a new version: a GET of the record never answers 304 (the ETag is still the version,
    for If-Match)."""

    @nested.get(
        "",
        response_model=present.ListOf[Read],  # type: ignore[valid-type]
        responses=list_problems(404),
        summary=f"List a project's {tag}",
        name=f"list_project_{plural}",
    )
    async def list_(
        request: Request,
        _: Caller,
        id: KeyedRef,
        query: Annotated[Query_, Query()],  # type: ignore[valid-type]
    ) -> Response:
        return await listing(request, id, query)

    async def listing(request: Request, id: str, query: Any) -> Response:
        filters, params, fmt = split(query, Filter)
        for_json = present.printed_plain(request, Read, fmt)
        async with request_context(request) as ctx:
            page = await records.read_list(
                ctx, kind, ref_or_422(id), filters, params, for_json=for_json
            )
        return present.page(request, Read, page, fmt)

    serve_directly(list_, listing, path_parser(KEYED_REF), query_parser(Query_))

    @nested.post(
        "",
        status_code=201,
        response_model=Read,
        responses=problems(403, 404, 409),
        summary=f"Add {kind.a_word} to a project",
        name=f"create_{noun}",
    )
    async def create(
        request: Request,
        ctx: Ctx,
        id: KeyedRef,
        body: Create,  # type: ignore[valid-type]
        key: IdempotencyKey = None,
    ) -> Response:
        async def produce() -> Response:
            obj = await records.create(ctx, kind, ref_or_422(id), body)
            return present.created(request, Read, obj, f"/api/v1/{kind.plural}/{obj.id}")

        return await idempotent(ctx, request, key, produce)

    @own.get(
        "/{id}",
        response_model=Read,
        responses=problems(404) if time_derived else problems(304, 404),
        summary=f"Get {kind.a_word}",
        name=f"get_{noun}",
    )
    async def read(request: Request, _: Caller, id: UuidRef) -> Response:
        return await reading(request, id)

    async def reading(request: Request, id: str) -> Response:
        async with request_context(request) as ctx:
            row = await records.read(ctx, kind, uuid_or_422(id))
        return present.resource(request, Read, row, conditional=not time_derived)

    serve_directly(read, reading, path_parser(UUID_REF))

    if kind.updatable:
        Update = kind.update

        @own.patch(
            "/{id}",
            response_model=Read,
            responses=problems(403, 404, 409, 412),
            summary=f"Update {kind.a_word}",
            name=f"update_{noun}",
        )
        async def update(
            request: Request,
            ctx: Ctx,
            id: UuidRef,
            body: Update,  # type: ignore[valid-type]
            version: ExpectedVersion,
        ) -> Response:
            obj = await records.update(ctx, kind, uuid_or_422(id), body, version)
            return present.resource(request, Read, obj)

    if kind.archivable:

        @own.delete(
            "/{id}",
            response_model=Read,
            responses=problems(403, 404, 409, 412),
            summary=f"Archive {kind.a_word}",
            name=f"archive_{noun}",
        )
        async def archive(
            request: Request, ctx: Ctx, id: UuidRef, version: ExpectedVersion
        ) -> Response:
            """Archives the record: it stays readable by id, lists hide it by default."""
            obj = await records.archive(ctx, kind, uuid_or_422(id), version)
            return present.resource(request, Read, obj)

    for action in kind.actions:
        _action_route(own, kind, action, noun)
    return nested, own


def _action_route(router: APIRouter, kind: RecordType[Any], action: Action[Any], noun: str) -> None:
    action_route(
        router,
        action,
        kind.read,
        UuidRef,
        f"{action.verb}_{noun}",
        lambda ctx, id, body, version: records.act(
            ctx, kind, action, uuid_or_422(id), body, version
        ),
    )


ActionRun = Callable[[ServiceContext, str, BaseModel | None, int | None], Awaitable[Any]]
"""A declared action's use case: (context, the path's id, the parsed input, If-Match)."""


def action_route(
    router: APIRouter, action: Any, read: Any, id_path: Any, name: str, run: ActionRun
) -> None:
    """``POST .../{id}/<verb>``: a declared action (a record's approve, a standard's
    publish), its optional input as the body, under If-Match and the Idempotency-Key."""
    Body = action.input
    decorate = router.post(
        f"/{{id}}/{action.verb}",
        response_model=read,
        responses=problems(403, 404, 409, 412),
        summary=action.summary,
        description=action.description or "",
        name=name,
    )
    if Body is None:

        async def act(
            request: Request,
            ctx: Ctx,
            id: id_path,
            version: ExpectedVersion,
            key: IdempotencyKey = None,
        ) -> Response:
            return await record_action(request, ctx, key, read, lambda: run(ctx, id, None, version))

        decorate(act)
        return

    async def act_with(
        request: Request,
        ctx: Ctx,
        id: id_path,
        version: ExpectedVersion,
        body: Body | None = None,  # type: ignore[valid-type]
        key: IdempotencyKey = None,
    ) -> Response:
        return await record_action(request, ctx, key, read, lambda: run(ctx, id, body, version))

    decorate(act_with)


routers = tuple(router for kind in PROJECT_RECORDS for router in record_routers(kind))
"""Every project record type's routes, in ``control.PROJECT_RECORDS`` order."""
