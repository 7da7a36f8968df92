"""Readiness (``/readyz``): whether this process should be sent traffic now.

``/healthz`` is liveness: the process answers and reaches its database. ``/readyz`` also asks
the cache (Redis when ``REDIS_URL`` is set: the rate limits and the lockout count there) and
every check another part of the hub registered (the task queue: a worker seen lately, the
oldest pending task young enough). It answers 503 naming each failing check.

A check is a function without arguments that returns None when ready, or a short reason
(no personal data, no connection strings) when not; an exception counts as a failure named
by its class. Register one from an ``AppConfig.ready``::

    readiness.register_check("worker", worker_seen_recently)
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connections

logger = logging.getLogger("hub.readiness")

Check = Callable[[], str | None]
_CHECKS: dict[str, Check] = {}


def register_check(name: str, check: Check) -> None:
    _CHECKS[name] = check


def unregister_check(name: str) -> None:
    _CHECKS.pop(name, None)


def database() -> str | None:
    """A round trip to every configured database (the replica too, when there is one)."""
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    return None


def cache_round_trip() -> str | None:
    """Write, read and delete a key in the default cache."""
    key = f"hub:readyz:{uuid.uuid4().hex}"
    cache.set(key, 1, timeout=10)
    try:
        if cache.get(key) != 1:
            return "the cache did not return what was written"
    finally:
        cache.delete(key)
    return None


BUILT_IN: dict[str, Check] = {"database": database, "cache": cache_round_trip}


def checks() -> dict[str, Check]:
    return {**BUILT_IN, **_CHECKS}


def run_checks() -> dict[str, dict]:
    """``{name: {"status": "ok"|"failing", "detail"?: reason, "ms": duration}}``."""
    results = {}
    for name, check in checks().items():
        started = time.perf_counter()
        try:
            reason = check()
        except Exception as exc:
            logger.warning("Readiness check %s failed: %s", name, type(exc).__name__)
            reason = f"{type(exc).__name__}"
        result = {"status": "ok" if reason is None else "failing"}
        if reason is not None:
            result["detail"] = reason
        result["ms"] = round((time.perf_counter() - started) * 1000, 1)
        results[name] = result
    return results
