"""Exact counts without counting: totals of large lists (the b2b customer list of a tenant,
a store's customer list) read from deltas kept by PostgreSQL triggers.

``COUNT(*)`` of a tenant's 1,000,000 customers is an index scan of a million entries
(110-165 ms, docs/performance.md), paid by every page of an unfiltered list because the
dialects return exact totals. Instead, statement-level triggers (with transition tables, so
a COPY or bulk INSERT of 10,000 rows adds one row) append signed deltas to
``tenants_rowcount`` for each (scope, owner) a statement changes, and a total is the sum of
its owner's deltas:

- exact: the sum is read in the reader's snapshot, so it equals ``COUNT(*)`` at that moment,
  committed deltas included and uncommitted ones not;
- no contention: writers only append rows; no counter row is updated, so concurrent writers
  of one tenant never wait for each other and cannot deadlock on it;
- bounded: with probability 0.03 a statement merges its owners' deltas
  into one row (``hub_rowcount_compact``: ``DELETE … RETURNING`` of the rows it can lock
  without waiting, ``FOR UPDATE SKIP LOCKED``, and one ``INSERT`` of their sum, in the
  writer's transaction), so an owner has a few dozen rows on average;
- versioned: the set of an owner's delta rows changes with every statement that changed
  its rows (a new row) and with every merge (a new row, even for a sum of 0), so a digest
  of their ids is a version of the counted rows (``counted``, used by tenants/paging.py).

Every way rows change goes through the triggers: the ORM, bulk and raw SQL, COPY, cascades.
``TRUNCATE`` does not fire them (tests' flushes truncate both tables). SQLite has no such
triggers here: there a total is ``COUNT(*)``, which is what an embedded database of modest
size should do anyway.

Apps declare what they count in a migration that writes out its SQL (the triggers, and one
count of the rows already there: customers/migrations/0003, stores/migrations/0003; the
merge function: tenants/migrations/0003 and 0004) and read it with ``total``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet

TABLE = "tenants_rowcount"


def total(scope: str, owner, rows: QuerySet) -> int:
    """The number of ``rows``, which must be exactly the rows ``scope`` counts for ``owner``:
    the sum of the triggers' deltas on PostgreSQL, ``rows.count()`` elsewhere."""
    return counted(scope, owner, rows).total


#: a digest of the delta rows an owner has: every statement that adds or removes rows of the
#: owner appends a row (a new id), and a compaction replaces rows by a new one, so the digest
#: changes whenever the counted rows may have, and only then
_VERSION = "md5(string_agg(id::text, ',' ORDER BY id))"


@dataclass(frozen=True)
class Counted:
    """The rows ``scope`` counts for ``owner``: their number, and their ``version``.

    The version (``None`` where counts are not kept) changes whenever a statement adds or
    removes rows, and stays the same while none does: what was derived from the rows under
    one version (the landmarks of tenants/paging.py) holds while the version does, provided
    the rows' order keys never change. A statement that changes no count leaves no trace: an
    UPDATE, or one that adds and removes as many rows of the owner (none of the app's)."""

    scope: str
    owner: Any
    total: int
    version: str | None

    def version_sql(self) -> tuple[str, list]:
        """A statement of one row and column, the current version (for reading it in the
        same snapshot as what is derived from the rows)."""
        return (
            f"SELECT {_VERSION} FROM {TABLE} WHERE scope = %s AND owner = %s",
            [self.scope, self.owner],
        )


def counted(scope: str, owner, rows: QuerySet) -> Counted:
    """``total`` and the version of ``rows`` (see ``Counted``), in one statement."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return Counted(scope, owner, rows.count(), None)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE(SUM(delta), 0), {_VERSION} FROM {TABLE}"
            " WHERE scope = %s AND owner = %s",
            [scope, owner],
        )
        number, version = cursor.fetchone()
    return Counted(scope, owner, int(number), version or "")
