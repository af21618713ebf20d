"""Structured logs: one JSON object per line when ``SOCLE_LOG_FORMAT=json``.

Log shippers (Loki, Elasticsearch, a cloud's log service) index fields, not lines: with
JSON they can filter on ``level`` or ``logger`` without a parsing rule per message format.
The formatter is python-json-logger's; each object carries ``time`` (ISO 8601, UTC),
``level``, ``logger``, ``message`` and, for gunicorn's access log, the request's method,
path (page tokens already redacted by ``lti_tool.web.logs``), status, size and duration.
Control characters inside values are escaped by JSON itself, so a forged line cannot
appear either way.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

FORMAT_ENV = "SOCLE_LOG_FORMAT"
LEVEL_ENV = "SOCLE_LOG_LEVEL"


def json_requested() -> bool:
    return os.environ.get(FORMAT_ENV, "").strip().lower() == "json"


class SocleJsonFormatter(JsonFormatter):
    """python-json-logger with the field names the rest of our tooling expects."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds"
        )
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            log_data.update(access)


def install_json_logging(*loggers: logging.Logger) -> None:
    """Send the root logger (the tool's own, libraries') to stderr as JSON, and give the
    ``loggers`` (gunicorn's) the JSON formatter on their existing handlers."""
    formatter = SocleJsonFormatter()
    root = logging.getLogger()
    if not any(isinstance(h.formatter, SocleJsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(os.environ.get(LEVEL_ENV, "INFO").upper())
    for logger in loggers:
        for existing in logger.handlers:
            existing.setFormatter(formatter)
        logger.propagate = False
