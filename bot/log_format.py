"""How the process logs to stderr: text lines, or JSON lines (one object per line) for a log
collector (``logging.format: json`` in config.yml, or INNGANG_LOG_FORMAT=json).

A JSON line holds ``time`` (UTC, ISO 8601 with milliseconds and Z), ``level``, ``logger``,
``message`` and the record's extra fields (``log.info("...", extra={"channel": "sms"})``).
Citizen text never reaches a log: the log calls name kinds, counts and internal ids only.
An exception's message can quote data (a driver's error may quote a query's values), so a
JSON line carries only the exception's type (``error``) and its frames (``stack``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("httpx", "httpcore", "alembic", "telegram", "uvicorn.access")
"""Loggers kept at WARNING even when the rest logs at INFO."""
_OURS = "_inngang_handler"
_STANDARD = frozenset(
    {
        *vars(logging.LogRecord("", 0, "", 0, "", (), None)),
        "message",
        "asctime",
        "taskName",
    }
)
"""A LogRecord's own attributes: everything else on a record is an extra field."""


def _utc(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _plain(value: object) -> str:
    return str(value)


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info is not None and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
            entry["stack"] = "".join(traceback.format_tb(record.exc_info[2]))
        if record.stack_info:
            entry["stack_info"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=_plain)


def format_from_env(env: Mapping[str, str] | None = None) -> LogFormat:
    """INNGANG_LOG_FORMAT (json or text), for the time before the settings are read."""
    value = (os.environ if env is None else env).get("INNGANG_LOG_FORMAT", "")
    return "json" if value.strip().lower() == "json" else "text"


def configure_logging(verbose: bool, log_format: LogFormat = "text") -> None:
    """Log to stderr at INFO (``verbose``) or WARNING, as text or JSON lines. Called again
    (once the settings are read) it replaces its own handler. Logging that someone else set
    up (a test harness, a program that embeds Inngang) is left as it is."""
    root = logging.getLogger()
    if not any(not getattr(h, _OURS, False) for h in root.handlers):
        for handler in list(root.handlers):
            root.removeHandler(handler)
        handler = logging.StreamHandler(sys.stderr)
        setattr(handler, _OURS, True)
        handler.setFormatter(
            JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
        )
        root.addHandler(handler)
        root.setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
