"""Service transactions: one transaction per service call, whose integrity errors (also at
COMMIT) become domain errors, and the row locks the running service calls hold."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from django.db import IntegrityError, transaction

from tenants import errors
from tenants.error_codes import ErrorCode


def concurrent_change(exc: IntegrityError) -> errors.DomainError:
    return errors.Conflict(
        "The record was changed by another request at the same time; retry.",
        code=ErrorCode.CONFLICT,
    )


#: the service calls running in this thread, innermost last (``service_atomic``)
_running = threading.local()


def _calls() -> list:
    calls = getattr(_running, "calls", None)
    if calls is None:
        calls = _running.calls = []
    return calls


def service_atomic(
    translate: Callable[[IntegrityError], errors.DomainError] = concurrent_change,
) -> Callable:
    """``transaction.atomic`` for a service, whose ``IntegrityError`` becomes a domain error
    (``translate(exc)``, by default a 409 ``conflict``): raised by its statements, or when its
    transaction commits. Both databases check foreign keys at COMMIT, after the service's own
    code: a row that refers to one removed meanwhile would otherwise fail as a 500.

    Used as ``@service_atomic()``; nested, only the outermost call commits.

    The change events the call emits (tenants.events) are written when the outermost call
    ends, inside its transaction, with one INSERT; a call that fails discards its own."""

    def decorate(func):
        @functools.wraps(func)
        def service(*args, **kwargs):
            from tenants.events import collect

            calls = _calls()
            calls.append(call := object())
            try:
                # the batch is written (or discarded) before the transaction ends
                with transaction.atomic(), collect():
                    return func(*args, **kwargs)
            except IntegrityError as exc:
                raise translate(exc) from exc
            finally:
                calls.remove(call)

        return service

    return decorate


def row_lock_held(instance) -> bool:
    """Whether ``instance``'s row was locked (``row_lock_taken``) by a service call that is
    still running: its lock is held and the instance is what the service has read and
    written since, so a nested service need not lock and read the row again. (A call that
    ended may have rolled its savepoint back, and PostgreSQL then releases the lock.)"""
    call = getattr(instance, "_row_lock_call", None)
    return call is not None and any(c is call for c in _calls())


def row_lock_taken(instance) -> None:
    """Note that the running service call has just locked and read ``instance``'s row."""
    calls = _calls()
    instance._row_lock_call = calls[-1] if calls else None
