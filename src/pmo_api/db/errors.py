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


def is_unavailable(error: BaseException) -> bool:
    if isinstance(error, sa_exc.TimeoutError | ConnectionError | TimeoutError | OSError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        origin = type(error.orig).__name__ if error.orig is not None else ""
        return origin in {
            "ConnectionDoesNotExistError",
            "CannotConnectNowError",
            "AdminShutdownError",
            "ConnectionFailureError",
            "TooManyConnectionsError",
        }
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
