"""Whole collections as NDJSON or CSV: ``GET /api/v1/exports/{resource}``.

Every declared resource type (``control.RESOURCES``) is exported under its collection's
name (``projects``, ``policies``...), with its list's query less the paging: the same
filters, ``sort``, ``include_archived`` and ``updated_since``, checked and refused
exactly as the list checks them (an unknown parameter is a 422 ``unknown_filter``,
a bad value a 422 ``validation_failed``). Each NDJSON line is what the list's ``items``
hold for that record; the CSV has the list's columns and cells.

The rows are streamed from a server-side cursor (``resources/exports.py``,
``db/streams.py``): the statement runs, and any refusal is answered, before the first
byte is sent; then a batch of rows is read, written and let go at a time. The unit of
work and the cursor's connection are held until the response ends, however it ends (the
body read to the end, the client gone, an error): see ``Export``.

One documented operation serves every resource. Behind it, each resource has an
operation of its own, never mounted (``_operation``): its query model, checked and
parsed by the list's own machinery (``check_query``, ``caller``, ``query_parser``), which
the path's ``resource`` picks. No ``from __future__ import annotations`` here: FastAPI
must see the query models in the closures' signatures (as in ``crud.py``).
"""

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Query, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from pmo_api.api.requests import check_query
from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import (
    Caller,
    app_state,
    caller,
    query_parser,
    request_context,
    serve_directly,
)
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import ListQuery, split
from pmo_api.control import RESOURCES
from pmo_api.core.errors import InvalidInput, NotFound
from pmo_api.core.schemas import TEXT_PATTERN
from pmo_api.db.streams import Batches, RowStreams
from pmo_api.resources import exports
from pmo_api.resources.declaration import ResourceType

NDJSON = "application/x-ndjson"


class ExportFormat(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


class ExportQuery(ListQuery):
    """Order and format; an export's query model is its list's filter plus this: the
    list's query without ``limit`` and ``cursor`` (the whole collection)."""

    format: ExportFormat | None = Field(  # type: ignore[assignment]
        default=None, description="ndjson (the default) or csv."
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for paging in ("limit", "cursor"):
            cls.__pydantic_fields__.pop(paging, None)
        cls.model_rebuild(force=True)


def wants_csv(request: Request, fmt: ExportFormat | None) -> bool:
    """``format=`` first, then ``Accept``; NDJSON unless CSV is asked for alone."""
    if fmt is not None:
        return fmt is ExportFormat.CSV
    accept = request.headers.get("accept", "")
    return present.CSV in accept and NDJSON not in accept


class Export(StreamingResponse):
    """A whole collection, streamed; ``close`` ends what the rows are read in (the
    cursor, its connection, the request's unit of work) once the response is over,
    whether the body was read to the end or not."""

    media_type = NDJSON

    def __init__(
        self,
        chunks: AsyncGenerator[bytes],
        close: Callable[[], Awaitable[Any]],
        *,
        name: str,
        as_csv: bool,
    ) -> None:
        filename = f"{name}.{'csv' if as_csv else 'ndjson'}"
        super().__init__(
            chunks,
            media_type=present.CSV + "; charset=utf-8" if as_csv else NDJSON,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
        self._chunks = chunks
        self._close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Shielded: a client that went away cancels the response, not the cleanup.
            with anyio.CancelScope(shield=True):
                await self._chunks.aclose()
                await self._close()


async def _ndjson(item: type[BaseModel], batches: Batches) -> AsyncGenerator[bytes]:
    """One line per row, each exactly as the list's ``items`` print it."""
    async for rows in batches:
        yield b"\n".join(present.dump_row(item, row) for row in rows) + b"\n"


async def _csv(item: type[BaseModel], batches: Batches) -> AsyncGenerator[bytes]:
    """The list's CSV (``present.to_csv``, its columns and cells), a batch at a time:
    the header once, then each batch's lines."""
    columns = list(item.model_fields)
    first = True
    async for rows in batches:
        shown = [item.model_validate(row).model_dump(mode="json") for row in rows]
        body = present.to_csv(columns, shown)
        yield body if first else body.split(b"\r\n", 1)[1]
        first = False
    if first:  # no rows: the header alone
        yield present.to_csv(columns, [])


def _operation(kind: ResourceType[Any]) -> APIRoute:
    """The export of ``kind``: its query model (the list's filter plus ``ExportQuery``),
    served directly as the list is (``serve_directly``), as a route that is never
    mounted: ``export_collection`` hands it the requests for ``kind``."""
    Query_: Any = type(
        f"{kind.pascal}ExportQuery", (kind.filter, ExportQuery), {"__module__": __name__}
    )
    Item = kind.list_item

    async def export(request: Request, _: Caller, query: Annotated[Query_, Query()]) -> Response:
        return await exporting(request, query)

    async def exporting(request: Request, query: Any) -> Response:
        filters, params, _ = split(query, kind.filter)
        as_csv = wants_csv(request, query.format)
        state = app_state(request)
        streams = RowStreams(state.engine, timeout=state.settings.db_timeout_seconds)
        async with contextlib.AsyncExitStack() as opening:
            ctx = await opening.enter_async_context(request_context(request))
            batches = await opening.enter_async_context(
                exports.exported_rows(ctx, kind, filters, params.sort, streams)
            )
            held = opening.pop_all()  # from here on, the response closes them
        chunks = _csv(Item, batches) if as_csv else _ndjson(Item, batches)
        return Export(chunks, held.aclose, name=kind.collection, as_csv=as_csv)

    serve_directly(export, exporting, query_parser(Query_))
    return APIRoute(
        f"/api/v1/exports/{kind.collection}",
        export,
        methods=["GET"],
        name=f"export_{kind.collection.replace('-', '_')}",
        include_in_schema=False,
    )


def _operations() -> dict[str, APIRoute]:
    found: dict[str, APIRoute] = {}
    for kind in RESOURCES:
        if kind.collection in found:
            raise ValueError(f"two resource types export as {kind.collection!r}")
        found[kind.collection] = _operation(kind)
    return found


OPERATIONS = _operations()
"""Each declared resource type's export, by its collection's name."""

_LIST_PATHS = {kind.collection: f"/api/v1/{kind.plural}" for kind in RESOURCES}

_FILTERS = {
    "name": "filters",
    "in": "query",
    "required": False,
    "style": "form",
    "explode": True,
    "description": (
        "The filters of the resource's list, with `sort`, `include_archived` and "
        "`updated_since`, as the list takes them (e.g. `status=active&health=red`); "
        "`limit` and `cursor` are not taken. An unknown parameter or a bad value is a "
        "422, as on the list."
    ),
    "schema": {
        "type": "object",
        "additionalProperties": {"type": "string", "pattern": TEXT_PATTERN},
    },
}

_EXPORTED = "\n".join(f"- `{name}`: as `GET {path}`" for name, path in _LIST_PATHS.items())

router = APIRouter(prefix="/exports", tags=["exports"])


@router.get(
    "/{resource}",
    status_code=200,
    response_class=Export,
    responses={
        200: {
            "description": (
                "The whole collection: NDJSON, one record per line as the list's items "
                "show it (the default), or CSV with the list's columns (`format=csv` or "
                "`Accept: text/csv`). Sent as an attachment "
                '(`Content-Disposition: attachment; filename="<resource>.ndjson"`), '
                "streamed as it is read."
            ),
            "content": {present.CSV: {"schema": {"type": "string"}}},
        },
        **problems(404),
    },
    summary="Export a whole collection",
    description=(
        "Every record of a collection that its list would show, in the list's order, "
        "in one response streamed in constant memory, with the list's filters and sort "
        "(no paging). The same keys may read it as may read the list.\n\n" + _EXPORTED
    ),
    name="export_collection",
    openapi_extra={"parameters": [_FILTERS]},
)
async def export_collection(
    request: Request,
    _: Caller,
    resource: Annotated[
        str,
        Path(
            description="The collection, by the last segment of its list's path.",
            json_schema_extra={"enum": list(OPERATIONS)},
        ),
    ],
    format: Annotated[
        ExportFormat | None,
        Query(description="ndjson (the default) or csv; else as Accept asks."),
    ] = None,
) -> Response:
    # A GET is served directly (``dispatch``); this is the way of any other route, whose
    # query check knows only the parameters declared here.
    return await dispatch(request)


async def dispatch(request: Request) -> Response:
    """A request for ``/exports/{resource}``, served by that resource's operation; an
    unknown resource is a 404 ``export_not_found`` (to a known caller: 401 first)."""
    name: str = request.path_params["resource"]
    operation = OPERATIONS.get(name)
    if operation is None:
        await caller(request)
        raise NotFound(
            code="export_not_found",
            detail=f"No collection {name!r} to export; exported: {', '.join(OPERATIONS)}.",
        )
    request.scope["route"] = operation  # whose query the checks read (``check_query``)
    try:
        check_query(request)
    except InvalidInput as error:
        if error.code != "unknown_parameter":
            raise
        # Which parameters an export takes depends on the collection its path names:
        # no schema of one operation can say it, so the refusal says so by its code.
        raise InvalidInput(
            code="unknown_filter",
            detail=f"{error.detail} An export of {name} takes the parameters of its list "
            f"(GET /api/v1/{name}) but limit and cursor, and format.",
            errors=error.errors,
        ) from None
    handler: Callable[[Request], Awaitable[Response]] = operation.endpoint.direct  # type: ignore[attr-defined]
    return await handler(request)


export_collection.direct = dispatch  # type: ignore[attr-defined]
