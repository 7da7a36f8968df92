"""Read replicas: safe reads go to the ``replica`` database, everything else to ``default``.

Active only when ``DATABASE_REPLICA_URL`` is set (config/settings.py then adds the
``replica`` alias, this router and ``ReplicaReadsMiddleware``). A read goes to the replica
only when all of these hold:

* it happens while handling a request with a safe method (GET, HEAD, OPTIONS), as marked by
  ``ReplicaReadsMiddleware`` (management commands, the shell, background work and unsafe
  requests read from the primary);
* no write has been routed yet in this request: the first write (including
  ``select_for_update``, ``get_or_create`` and ``update``) pins the rest of the request to
  the primary, so a request reads its own writes;
* the primary connection is not inside a transaction (``atomic``): reads in a transaction
  see that transaction's snapshot.

Replication lag is therefore visible only *between* requests: a client that writes and then
reads in the next request may, for the duration of the lag, read the older row from the
replica (docs/scaling.md). ``use_primary()`` forces the primary for a block of code.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.core.signals import request_finished
from django.db import connections

PRIMARY = "default"
REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: True while the current request may read from the replica
_replica_reads: ContextVar[bool] = ContextVar("hub_replica_reads", default=False)


def replica_reads_allowed() -> bool:
    return _replica_reads.get()


def allow_replica_reads(allowed: bool = True) -> None:
    """Mark the current context as one whose reads may go to the replica (or not)."""
    _replica_reads.set(allowed)


@contextmanager
def use_primary():
    """Route every read in the block to the primary."""
    token = _replica_reads.set(False)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class PrimaryReplicaRouter:
    """The router named in ``DATABASE_ROUTERS`` when a replica is configured."""

    def db_for_read(self, model, **hints):
        if not _replica_reads.get():
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        if REPLICA not in connections.settings:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints):
        # A write pins the rest of the request to the primary (read your own writes).
        _replica_reads.set(False)
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data: objects read from either may be related.
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica receives the schema through replication, never through migrate.
        return db == PRIMARY


class ReplicaReadsMiddleware:
    """Lets the reads of safe requests go to the replica (see the module docstring).

    The mark is cleared when the response is closed (``request_finished``), not when the
    view returns, so the rows of a streamed response are read from the replica too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _replica_reads.set(request.method in SAFE_METHODS)
        return self.get_response(request)


def _request_finished(**kwargs):
    _replica_reads.set(False)


request_finished.connect(_request_finished, dispatch_uid="hub_replica_reads_finished")
