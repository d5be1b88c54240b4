"""Typed events: what happened, to which entity, and which fields changed how."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pmo_api.core.changes import jsonable
from pmo_api.core.errors import ErrorDetail, InvalidInput


@dataclass(frozen=True)
class RecordEvent:
    """An event of a declared type (``resources/declaration.py``): ``<entity>.<verb>``.
    Every event comes from a declaration (``Declared.all_events``)."""

    entity_type: str
    verb: str

    @property
    def value(self) -> str:
        return f"{self.entity_type}.{self.verb}"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Event:
    type: RecordEvent
    entity_id: uuid.UUID
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int | None = None
    """The record's version after the change, when it has one (webhooks carry it)."""

    @classmethod
    def created(
        cls,
        type_: RecordEvent,
        entity_id: uuid.UUID,
        after: Mapping[str, Any],
        version: int | None = None,
    ) -> Event:
        # changed_fields({}, after): every field that is set, from nothing.
        return cls(
            type_,
            entity_id,
            {k: {"before": None, "after": jsonable(v)} for k, v in after.items() if v is not None},
            version,
        )


def refuse_unknown_types(
    sent: Iterable[str], known: Collection[str], where: tuple[str, ...]
) -> None:
    """422 ``unknown_event_type`` naming each type sent that is not ``known``."""
    unknown = sorted(set(sent) - set(known))
    if unknown:
        raise InvalidInput(
            code="unknown_event_type",
            detail=f"No such event type: {', '.join(unknown)}. GET /api/v1/event-types lists them.",
            errors=[ErrorDetail(where, f"unknown event type {t}", "value_error") for t in unknown],
        )
