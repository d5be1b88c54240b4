"""Database failures as domain errors: unreachable or busy → Unavailable (503)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError

from pmo_api.core.errors import PreconditionFailed, Unavailable

log = logging.getLogger("pmo_api.db")

RETRY_AFTER_SECONDS = 2


def unavailable() -> Unavailable:
    return Unavailable(
        code="database_unavailable",
        detail="The database is unreachable or busy; retry shortly.",
        extra={"retry_after": RETRY_AFTER_SECONDS},
    )


_CONNECTION_ERRORS = {
    "ConnectionDoesNotExistError",
    "CannotConnectNowError",
    "AdminShutdownError",
    "ConnectionFailureError",
    "TooManyConnectionsError",
    "PostgresConnectionError",
    "InterfaceError",
    "InternalClientError",  # asyncpg: a connection whose protocol was left mid-operation
}


def is_unavailable(error: BaseException) -> bool:
    """Whether an error means the database could not be reached or used just now.

    The whole chain is read (SQLAlchemy wraps the driver's error, which may wrap the
    socket's): a connection closed while it was being opened surfaces as a plain
    DBAPIError whose cause is a ConnectionResetError.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError | ConnectionError | TimeoutError | OSError):
            return True
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated or isinstance(
                current, sa_exc.OperationalError | sa_exc.InterfaceError
            ):
                return True
            orig = current.orig
            if orig is not None and orig is not current.__cause__ and is_unavailable(orig):
                return True
        if type(current).__name__ in _CONNECTION_ERRORS:
            return True
        current = current.__cause__ or current.__context__
    return False


@contextmanager
def translate_db_errors() -> Iterator[None]:
    try:
        yield
    except StaleDataError:
        # Another transaction changed the row between our read and our write.
        raise PreconditionFailed(
            code="version_mismatch",
            detail="The record was changed by another request meanwhile; reload it and retry.",
        ) from None
    except BaseException as error:
        if is_unavailable(error):
            log.warning("database unavailable: %s", type(error).__name__)
            raise unavailable() from None
        raise
