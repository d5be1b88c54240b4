"""The REST routes of the top-level resources: each declared type's (``RESOURCES``:
the crud shape, from its declaration), projects' (the same shape, from their
service), and the routes that are their own: a portfolio's projects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.crud import Resource, crud_router, list_query_model
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import list_problems
from pmo_api.api.rest.lists import KeyedRef, ref_or_422, split
from pmo_api.control import RESOURCES
from pmo_api.listings import projects as listed_projects
from pmo_api.portfolios.declaration import PORTFOLIOS
from pmo_api.projects import service as projects
from pmo_api.projects.schemas import (
    ProjectCreate,
    ProjectFilter,
    ProjectListItem,
    ProjectRead,
    ProjectUpdate,
)
from pmo_api.resources import service as resources
from pmo_api.resources.declaration import ResourceType


def declared_router(kind: ResourceType[Any]) -> APIRouter:
    """A declared resource type's five routes, its use cases the shared ones."""
    return crud_router(
        Resource(
            path=f"/{kind.plural}",
            noun=kind.words,
            read=kind.read,
            create=kind.create,
            update=kind.update,
            filter=kind.filter,
            list_=lambda ctx, filters, params: resources.read_list(ctx, kind, filters, params),
            get=lambda ctx, ref: resources.read(ctx, kind, ref),
            create_=lambda ctx, body: resources.create(ctx, kind, body),
            update_=lambda ctx, ref, body, version: resources.update(ctx, kind, ref, body, version),
            archive=lambda ctx, ref, version: resources.archive(ctx, kind, ref, version),
            keyed=kind.keyed,
        ),
        kind.plural,
    )


DECLARED = {kind.name: declared_router(kind) for kind in RESOURCES}
"""Each declared type's router, by entity name."""

portfolios_router = DECLARED["portfolio"]

projects_router = crud_router(
    Resource(
        path="/projects",
        noun="project",
        read=ProjectRead,
        create=ProjectCreate,
        update=ProjectUpdate,
        filter=ProjectFilter,
        list_=listed_projects.read_projects,
        get=projects.read_project,
        create_=projects.create_project,
        update_=projects.update_project,
        archive=projects.archive_project,
        list_item=ProjectListItem,
    ),
    "projects",
)


PortfolioProjectsQuery = list_query_model(ProjectFilter)


@portfolios_router.get(
    "/{id}/projects",
    response_model=present.ListOf[ProjectListItem],
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
    filters, params, fmt = split(query, ProjectFilter)
    filters = filters.model_copy(update={"portfolio_id": portfolio["id"]})
    return present.page(
        request, ProjectListItem, await listed_projects.read_projects(ctx, filters, params), fmt
    )


routers = (*DECLARED.values(), projects_router)
