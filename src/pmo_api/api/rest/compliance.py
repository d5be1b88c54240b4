"""Compliance over REST: a project, a portfolio (with its sub-portfolios) and the whole
organisation against every rule of the policies in force."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Caller, path_parser, query_parser, request_context, serve_directly
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import KeyedRef, ref_or_422
from pmo_api.standards import compliance
from pmo_api.standards.schemas import PortfolioCompliance, ProjectCompliance, ScopeCompliance

router = APIRouter(tags=["compliance"])


class NoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PortfolioQuery(NoQuery):
    include_sub_portfolios: bool = Field(
        default=True, description="Judge the portfolios nested below it too (default)."
    )


@router.get(
    "/projects/{id}/compliance",
    response_model=ProjectCompliance,
    responses=problems(304, 404),
    summary="A project's compliance",
    name="project_compliance",
)
async def project_compliance(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[NoQuery, Query()]
) -> Response:
    """Every rule of the policies in force, judged on the project: pass, fail or not
    applicable, with the reason and the figures used."""
    return await _project(request, id, query)


async def _project(request: Request, id: str, _: NoQuery) -> Response:
    async with request_context(request) as ctx:
        report = await compliance.project_compliance(ctx, ref_or_422(id))
    return present.document(request, report)


@router.get(
    "/portfolios/{id}/compliance",
    response_model=PortfolioCompliance,
    responses=problems(304, 404),
    summary="A portfolio's compliance",
    name="portfolio_compliance",
)
async def portfolio_compliance(
    request: Request, _: Caller, id: KeyedRef, query: Annotated[PortfolioQuery, Query()]
) -> Response:
    """The portfolio's live projects (and its sub-portfolios') against every rule in
    force: the rate, the failing rules ranked (most severe first, then by the number of
    projects failing), and the projects failing each."""
    return await _portfolio(request, id, query)


async def _portfolio(request: Request, id: str, query: PortfolioQuery) -> Response:
    async with request_context(request) as ctx:
        report = await compliance.portfolio_compliance(
            ctx, ref_or_422(id), include_sub_portfolios=query.include_sub_portfolios
        )
    return present.figures(request, report)


@router.get(
    "/compliance",
    response_model=ScopeCompliance,
    responses=problems(304),
    summary="The organisation's compliance",
    name="organisation_compliance",
)
async def organisation_compliance(
    request: Request, _: Caller, query: Annotated[NoQuery, Query()]
) -> Response:
    """Every live project against every rule in force, rolled up as for a portfolio."""
    return await _organisation(request, query)


async def _organisation(request: Request, _: NoQuery) -> Response:
    async with request_context(request) as ctx:
        report = await compliance.organisation_compliance(ctx)
    return present.figures(request, report)


_KEYED_REF: TypeAdapter[str] = TypeAdapter(KeyedRef)
serve_directly(project_compliance, _project, path_parser(_KEYED_REF), query_parser(NoQuery))
serve_directly(
    portfolio_compliance, _portfolio, path_parser(_KEYED_REF), query_parser(PortfolioQuery)
)
serve_directly(organisation_compliance, _organisation, query_parser(NoQuery))
