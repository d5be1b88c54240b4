"""Standards as documents over REST: ``PUT /standards/<kind>/{key}`` holds a document
under its key, idempotently (``standards/documents.py``): 200 when the latest revision
already says it or its draft was changed, 201 with a new draft revision. No ``from
__future__ import annotations`` here: FastAPI must see the real classes in the
closures' signatures."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from pmo_api.api.rest import responses as present
from pmo_api.api.rest.deps import Ctx
from pmo_api.api.rest.docs import problems
from pmo_api.api.rest.lists import UUID_PATTERN, ref_or_422
from pmo_api.core.schemas import KEY_PATTERN
from pmo_api.resources.declaration import ResourceType
from pmo_api.standards import documents
from pmo_api.standards.documents import CREATED, STANDARDS

router = APIRouter(tags=["standards"])

StandardRef = Annotated[
    str,
    Path(
        pattern=f"^({UUID_PATTERN}|{KEY_PATTERN.strip('^$')})$",
        description="The standard's key (or the id of one of its revisions): PUT holds the "
        "document under that key.",
        examples=["CONTROL"],
    ),
]


def _put_route(kind: ResourceType[Any]) -> None:
    Document = documents.document_model(kind)
    Read = kind.read

    @router.put(
        f"/{kind.plural}/{{id}}",
        response_model=Read,
        status_code=200,
        responses={
            201: {"description": "A new draft revision", "model": Read},
            **problems(403, 404),
        },
        summary=f"Hold a {kind.words} document under its key",
        name=f"put_{kind.name}",
    )
    async def put(request: Request, ctx: Ctx, id: StandardRef, body: Document) -> Response:  # type: ignore[valid-type]
        """Idempotent: nothing changes when the latest revision already says this; the
        latest revision is changed when it is a draft; else a new draft revision is made
        (publish it to put it in force). Standards as code: `pmo-api standards apply`."""
        obj, outcome = await documents.put(ctx, kind, ref_or_422(id), body)
        if outcome == CREATED:
            return present.created(request, Read, obj, f"/api/v1/{kind.plural}/{obj['id']}")
        return present.resource(request, Read, obj)


for _kind in STANDARDS:
    _put_route(_kind)
