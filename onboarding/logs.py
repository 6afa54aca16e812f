"""Structured logs without personal data (SECURITY.md 34).

Every record carries UTC time, request id and actor id. We never log request bodies,
form values or query strings: query strings can hold search terms (names), so the
access log filter below strips them, and the gunicorn config uses the path only.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g, has_request_context

_QUERY = re.compile(r'(\"[A-Z]+ [^ ?"]*)\?[^ "]*')


class ContextFilter(logging.Filter):
    """Adds request id and actor id to records made during a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = "-"
        record.actor = "-"
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            user = g.get("user")
            record.actor = str(user.id) if user is not None else "-"
        return True


class StripQuery(logging.Filter):
    """Drops query strings from access-log lines (werkzeug dev server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.args:
            try:
                record.msg = record.msg % record.args
                record.args = ()
            except (TypeError, ValueError):
                return True
        if isinstance(record.msg, str):
            record.msg = _QUERY.sub(r"\1?[redacted]", record.msg)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy to ship, easy to grep."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "actor": getattr(record, "actor", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(entry, ensure_ascii=False)


def init_app(app: Flask) -> None:
    """Attach the filters and formatter to the app's and werkzeug's loggers."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    app.logger.handlers = [handler]
    app.logger.propagate = False
    app.logger.setLevel(logging.INFO)
    wz = logging.getLogger("werkzeug")
    if not any(isinstance(f, StripQuery) for f in wz.filters):
        wz.addFilter(StripQuery())
