"""JSON-lines logging to stdout, the shape CloudWatch Logs (via the awslogs driver) ingests.

Every line is one JSON object with at least `time` (UTC, ISO 8601, milliseconds), `level`,
`logger` and `message`. Fields passed through `extra=` are added as keys, so
`log.info("order placed", extra={"order_id": 7})` is searchable in Logs Insights as `order_id`.
A traceback goes into `exception` as one string, so it never splits into several log events.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

# LogRecord attributes that are logging's own bookkeeping, not fields the caller passed.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",  # added in Python 3.12
}

# Marks the handler configure_logging installs, so calling it again replaces it.
_HANDLER_MARK = "_webapp_json"


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: a field that is not JSON (a datetime, a UUID) must not lose the line.
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str | int, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to `stream` (default stdout) as JSON lines, at `level` and above.

    Installs one handler on the root logger; calling it again replaces that handler instead of
    adding a second one, and leaves handlers others installed (pytest's, for example) alone.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout if stream is None else stream)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler
