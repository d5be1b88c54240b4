"""JSON logs, one object a line, each carrying the request id of the request it serves,
the id of the API key that made it (never its secret) and the process that wrote it."""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
api_key_id_var: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "api_key_id", default=None
)
"""The id of the key a request was authenticated with, once it is known (api/requests.py)."""

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Stamps the current request id and API key id on each record when it is logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "api_key_id"):
            record.api_key_id = api_key_id_var.get()
        return True


_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": _pid,  # which of `serve --workers N`'s processes
        }
        for name, value in record.__dict__.items():
            if value is not None and name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str) -> None:
    # The JSON lines carry no source file, line or thread, and the process id is known
    # (_pid): skip looking them up for every record (the logging HOWTO's "Optimization").
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Requests are logged once, by the request middleware, with their request id.
    logging.getLogger("uvicorn.access").disabled = True
