"""Rate limits and login lockout (OWASP API4), kept in the cache so they hold across workers.

The cache is Redis when ``REDIS_URL`` is set (production), the process's local memory
otherwise (config/settings.py).

Rates (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, each from an environment variable;
``"N/s"``, ``"N/min"``, ``"N/hour"``, ``"N/day"``; ``off`` disables one):

- ``api`` (``HUB_API_RATE``, default ``100000/hour``): every API request, per credential (a
  hash of the ``Authorization`` value, or the session's user); generous by default so tests
  and benchmarks are not throttled;
- ``login`` (``HUB_LOGIN_RATE``, default ``20/min``): ``POST /api/auth/login`` and
  ``POST /api/auth/token``, per client IP;
- ``login_username`` (``HUB_LOGIN_USERNAME_RATE``, default ``10/min``): the same endpoints,
  per user name (whatever the IP: a distributed guess at one account is slowed down too).

A throttled request is a 429 with ``Retry-After`` (seconds) in the dialect's error format.
Counters are fixed windows (one ``incr`` per request, O(1), atomic in Redis and in local
memory), not DRF's per-request timestamp lists.

Lockout: ``HUB_LOGIN_LOCKOUT_ATTEMPTS`` (5) failed logins for one user name within
``HUB_LOGIN_LOCKOUT_MINUTES`` (15) lock that user name for ``HUB_LOGIN_LOCKOUT_MINUTES``:
even the right password is then refused with 429 + ``Retry-After``. The lock applies to any
user name, existing or not, so it reveals nothing about which accounts exist; a successful
login clears the failure count.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

PREFIX = "hub:"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """``"20/min"`` -> (20, 60); ``None``/``""``/``"off"`` -> None (no limit)."""
    if not rate or str(rate).strip().lower() in {"off", "none", "0"}:
        return None
    num, _, period = str(rate).partition("/")
    period = period.strip().lower()
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period.lstrip("0123456789")[:1]
    return int(num), int(digits or 1) * _PERIODS[unit]


def current_rate(scope: str) -> tuple[int, int] | None:
    # Read at call time (DRF reloads api_settings when settings change), so tests and
    # deployments can change a rate without re-importing anything.
    return parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(scope))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def hit(bucket: str, rate: tuple[int, int]) -> float | None:
    """Count one request in ``bucket``'s current window; the wait in seconds when over."""
    limit, period = rate
    now = time.time()
    window = int(now // period)
    key = f"{PREFIX}throttle:{bucket}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the window's key expired between add() and incr()
        cache.set(key, 1, timeout=period + 1)
        count = 1
    if count > limit:
        return max(1.0, (window + 1) * period - now)
    return None


class WindowThrottle(BaseThrottle):
    """A fixed-window counter per (scope, identity) in the cache."""

    scope = ""

    def identity(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view):
        self._wait = None
        rate = current_rate(self.scope)
        if rate is None:
            return True
        ident = self.identity(request, view)
        if ident is None:
            return True
        self._wait = hit(f"{self.scope}:{_digest(ident)}", rate)
        return self._wait is None

    def wait(self):
        return self._wait


class CredentialRateThrottle(WindowThrottle):
    """Every API request, per credential (REST_FRAMEWORK's default throttle)."""

    scope = "api"

    def identity(self, request, view):
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        if authorization:
            return "auth:" + authorization
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.pk is not None:
            return f"user:{user.pk}"
        return "ip:" + (self.get_ident(request) or "")


class LoginIpThrottle(WindowThrottle):
    """Password endpoints, per client IP (only their POST)."""

    scope = "login"

    def identity(self, request, view):
        if request.method != "POST":
            return None
        return self.get_ident(request)


def _username_of(request) -> str | None:
    data = request.data
    if not hasattr(data, "get"):
        return None
    username = data.get("username")
    if not isinstance(username, str) or not username.strip():
        return None
    return username.strip().lower()


class LoginUsernameThrottle(WindowThrottle):
    """Password endpoints, per user name (only their POST)."""

    scope = "login_username"

    def identity(self, request, view):
        if request.method != "POST":
            return None
        return _username_of(request)


LOGIN_THROTTLES = [LoginIpThrottle, LoginUsernameThrottle, CredentialRateThrottle]


# --- lockout ----------------------------------------------------------------------------------


def lockout_attempts() -> int:
    return int(getattr(settings, "HUB_LOGIN_LOCKOUT_ATTEMPTS", 5))


def lockout_seconds() -> int:
    return max(1, math.ceil(float(getattr(settings, "HUB_LOGIN_LOCKOUT_MINUTES", 15)) * 60))


def _keys(username: str) -> tuple[str, str]:
    digest = _digest(username.strip().lower())
    return f"{PREFIX}login-failures:{digest}", f"{PREFIX}login-lock:{digest}"


def login_locked_for(username: str) -> int:
    """Seconds the user name stays locked (0: not locked)."""
    _, lock_key = _keys(username)
    until = cache.get(lock_key)
    if until is None:
        return 0
    return max(0, math.ceil(until - time.time()))


def login_guard(username: str) -> None:
    """Refuse (429 + Retry-After) a login for a locked user name, whatever the password."""
    wait = login_locked_for(username)
    if wait > 0:
        raise exceptions.Throttled(
            wait=wait,
            detail="Too many failed logins for this user name; it is locked for a while.",
        )


def login_failed(username: str) -> None:
    """Count a failure; lock the user name at the threshold."""
    failures_key, lock_key = _keys(username)
    seconds = lockout_seconds()
    cache.add(failures_key, 0, timeout=seconds)
    try:
        failures = cache.incr(failures_key)
    except ValueError:
        cache.set(failures_key, 1, timeout=seconds)
        failures = 1
    if failures >= lockout_attempts():
        cache.set(lock_key, time.time() + seconds, timeout=seconds)
        cache.delete(failures_key)


def login_succeeded(username: str) -> None:
    failures_key, _ = _keys(username)
    cache.delete(failures_key)
