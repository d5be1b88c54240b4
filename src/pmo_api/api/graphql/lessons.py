"""Lessons over GraphQL beside their declared type: the ones suggested to a project
(``Project.suggestedLessons``), the same service and shape as REST."""

# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.declared import document_type
from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.listings import lessons as suggestions
from pmo_api.listings.lessons import SuggestedLessons

SuggestedLessonsType: Any = document_type(SuggestedLessons)


async def _suggested(root: Any, info: GqlInfo, first: int = 10) -> SuggestedLessonsType:
    if not 1 <= first <= 200:
        raise InvalidInput(
            code="invalid_page_arguments",
            detail="first is 1 to 200.",
            errors=[ErrorDetail(("first",), "1 to 200", "value_error")],
        )
    return await info.context.fetch(
        lambda ctx: suggestions.suggested(ctx, root.id, first), SuggestedLessons.model_validate
    )


PROJECT_SUGGESTED_LESSONS = strawberry.field(
    resolver=_suggested,
    description="The lessons of other projects that match the words of its open risks and "
    "issues, ranked higher when their project shares its portfolio or methodology; "
    "without open risks or issues, the latest lessons of its portfolio's other projects "
    "(first: 1 to 200, default 10).",
)
