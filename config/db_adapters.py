"""Faster ``timestamptz`` loading on PostgreSQL (psycopg 3).

Django registers its own ``timestamptz`` loader on every connection, a Python subclass of
psycopg's *pure-Python* loader, so each timestamp read is parsed in Python (about 10 µs: a
page of 100 customers with their addresses reads ~400 of them, several milliseconds of a
request; docs/performance.md). When the database session's time zone is UTC, which is what
Django sets when ``TIME_ZONE = "UTC"`` and ``USE_TZ = True``, psycopg's C loader returns the
very same values (aware datetimes in ``datetime.timezone.utc``), so it is registered instead.
Any other configuration keeps Django's loader.
"""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.db.backends.signals import connection_created


def _c_loader():
    try:
        from psycopg import adapters, pq
        from psycopg.postgres import types
    except ImportError:  # psycopg 2, or no PostgreSQL driver at all
        return None, None
    oid = types["timestamptz"].oid
    native = adapters.get_loader(oid, pq.Format.TEXT)
    if native is None or native.__module__.startswith("psycopg.types"):
        return None, None  # no C extension (psycopg[c] or psycopg[binary]): nothing to gain

    from psycopg.adapt import Loader

    class UtcTimestamptzLoader(Loader):
        """Parses with psycopg's C loader (which cannot be subclassed); ``timezone`` is what
        Django's cursor setup compares with before registering its own loader."""

        timezone = UTC

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._parse = native(oid, context).load

        def load(self, data):
            return self._parse(data)

    return oid, UtcTimestamptzLoader


OID, LOADER = _c_loader()


def use_c_timestamptz_loader(sender, connection, **kwargs) -> bool:
    """On a new PostgreSQL connection whose session time zone is UTC, load ``timestamptz``
    values with psycopg's C loader. Returns whether it did."""
    if LOADER is None or connection.vendor != "postgresql" or not settings.USE_TZ:
        return False
    if connection.timezone != UTC:
        return False
    raw = connection.connection
    if raw.info.parameter_status("TimeZone") != "UTC":
        return False
    raw.adapters.register_loader(OID, LOADER)
    return True


def install() -> None:
    connection_created.connect(use_c_timestamptz_loader, dispatch_uid="hub-c-timestamptz")
