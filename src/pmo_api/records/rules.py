"""Rules more than one record type follows, for their ``RecordRules`` to use."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pmo_api.core.errors import ErrorDetail, InvalidInput
from pmo_api.core.schemas import TEXT_PATTERN


@dataclass(frozen=True)
class NoteRequired:
    """A note that must be written while a status says the matter is settled: a resolved
    issue carries its resolution, a validated assumption what validated it.

    ``schema()`` states it in the contract beside the create body's fields (its
    ``create_schema``); ``check`` refuses a record that would break it (422 ``code``).
    """

    note: str
    status: str
    settled: Collection[Enum]
    code: str
    reason: str
    """Where the note is missing, e.g. "required when resolved"."""

    def schema(self) -> dict[str, Any]:
        return {
            "if": {
                "properties": {self.status: {"enum": [s.value for s in self.settled]}},
                "required": [self.status],
            },
            "then": {
                "properties": {
                    self.note: {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 10_000,
                        "pattern": TEXT_PATTERN,
                    }
                },
                "required": [self.note],
            },
        }

    def is_settled(self, status: Any) -> bool:
        return status in self.settled

    def check(self, entity: str, values: Mapping[str, Any], current: Any = None) -> bool:
        """Refuse ``values`` (the fields being written over ``current``, the record or
        None for a new one) when they leave it settled without a note; return whether it
        is settled."""
        status = values.get(self.status, getattr(current, self.status, None))
        note = values.get(self.note, getattr(current, self.note, None))
        settled = self.is_settled(status)
        if settled and not note:
            value = status.value if isinstance(status, Enum) else status
            article = "An" if entity[0] in "aeiou" else "A"
            raise InvalidInput(
                code=self.code,
                detail=f"{article} {entity} that is {value} needs a {self.note}.",
                errors=[ErrorDetail(("body", self.note), self.reason, "missing")],
            )
        return settled
