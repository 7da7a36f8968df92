"""Logs as one JSON object per line (python-json-logger), and the request line.

``HUB_LOG_FORMAT`` (config/settings.py) picks the console format: ``json`` (the default when
``DJANGO_DEBUG`` is off) or ``plain`` (readable, the default for ``make run``). Either way a
record carries the request id (``tenants.context``).

What never reaches a log line: personal data (names, emails, phones, addresses), request and
response bodies, query strings, raw paths (a request line names its route template, not the
path, whose segments may be an email or an id), credentials (passwords, tokens, API keys:
an actor is named by the row id of its user or key). Records that Django decorates with the
request object (``django.request``, ``django.server``) lose that object here.
tests/test_observability_logs.py scans the logs of a run across every dialect for the
personal values it sent.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from tenants.context import current_request_id

#: a record's extras never written out: Django's ``request`` (its repr holds the raw path
#: and query string) and the socket of ``django.server``
DROPPED_EXTRAS = ("request", "server_time", "socket", "taskName", "color_message")

request_logger = logging.getLogger("hub.request")


class JsonFormatter(_JsonFormatter):
    """``{"timestamp", "level", "logger", "message", "process", "request_id", ...extras}``,
    one line (``process``: the gunicorn worker's pid)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message", "process"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, *DROPPED_EXTRAS])
        super().__init__(*args, **kwargs)
        # Python's warnings go through logging too, so that stderr holds JSON lines only.
        logging.captureWarnings(True)

    def add_fields(self, log_data, record, message_dict):
        super().add_fields(log_data, record, message_dict)
        log_data.setdefault("request_id", getattr(record, "request_id", current_request_id()))


def log_request(**fields) -> None:
    """The request line: ``fields`` are its JSON keys (method, route, status, duration_ms,
    dialect, tenant, actor_kind, actor_id, bytes, queries, request_id); the message repeats
    the essentials for the plain format."""
    request_logger.info(
        "%s %s %s %.1fms",
        fields.get("method"),
        fields.get("route"),
        fields.get("status"),
        fields.get("duration_ms") or 0.0,
        extra=fields,
    )
