"""DomainErrors translated once for the GraphQL door.

* In a mutation whose result union names the error type, a DomainError becomes that
  typed member (``NotFoundError``, ``VersionMismatchError``...): strawberry's exception
  handlers below do it, after the mutation's savepoint has been rolled back.
* Anywhere else a DomainError becomes a GraphQL error whose ``extensions.code`` is the
  stable code (the same as REST's ``code``).
* Any other exception is logged with the request id and masked; a database that is
  unreachable is flagged so the door answers 503 (see router.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import pydantic
import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult
from strawberry.types.field import StrawberryField

from pmo_api.api.graphql.relay import camel_case
from pmo_api.core.errors import (
    Conflict,
    DomainError,
    ErrorDetail,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    Unavailable,
)
from pmo_api.db.errors import is_unavailable

log = logging.getLogger("pmo_api.graphql")

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)

MASKED_MESSAGE = "Unexpected error; quote the request id when reporting it."


@strawberry.interface(description="A refusal a UI can show: a stable code and a message.")
class Error:
    code: str = strawberry.field(description="Stable snake_case code, the same as REST's.")
    message: str = strawberry.field(description="What went wrong, for a person to read.")


@strawberry.type(description="The record does not exist or is not visible to the caller.")
class NotFoundError(Error):
    pass


@strawberry.type(description="The caller's role or the object rules forbid this change.")
class ForbiddenError(Error):
    pass


@strawberry.type(description="`expectedVersion` is not the record's version: reload, retry.")
class VersionMismatchError(Error):
    current_version: int | None = strawberry.field(
        description="The record's version now; null when the change lost a race with "
        "another write at the last moment (reload to learn it)."
    )


@strawberry.type(description="One invalid input value.")
class FieldError:
    loc: list[str] = strawberry.field(description='Where, e.g. ["input", "plannedEnd"].')
    msg: str
    type: str


@strawberry.type(description="The input is not valid; `errors` lists each problem.")
class ValidationError(Error):
    errors: list[FieldError]


@strawberry.type(description="A criterion of a phase gate that does not hold.")
class UnmetCriterion:
    criterion: str = strawberry.field(description="deliverable, approval or rule.")
    name: str = strawberry.field(
        description="The deliverable's name, the approver's role or the rule's code."
    )
    reason: str = strawberry.field(description="Why it does not hold, in words.")


@strawberry.type(description="The change conflicts with the current state (e.g. a taken key).")
class ConflictError(Error):
    field: str | None = strawberry.field(
        default=None, description="The field whose value is taken, for duplicates."
    )
    unmet: list[UnmetCriterion] | None = strawberry.field(
        default=None,
        description="For gate_not_met: every criterion of the gate that does not hold.",
    )


# -- locations: REST's ("body", "planned_end") is GraphQL's ["input", "plannedEnd"] ---------

CreateErrors = NotFoundError | ForbiddenError | ValidationError | ConflictError
"""What a mutation adding a record to a project answers instead of its payload."""
ChangeErrors = (
    NotFoundError | ForbiddenError | VersionMismatchError | ValidationError | ConflictError
)
"""What a mutation of an existing record answers instead of its payload."""


_LOCATION_ROOTS = {"body": ("input",), "path": (), "query": ()}
_QUERY_ARGUMENTS = {"cursor": "after", "limit": "first"}


def graphql_loc(loc: Sequence[str | int]) -> list[str]:
    parts = [str(part) for part in loc]
    if parts and parts[0] in _LOCATION_ROOTS:
        root, parts = parts[0], parts[1:]
        if root == "query" and parts:
            parts[0] = _QUERY_ARGUMENTS.get(parts[0], parts[0])
        parts = [*_LOCATION_ROOTS[root], *parts]
    return [camel_case(part) for part in parts]


def field_errors(details: Sequence[ErrorDetail]) -> list[FieldError]:
    return [FieldError(loc=graphql_loc(d.loc), msg=d.msg, type=d.type) for d in details]


def invalid_input(error: pydantic.ValidationError, where: str) -> InvalidInput:
    """A Pydantic error on a GraphQL input object (``where``: the argument's name)."""
    details = [
        ErrorDetail((where, *e["loc"]), str(e["msg"]), str(e["type"])) for e in error.errors()
    ]
    fields = ", ".join(".".join(graphql_loc(d.loc)) for d in details[:5])
    return InvalidInput(
        code="validation_failed", detail=f"The input is not valid: {fields}.", errors=details
    )


def parse_model(model: type[ModelT], values: dict[str, Any], where: str = "input") -> ModelT:
    """Build a service input model; its refusal is an InvalidInput like the services'."""
    try:
        return model.model_validate(values)
    except pydantic.ValidationError as error:
        raise invalid_input(error, where) from None


# -- typed union members ---------------------------------------------------------------------


class NotFoundHandler(strawberry.ExceptionHandler[NotFound, NotFoundError]):
    def handle(
        self, exception: NotFound, *, field: StrawberryField, info: strawberry.Info
    ) -> NotFoundError:
        return NotFoundError(code=exception.code, message=exception.detail)


class ForbiddenHandler(strawberry.ExceptionHandler[Forbidden, ForbiddenError]):
    def handle(
        self, exception: Forbidden, *, field: StrawberryField, info: strawberry.Info
    ) -> ForbiddenError:
        return ForbiddenError(code=exception.code, message=exception.detail)


class VersionMismatchHandler(strawberry.ExceptionHandler[PreconditionFailed, VersionMismatchError]):
    def handle(
        self, exception: PreconditionFailed, *, field: StrawberryField, info: strawberry.Info
    ) -> VersionMismatchError | None:
        if exception.code != "version_mismatch":
            return None  # not a version mismatch: a plain GraphQL error
        current = exception.extra.get("current_version")
        return VersionMismatchError(
            code=exception.code, message=exception.detail, current_version=current
        )


class ValidationHandler(strawberry.ExceptionHandler[InvalidInput, ValidationError]):
    def handle(
        self, exception: InvalidInput, *, field: StrawberryField, info: strawberry.Info
    ) -> ValidationError:
        return ValidationError(
            code=exception.code, message=exception.detail, errors=field_errors(exception.errors)
        )


class ConflictHandler(strawberry.ExceptionHandler[Conflict, ConflictError]):
    def handle(
        self, exception: Conflict, *, field: StrawberryField, info: strawberry.Info
    ) -> ConflictError:
        taken = exception.extra.get("field")
        unmet = exception.extra.get("unmet")
        return ConflictError(
            code=exception.code,
            message=exception.detail,
            field=camel_case(taken) if isinstance(taken, str) else None,
            unmet=None
            if unmet is None
            else [
                UnmetCriterion(criterion=u["criterion"], name=u["name"], reason=u["reason"])
                for u in unmet
            ],
        )


EXCEPTION_HANDLERS: tuple[strawberry.ExceptionHandler[Any, Any], ...] = (
    NotFoundHandler(),
    ForbiddenHandler(),
    VersionMismatchHandler(),
    ValidationHandler(),
    ConflictHandler(),
)


# -- everything else: GraphQL errors with a code, or masked ----------------------------------


def _extensions(error: DomainError) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": error.code}
    if isinstance(error, InvalidInput | NotFound):
        # The caller's arguments were refused (or name nothing): Apollo's conventional
        # classification, so generic clients and tools tell it from a server failure.
        extensions["classification"] = "BAD_USER_INPUT"
    if error.errors:
        extensions["errors"] = [
            {"loc": graphql_loc(d.loc), "msg": d.msg, "type": d.type} for d in error.errors
        ]
    if isinstance(error.extra.get("current_version"), int):
        extensions["currentVersion"] = error.extra["current_version"]
    return extensions


def _replace(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorTranslation(SchemaExtension):
    """Give every GraphQL error a stable ``extensions.code``; mask and log the unexpected."""

    _streamed = False

    def on_operation(self) -> Iterator[None]:
        yield
        if not self._streamed:  # (a subscription's results were, each as it was sent)
            self._translate_result(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a subscription, translated before it is sent."""
        self._streamed = True
        self._translate_result(result)
        yield

    def _translate_result(self, result: Any) -> None:
        if isinstance(result, GraphQLExecutionResult | StrawberryExecutionResult) and result.errors:
            result.errors = [self._translate(error) for error in result.errors]

    def _translate(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        # A refusal or an unreachable database outside any field (a subscription's
        # stream, between its events) has no path; it is translated all the same.
        raised = isinstance(original, DomainError) or (
            original is not None and is_unavailable(original)
        )
        if error.path is None and not raised:
            # Refused before execution (syntax, validation, limits, variable coercion):
            # the message is graphql-core's own and names no internals.
            if error.extensions and "code" in error.extensions:
                return error
            return _replace(
                error, error.message, {**(error.extensions or {}), "code": "invalid_query"}
            )
        if isinstance(original, Unavailable) or (
            original is not None
            and not isinstance(original, DomainError)
            and is_unavailable(original)
        ):
            log.warning("database unavailable during a GraphQL operation: %s", type(original))
            context = self.execution_context.context
            context.unavailable = True
            return _replace(
                error, "The database is unreachable or busy.", {"code": "database_unavailable"}
            )
        if isinstance(original, DomainError):
            return _replace(error, original.detail, _extensions(original))
        log.error(
            "unexpected error in GraphQL field %s",
            ".".join(str(part) for part in error.path or ()),
            exc_info=original or error,
        )
        return _replace(error, MASKED_MESSAGE, {"code": "internal_error"})
