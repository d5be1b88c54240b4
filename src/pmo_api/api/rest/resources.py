"""The REST routes of the top-level resources: each declared type's (``RESOURCES``:
the crud shape, from its declaration), and the routes that are their own: a
portfolio's projects."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.crud import Resource, crud_router, list_query_model
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import list_problems, problems
from pmo_api.api.rest.idempotency import IdempotencyKey, idempotent
from pmo_api.api.rest.lists import KeyedRef, UuidRef, ref_or_422, split
from pmo_api.api.rest.records import action_route
from pmo_api.control import RESOURCES
from pmo_api.portfolios.declaration import PORTFOLIOS
from pmo_api.projects.declaration import PROJECTS
from pmo_api.resources import service as resources
from pmo_api.resources.declaration import ResourceAction, ResourceType, Under


def declared_router(kind: ResourceType[Any]) -> APIRouter:
    """A declared resource type's five routes, its use cases the shared ones."""
    return crud_router(
        Resource(
            path=f"/{kind.plural}",
            noun=kind.words,
            entity=kind.name,
            read=kind.read,
            create=kind.create,
            update=kind.update,
            filter=kind.filter,
            list_=lambda ctx, filters, params, for_json: resources.read_list(
                ctx, kind, filters, params, for_json=for_json
            ),
            get=lambda ctx, ref: resources.read(ctx, kind, ref),
            create_=lambda ctx, body: resources.create(ctx, kind, body),
            update_=lambda ctx, ref, body, version: resources.update(ctx, kind, ref, body, version),
            archive=lambda ctx, ref, version: resources.archive(ctx, kind, ref, version),
            keyed=kind.keyed,
            list_item=kind.list_item,
            created=kind.created,
            creatable=kind.creatable and kind.under is None,
            updatable=kind.updatable,
            archivable=kind.archivable,
            versioned=kind.versioned,
            idempotent=not kind.shown_once,
            archive_summary=kind.docs.archive_route,
            archive_verb=kind.events.archived.removesuffix("d"),
            archive_description=(
                "Archives the record: it stays readable by id, lists hide it by default."
                if kind.hides_archived
                else f"Sets {kind.archive_column}: the record stays readable and listed."
            ),
            list_summary=kind.docs.list_route,
        ),
        kind.collection,
    )


def _router_of(kind: ResourceType[Any]) -> APIRouter:
    router = declared_router(kind)
    for action in kind.actions:
        _action_route(router, kind, action)
    return router


def _under_router(kind: ResourceType[Any], under: Under) -> APIRouter:
    """``GET`` and ``POST /<parent path>/{id}/<collection>`` of a resource kept under
    another's record (``Under``): the parent read first (404 when it is not there)."""
    parent = under.parent
    segment = under.collection or kind.collection
    router = APIRouter(prefix=f"/{parent.plural}/{{id}}/{segment}", tags=[kind.collection])
    Item, Create, Read = kind.list_item, kind.create_under, kind.read
    Query_ = list_query_model(kind.filter)
    ParentRef = KeyedRef if parent.keyed else UuidRef
    tag = kind.collection.replace("-", " ")
    plural = kind.collection.replace("-", "_")

    @router.get(
        "",
        response_model=present.ListOf[Item],  # type: ignore[valid-type]
        responses=list_problems(404),
        name=f"list_{parent.name}_{plural}",
        summary=f"List {parent.a_word}'s {tag}",
    )
    async def list_under(
        request: Request,
        ctx: Ctx,
        id: ParentRef,  # type: ignore[valid-type]
        query: Annotated[Query_, Query()],  # type: ignore[valid-type]
    ) -> Response:
        found = await resources.read(ctx, parent, ref_or_422(id, keyed=parent.keyed))
        filters, params, fmt = split(query, kind.filter)
        filters = filters.model_copy(update={under.field: found["id"]})
        for_json = present.printed_plain(request, Item, fmt)
        page = await resources.read_list(ctx, kind, filters, params, for_json=for_json)
        return present.page(request, Item, page, fmt)

    if not kind.creatable:  # made by the service alone (a webhook's deliveries)
        return router

    @router.post(
        "",
        status_code=201,
        response_model=Read,
        responses=problems(403, 404, 409),
        name=f"create_{kind.name}",
        summary=f"Add {kind.a_word} to {parent.a_word}",
    )
    async def create_under(
        request: Request,
        ctx: Ctx,
        id: ParentRef,  # type: ignore[valid-type]
        body: Create,  # type: ignore[valid-type]
        key: IdempotencyKey = None,
    ) -> Response:
        sent: BaseModel = body

        async def produce() -> Response:
            found = await resources.read(ctx, parent, ref_or_422(id, keyed=parent.keyed))
            data = kind.create.model_validate({**sent.model_dump(), under.field: found["id"]})
            row = await resources.create(ctx, kind, data)
            return present.created(request, Read, row, f"/api/v1/{kind.plural}/{row['id']}")

        return await idempotent(ctx, request, key, produce)

    return router


def _action_route(router: APIRouter, kind: ResourceType[Any], action: ResourceAction) -> None:
    action_route(
        router,
        action,
        kind.read,
        KeyedRef if kind.keyed else UuidRef,
        f"{action.verb}_{kind.name}",
        lambda ctx, id, body, version: resources.act(
            ctx, kind, action, ref_or_422(id, keyed=kind.keyed), body, version
        ),
    )


DECLARED = {kind.name: _router_of(kind) for kind in RESOURCES}
"""Each declared type's router, by entity name."""

portfolios_router = DECLARED["portfolio"]

PortfolioProjectsQuery = list_query_model(PROJECTS.filter)


@portfolios_router.get(
    "/{id}/projects",
    response_model=present.ListOf[PROJECTS.list_item],  # type: ignore[name-defined]
    responses=list_problems(404),
    name="list_portfolio_projects",
    summary="List a portfolio's projects",
)
async def list_portfolio_projects(
    request: Request,
    ctx: Ctx,
    id: KeyedRef,
    query: Annotated[PortfolioProjectsQuery, Query()],  # type: ignore[valid-type]
) -> Response:
    portfolio = await resources.read(ctx, PORTFOLIOS, ref_or_422(id))
    filters, params, fmt = split(query, PROJECTS.filter)
    filters = filters.model_copy(update={"portfolio_id": portfolio["id"]})
    for_json = present.printed_plain(request, PROJECTS.list_item, fmt)
    found = await resources.read_list(ctx, PROJECTS, filters, params, for_json=for_json)
    return present.page(request, PROJECTS.list_item, found, fmt)


UNDER = tuple(_under_router(kind, kind.under) for kind in RESOURCES if kind.under is not None)
"""The collections kept under another resource's record (``Under``)."""

routers = (*DECLARED.values(), *UNDER)
