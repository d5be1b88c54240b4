"""Training over GraphQL beside its declared types: the managers' certification gaps
(``trainingGaps``), the same service and shape as REST."""

# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.declared import document_type
from pmo_api.api.graphql.relay import same
from pmo_api.standards import gaps
from pmo_api.standards.gaps import TrainingGaps

TrainingGapsType: Any = document_type(TrainingGaps)


@strawberry.type
class TrainingQuery:
    @strawberry.field(
        description="The people who manage live projects that a published policy's rule "
        '"manager holds certification X" applies to, and each certification so required '
        "that they lack, hold expired, or hold expiring within withinDays days, by person "
        "name then certification."
    )
    async def training_gaps(
        self,
        info: GqlInfo,
        within_days: Annotated[
            int, strawberry.argument(description=f"0 to {gaps.MAX_DAYS} (default 30).")
        ] = gaps.DEFAULT_DAYS,
    ) -> TrainingGapsType:
        return await info.context.fetch(lambda ctx: gaps.training_gaps(ctx, within_days), same)
