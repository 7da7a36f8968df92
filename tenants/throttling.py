"""Rate limits and login lockout (OWASP API4), in a store that every worker shares.

The store (``HUB_LIMITS_STORE``, config/settings.py):

- ``cache``: Django's default cache, Redis when ``REDIS_URL`` is set (``incr`` is atomic);
  without it the process's local memory, where each process counts alone: right for
  ``runserver``, and refused for more than one process by ``manage.py check --deploy``
  (``tenants.W001``, tenants/checks.py) and by deploy/gunicorn.conf.py;
- ``database``: the ``tenants_limitcounter`` table, one atomic upsert per count
  (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on PostgreSQL and SQLite alike), so
  every process and every machine on the database counts together. The table is UNLOGGED
  on PostgreSQL (no WAL flush per request; a crash resets the counters).

The default is ``cache`` when ``REDIS_URL`` is set or ``DJANGO_DEBUG`` is on, ``database``
otherwise: production without Redis shares its limits through the database.

Rates (``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``, each from an environment variable;
``"N/s"``, ``"N/min"``, ``"N/hour"``, ``"N/day"``; ``off`` disables one):

- ``api`` (``HUB_API_RATE``, default ``100000/hour``): every API request, per authenticated
  principal: the knox token, the API key or the session's user, however the credential is
  spelled (``bearer``/``BEARER``, a Basic key with any password); a request whose
  credentials are refused counts on its client address. Generous by default so tests and
  benchmarks are not throttled;
- ``login`` (``HUB_LOGIN_RATE``, default ``20/min``): password attempts (``POST
  /api/auth/login``, ``POST /api/auth/token``, ``/admin/login/``), per client address;
- ``login_username`` (``HUB_LOGIN_USERNAME_RATE``, default ``10/min``): the same attempts,
  per user name whatever the address (a distributed guess at one account is slowed down),
  except from an address that logged in as that user in the last
  ``HUB_LOGIN_KNOWN_ADDRESS_DAYS`` (30): whoever keeps a name's budget spent does not keep
  its owner out.

Client addresses come from ``tenants.proxies.client_ip`` (``X-Forwarded-For`` only through
``HUB_TRUSTED_PROXIES`` proxies). A throttled request is a 429 with ``Retry-After``
(seconds) in the dialect's error format; the admin shows the same refusal as a form error.

Lockout (django-axes' ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``):
``HUB_LOGIN_LOCKOUT_ATTEMPTS`` (5) failed logins for one user name from one client address
within ``HUB_LOGIN_LOCKOUT_MINUTES`` (15) lock that pair for ``HUB_LOGIN_LOCKOUT_MINUTES``:
even the right password is refused from that address, while the same user from another
address is not locked, so an anonymous caller cannot lock a known user out. The lock applies
to any user name, existing or not (it reveals nothing about which accounts exist); a
successful login clears the failure count. The API login, the token endpoint and the admin
login share one policy and one implementation: ``authenticate_password``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import connections, router
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from tenants import metrics
from tenants.proxies import client_ip

logger = logging.getLogger("hub.limits")
PREFIX = "hub:"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class LoginLocked(exceptions.Throttled):
    """A login refused because (user name, client address) is locked: a 429 like the rates."""

    default_detail = (
        "Too many failed logins for this user name from this address; it is locked for a while."
    )


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


# --- the store --------------------------------------------------------------------------------


class CacheStore:
    """Django's default cache: shared and atomic with Redis, per process in local memory."""

    def incr(self, name: str, period: int) -> tuple[int, float | None]:
        """Count one hit in ``name``'s window, which starts with its first hit and lasts
        ``period`` seconds; (hits so far, the window's end when known without a lookup)."""
        key = PREFIX + name
        now = time.time()
        if cache.add(key, 1, timeout=period):
            cache.set(key + ":end", now + period, timeout=period)
            return 1, now + period
        try:
            return cache.incr(key), None
        except ValueError:  # the window's key expired between add() and incr()
            cache.set(key, 1, timeout=period)
            cache.set(key + ":end", now + period, timeout=period)
            return 1, now + period

    def window_end(self, name: str, period: int) -> float:
        end = cache.get(PREFIX + name + ":end")
        return time.time() + period if end is None else float(end)

    def mark(self, name: str, seconds: float) -> None:
        cache.set(PREFIX + name, time.time() + seconds, timeout=math.ceil(seconds))

    def marked_for(self, name: str) -> float:
        until = cache.get(PREFIX + name)
        return 0.0 if until is None else max(0.0, until - time.time())

    def delete(self, name: str) -> None:
        cache.delete_many([PREFIX + name, PREFIX + name + ":end"])

    def is_shared(self) -> bool:
        """Whether another process sees the same counts (a network cache)."""
        backend = settings.CACHES.get("default", {}).get("BACKEND", "")
        return backend.rsplit(".", 1)[-1] in SHARED_CACHE_BACKENDS


#: Django cache backends that every process reaches and whose ``incr`` is atomic.
SHARED_CACHE_BACKENDS = frozenset({"RedisCache", "PyMemcacheCache", "PyLibMCCache"})


class DatabaseStore:
    """The ``tenants_limitcounter`` table: one row per name, counted by an atomic upsert.

    A counter's window starts with its first hit and lasts ``period`` seconds; the upsert
    restarts an expired row at 1, so a name keeps one row. Every ``PURGE_EVERY`` counts a
    process deletes the expired rows. The statements run on the request's own connection (a
    count inside a transaction joins it: docs/reliability.md §5), and take time from this
    machine's clock, so the application servers' clocks must agree (NTP)."""

    table = "tenants_limitcounter"
    PURGE_EVERY = 1000

    def __init__(self):
        self._counts = 0

    def _connection(self):
        from tenants.models import LimitCounter

        return connections[router.db_for_write(LimitCounter)]

    def incr(self, name: str, period: int) -> tuple[int, float | None]:
        now = time.time()
        connection = self._connection()
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (name, hits, expires_at) VALUES (%s, 1, %s) "
                f"ON CONFLICT (name) DO UPDATE SET "
                f"hits = CASE WHEN {table}.expires_at <= %s THEN 1 ELSE {table}.hits + 1 END, "
                f"expires_at = CASE WHEN {table}.expires_at <= %s "
                f"THEN excluded.expires_at ELSE {table}.expires_at END "
                f"RETURNING hits, expires_at",
                [name, now + period, now, now],
            )
            hits, expires_at = cursor.fetchall()[0]
        self._counts += 1
        if self._counts % self.PURGE_EVERY == 0:
            self.purge()
        return int(hits), float(expires_at)

    def window_end(self, name: str, period: int) -> float:
        return time.time() + self.marked_for(name)

    def mark(self, name: str, seconds: float) -> None:
        connection = self._connection()
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (name, hits, expires_at) VALUES (%s, 0, %s) "
                f"ON CONFLICT (name) DO UPDATE SET hits = 0, expires_at = excluded.expires_at",
                [name, time.time() + seconds],
            )

    def marked_for(self, name: str) -> float:
        connection = self._connection()
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT expires_at FROM {table} WHERE name = %s", [name])
            row = cursor.fetchone()
        return 0.0 if row is None else max(0.0, float(row[0]) - time.time())

    def delete(self, name: str) -> None:
        connection = self._connection()
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE name = %s", [name])

    def purge(self) -> int:
        connection = self._connection()
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE expires_at < %s", [time.time()])
            return cursor.rowcount

    def is_shared(self) -> bool:
        return True


_STORES = {"cache": CacheStore(), "database": DatabaseStore()}


def store():
    """The configured store (read at call time, so settings overrides apply)."""
    kind = getattr(settings, "HUB_LIMITS_STORE", "cache") or "cache"
    try:
        return _STORES[kind]
    except KeyError:
        message = f"HUB_LIMITS_STORE must be one of {sorted(_STORES)}, not {kind!r}"
        raise ValueError(message) from None


def limits_are_shared() -> bool:
    """Whether every process counts the same limits (False: each process counts alone)."""
    return store().is_shared()


def hit(bucket: str, rate: tuple[int, int]) -> float | None:
    """Count one request in ``bucket``; the wait in seconds when it is over its rate."""
    limit, period = rate
    name = f"throttle:{bucket}"
    count, window_end = store().incr(name, period)
    if count <= limit:
        return None
    if window_end is None:
        window_end = store().window_end(name, period)
    return max(1.0, window_end - time.time())


# --- API rate (DRF throttles) -----------------------------------------------------------------


class WindowThrottle(BaseThrottle):
    """A fixed-window counter per (scope, identity) in the store."""

    scope = ""

    def get_ident(self, request):
        return client_ip(request)

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
        if self._wait is not None:
            metrics.limit_refused(self.scope)
        return self._wait is None

    def wait(self):
        return self._wait


def principal(request) -> str:
    """Who is calling, whatever the spelling of the credential: the API key, the knox
    token, the session's user; the client address when no credential was accepted."""
    user = getattr(request, "user", None)
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        return f"apikey:{api_key.pk}"
    auth = getattr(request, "auth", None)
    token_pk = getattr(auth, "pk", None) if auth is not None else None
    if token_pk is not None:
        return f"token:{token_pk}"
    if user is not None and user.is_authenticated and user.pk is not None:
        return f"user:{user.pk}"
    return "ip:" + client_ip(request)


class CredentialRateThrottle(WindowThrottle):
    """Every API request, per authenticated principal (REST_FRAMEWORK's default throttle).

    DRF runs throttles after authentication; a refused credential is counted on the client
    address by ``DialectViewMixin.perform_authentication`` (tenants/api/dialect.py)."""

    scope = "api"

    def identity(self, request, view):
        return principal(request)


#: The password endpoints' DRF throttles: the API rate per principal (the client address:
#: they take no credential). Their password rates and lockout are ``authenticate_password``.
LOGIN_THROTTLES = [CredentialRateThrottle]


# --- password attempts: one policy for the API login, the token endpoint and the admin -------


def lockout_attempts() -> int:
    return int(getattr(settings, "HUB_LOGIN_LOCKOUT_ATTEMPTS", 5))


def lockout_seconds() -> int:
    return max(1, math.ceil(float(getattr(settings, "HUB_LOGIN_LOCKOUT_MINUTES", 15)) * 60))


def known_address_seconds() -> int:
    return max(0, math.ceil(float(getattr(settings, "HUB_LOGIN_KNOWN_ADDRESS_DAYS", 30)) * 86400))


def _normal(username: str) -> str:
    return username.strip().lower()


def _keys(username: str, address: str) -> tuple[str, str]:
    """The store names of the failure count and the lock of (user name, client address)."""
    digest = _digest(f"{_normal(username)}\n{address}")
    return f"login-failures:{digest}", f"login-lock:{digest}"


def _known_key(username: str, address: str) -> str:
    return f"login-known:{_digest(_normal(username) + chr(10) + address)}"


def login_rate_check(request, username: str) -> None:
    """Count one password attempt against the per-address and per-name rates (429 when over)."""
    address = client_ip(request)
    waits = {}
    rate = current_rate("login")
    if rate is not None:
        waits["login"] = hit(f"login:{_digest(address)}", rate)
    rate = current_rate("login_username")
    if rate is not None and not store().marked_for(_known_key(username, address)):
        waits["login_username"] = hit(f"login_username:{_digest(_normal(username))}", rate)
    waits = {scope: wait for scope, wait in waits.items() if wait is not None}
    if waits:
        for scope in waits:
            metrics.limit_refused(scope)
        raise exceptions.Throttled(wait=max(waits.values()))


def login_locked_for(request, username: str) -> int:
    """Seconds (user name, client address) stays locked (0: not locked)."""
    _, lock_key = _keys(username, client_ip(request))
    return math.ceil(store().marked_for(lock_key))


def login_guard(request, username: str) -> None:
    """Refuse (429 + Retry-After) a login of a locked (user name, address), whatever the password."""
    wait = login_locked_for(request, username)
    if wait > 0:
        metrics.limit_refused("lockout")
        raise LoginLocked(wait=wait)


def login_failed(request, username: str) -> None:
    """Count a failure of (user name, address); lock the pair at the threshold."""
    address = client_ip(request)
    failures_key, lock_key = _keys(username, address)
    seconds = lockout_seconds()
    failures, _ = store().incr(failures_key, seconds)
    if failures >= lockout_attempts():
        store().mark(lock_key, seconds)
        store().delete(failures_key)
        metrics.login_lockouts.inc()
        # The address, not the user name (the log keeps no personal names).
        logger.warning(
            "Login locked for %d s after %d failures from %s", seconds, failures, address
        )


def login_succeeded(request, username: str) -> None:
    address = client_ip(request)
    failures_key, _ = _keys(username, address)
    store().delete(failures_key)
    if known_address_seconds():
        store().mark(_known_key(username, address), known_address_seconds())


def authenticate_password(request, *, username: str, password: str):
    """The user for ``username`` and ``password``, or None; ``Throttled`` when refused.

    The one password check of ``POST /api/auth/login``, ``POST /api/auth/token`` and
    ``/admin/login/``: the rates, then the lock, then Django's ``authenticate``."""
    login_rate_check(request, username)
    login_guard(request, username)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        login_failed(request, username)
        return None
    login_succeeded(request, username)
    return user
