"""Structured JSON logs, one object per line, with secrets scrubbed on the way out.

What we log on purpose never contains a token, a JWT or a patient identifier (request
logs carry the service id, hookInstance, status, latency and card count; never a path
with data in it, a query, a header or a body). Two belts on top of that:

- ``httpx``/``httpcore`` are held at WARNING: at INFO httpx logs every URL it fetches,
  and FHIR search URLs carry the patient id.
- :class:`RedactingFilter` replaces anything shaped like a bearer token or a JWT in any
  record that reaches our handler (a library's exception message, say).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "color_message", "taskName"}
)
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
SENSITIVE_LOGGERS = ("httpx", "httpcore", "hpack")


def scrub(text: str) -> str:
    return _JWT.sub("[jwt redacted]", _BEARER.sub("Bearer [redacted]", text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and ("earer" in record.msg or "eyJ" in record.msg):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, default=str, ensure_ascii=False))


def quiet_sensitive_loggers() -> None:
    """Libraries that would log URLs (with patient ids) at INFO/DEBUG stay at WARNING."""
    for name in SENSITIVE_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the whole process (also given to uvicorn)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "app.ops.logging.RedactingFilter"}},
        "formatters": {"json": {"()": "app.ops.logging.JsonFormatter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # Our own request log replaces the access log (which would carry client addresses).
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            **{name: {"level": "WARNING"} for name in SENSITIVE_LOGGERS},
        },
    }
