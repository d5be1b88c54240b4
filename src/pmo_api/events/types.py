"""Typed events: what happened, to which entity, and which fields changed how."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pmo_api.core.changes import jsonable


class EventType(enum.StrEnum):
    """The events of the resources declared by hand. A declared type's events come
    from its declaration (``RecordEvent``: ``person.created``, ``risk.raised``)."""

    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"

    @property
    def entity_type(self) -> str:
        return self.value.split(".", 1)[0]


@dataclass(frozen=True)
class RecordEvent:
    """An event of a declared type (``resources/declaration.py``): ``<entity>.<verb>``."""

    entity_type: str
    verb: str

    @property
    def value(self) -> str:
        return f"{self.entity_type}.{self.verb}"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Event:
    type: EventType | RecordEvent
    entity_id: uuid.UUID
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def created(
        cls, type_: EventType | RecordEvent, entity_id: uuid.UUID, after: Mapping[str, Any]
    ) -> Event:
        # changed_fields({}, after): every field that is set, from nothing.
        return cls(
            type_,
            entity_id,
            {k: {"before": None, "after": jsonable(v)} for k, v in after.items() if v is not None},
        )
