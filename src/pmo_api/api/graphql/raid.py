"""The RAID log over GraphQL beyond its records' own types (``records.py``): each
project's count of open risks (``Project.openRiskCount``), one statement for a page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmo_api.api.graphql.relay import LoaderSet
from pmo_api.raid import service as raid

if TYPE_CHECKING:
    from pmo_api.api.graphql.context import GraphQLContext


class RaidLoaders(LoaderSet):
    def __init__(self, context: GraphQLContext) -> None:
        super().__init__(context)
        self.open_risk_count = self.keyed(raid.open_risk_counts, int, 0)
