"""The DomainError family: every refusal the service makes, with a stable code.

The doors translate these once each: REST into problem+json, GraphQL into typed
union members. Nothing here knows about HTTP; ``status`` is a hint the REST
door uses so the mapping lives next to the meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class ErrorDetail:
    loc: tuple[str | int, ...]
    msg: str
    type: str


@dataclass
class DomainError(Exception):
    code: str
    detail: str
    errors: list[ErrorDetail] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class Unauthenticated(DomainError):
    status = 401
    title = "Unauthenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"


class Unavailable(DomainError):
    status = 503
    title = "Service unavailable"


def not_found(entity: str, ref: object) -> NotFound:
    return NotFound(code=f"{entity}_not_found", detail=f"No {entity} {ref} exists or is visible.")


def duplicate_key(entity: str, field: str) -> Conflict:
    """Another record already holds this unique value (409 ``duplicate_key``)."""
    return Conflict(
        code="duplicate_key",
        detail=f"Another {entity} already has this {field}.",
        extra={"field": field},
    )


def version_mismatch(entity: str, expected: int, actual: int) -> PreconditionFailed:
    return PreconditionFailed(
        code="version_mismatch",
        detail=f"The {entity} is at version {actual}, not {expected}: reload it and retry.",
        extra={"current_version": actual},
    )
