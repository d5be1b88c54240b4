"""What the AuditEvent type shows its own way: the changed record itself (its type,
lookup and list come from its declaration: ``resources.py``)."""

from __future__ import annotations

from typing import Any

import strawberry

from pmo_api.api.graphql.context import GqlInfo
from pmo_api.api.graphql.relay import Node


async def _entity(root: Any, info: GqlInfo) -> Node | None:
    return await info.context.loaders.entity(root.entity_type, root.entity_id)


class AuditEventFields:
    """What the AuditEvent type shows its own way (``resources.FIELDS``)."""

    entity = strawberry.field(
        resolver=_entity,
        description="The changed record, when it is a node the caller may see.",
    )
