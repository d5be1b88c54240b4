"""The routes of a project's control records (milestones, risks, costs ...), built
from their service, with the conventions of the top-level resources.

A record is listed and created under its project (``/projects/{id}/risks``) and read,
changed and archived by its own id (``/risks/{id}``), the way GitHub nests issue
comments and Stripe nests a customer's sources: a client that holds the record's id
does not need to know its project. No ``from __future__ import annotations`` here:
FastAPI must see the real classes in the closures' signatures.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.crud import ExpectedVersion, list_query_model
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import list_problems, problems
from pmo_api.api.rest.idempotency import IdempotencyKey, idempotent
from pmo_api.api.rest.lists import KeyedRef, UuidRef, ref_or_422, split, uuid_or_422
from pmo_api.core.context import ServiceContext
from pmo_api.core.pagination import ListParams, Page

ProjectRef = uuid.UUID | str


@dataclass(frozen=True)
class ChildResource:
    """A project's control record type and the service functions behind its routes.

    ``update_`` or ``archive`` may be None for records that are never changed or
    archived through the generic routes (e.g. immutable baselines): the route is then
    not made, and the method answers 405 with the exact ``Allow``.
    """

    path: str
    """The collection's path segment, e.g. ``/risks``."""
    noun: str
    read: type[BaseModel]
    create: type[BaseModel]
    filter: type[BaseModel]
    list_: Callable[[ServiceContext, ProjectRef, Any, ListParams], Awaitable[Page[Any]]]
    get: Callable[[ServiceContext, uuid.UUID], Awaitable[Any]]
    create_: Callable[[ServiceContext, ProjectRef, Any], Awaitable[Any]]
    update: type[BaseModel] | None = None
    update_: Callable[[ServiceContext, uuid.UUID, Any, int | None], Awaitable[Any]] | None = None
    archive: Callable[[ServiceContext, uuid.UUID, int | None], Awaitable[Any]] | None = None
    time_derived: bool = False
    """The representation has fields derived from the date (a milestone's ``overdue``):
    it changes without a new version, so a GET of the record never answers 304 (the
    ETag is still the version, for If-Match)."""


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


def child_routers(res: ChildResource, tag: str) -> tuple[APIRouter, APIRouter]:
    """(routes under /projects/{id}, routes under the record's own path)."""
    nested = APIRouter(prefix="/projects/{id}" + res.path, tags=[tag])
    own = APIRouter(prefix=res.path, tags=[tag])
    Read, Create = res.read, res.create
    Query_ = list_query_model(res.filter)
    noun, plural = res.noun, res.path.strip("/").replace("-", "_")

    @nested.get(
        "",
        response_model=present.ListOf[Read],  # type: ignore[valid-type]
        responses=list_problems(404),
        summary=f"List a project's {tag}",
        name=f"list_project_{plural}",
    )
    async def list_(
        request: Request,
        ctx: Ctx,
        id: KeyedRef,
        query: Annotated[Query_, Query()],  # type: ignore[valid-type]
    ) -> Response:
        filters, params, fmt = split(query, res.filter)
        return present.page(
            request, Read, await res.list_(ctx, ref_or_422(id), filters, params), fmt
        )

    @nested.post(
        "",
        status_code=201,
        response_model=Read,
        responses=problems(403, 404, 409),
        summary=f"Add a {noun} to a project",
        name=f"create_{noun.replace(' ', '_')}",
    )
    async def create(
        request: Request,
        ctx: Ctx,
        id: KeyedRef,
        body: Create,  # type: ignore[valid-type]
        key: IdempotencyKey = None,
    ) -> Response:
        async def produce() -> Response:
            obj = await res.create_(ctx, ref_or_422(id), body)
            return present.created(request, Read, obj, f"/api/v1{res.path}/{obj.id}")

        return await idempotent(ctx, request, key, produce)

    @own.get(
        "/{id}",
        response_model=Read,
        responses=problems(404) if res.time_derived else problems(304, 404),
        summary=f"Get a {noun}",
        name=f"get_{noun.replace(' ', '_')}",
    )
    async def read(request: Request, ctx: Ctx, id: UuidRef) -> Response:
        obj = await res.get(ctx, uuid_or_422(id))
        return present.resource(request, Read, obj, conditional=not res.time_derived)

    if res.update is not None and res.update_ is not None:
        Update, update_ = res.update, res.update_

        @own.patch(
            "/{id}",
            response_model=Read,
            responses=problems(403, 404, 409, 412),
            summary=f"Update a {noun}",
            name=f"update_{noun.replace(' ', '_')}",
        )
        async def update(
            request: Request,
            ctx: Ctx,
            id: UuidRef,
            body: Update,  # type: ignore[valid-type]
            version: ExpectedVersion,
        ) -> Response:
            return present.resource(
                request, Read, await update_(ctx, uuid_or_422(id), body, version)
            )

    if res.archive is not None:
        archive_ = res.archive

        @own.delete(
            "/{id}",
            response_model=Read,
            responses=problems(403, 404, 409, 412),
            summary=f"Archive a {noun}",
            name=f"archive_{noun.replace(' ', '_')}",
        )
        async def archive(
            request: Request, ctx: Ctx, id: UuidRef, version: ExpectedVersion
        ) -> Response:
            """Archives the record: it stays readable by id, lists hide it by default."""
            return present.resource(request, Read, await archive_(ctx, uuid_or_422(id), version))

    return nested, own
