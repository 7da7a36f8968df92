"""What the current unit of work is, for the logs and metrics: the request id, and what a
request learns as it runs (its tenant).

The request id is set by ``config.middleware.RequestIdMiddleware`` for a request. Background
work carries it: whoever enqueues a task passes ``current_request_id()`` along with the
task's arguments (``carried()``), and the task runs bound to it (``runs_with_request_id``,
or ``request_id_bound`` around a block), so that its log lines name the request that caused
it::

    @task()
    @runs_with_request_id
    def deliver(*, event_id):
        ...

    deliver.enqueue(event_id=event.pk, **carried())
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import re
import uuid
from collections.abc import Iterator

#: no request: management commands, the shell, a task started without one
NO_REQUEST = "-"
_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "hub_request_id", default=NO_REQUEST
)
_tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("hub_tenant", default=None)


def sane_request_id(value: str | None) -> str | None:
    """``value`` when it may be used as a request id (a client's or a task's), else None."""
    return value if value and _SANE_ID.match(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request (or of the task's originating request) being served."""
    return _request_id.get()


@contextlib.contextmanager
def request_id_bound(request_id: str | None) -> Iterator[str]:
    """Run a block under ``request_id`` (a fresh one when it is missing or not sane), with
    a tenant of its own; yields the id in force."""
    bound = sane_request_id(request_id) or new_request_id()
    token = _request_id.set(bound)
    tenant_token = _tenant.set(None)
    try:
        yield bound
    finally:
        _tenant.reset(tenant_token)
        _request_id.reset(token)


def carried() -> dict[str, str]:
    """The keyword arguments that carry the current request id into a task."""
    return {"request_id": current_request_id()}


def runs_with_request_id(func):
    """A task function that takes ``request_id=`` (from ``carried()``) and runs bound to it;
    called without one, it runs under a fresh id."""

    @functools.wraps(func)
    def bound(*args, request_id: str = "", **kwargs):
        with request_id_bound(request_id):
            return func(*args, **kwargs)

    return bound


def note_tenant(slug: str) -> None:
    """The tenant the current request was granted (tenants.access): its logs and metrics
    name it. Only a tenant that exists and that the caller may use is noted, so the values
    are the tenants' slugs and nothing a caller typed."""
    _tenant.set(slug)


def current_tenant() -> str | None:
    return _tenant.get()


class RequestIdLogFilter(logging.Filter):
    """Give every log record the current request id (``%(request_id)s``)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True
