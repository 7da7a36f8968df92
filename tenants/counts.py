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
- bounded: with probability ``COMPACT_PROBABILITY`` a statement merges its owners' deltas
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

Apps declare what they count in a migration (``install``/``uninstall``: the triggers, and
one count of the rows already there) and read it with ``total``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import QuerySet

TABLE = "tenants_rowcount"
COMPACT_PROBABILITY = 0.03  # on average an owner holds ~1/p deltas between compactions

COMPACT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION hub_rowcount_compact(p_scope varchar, p_owner uuid)
RETURNS void LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM {TABLE} WHERE id IN (
            SELECT id FROM {TABLE} WHERE scope = p_scope AND owner = p_owner
            FOR UPDATE SKIP LOCKED
        ) RETURNING delta
    )
    INSERT INTO {TABLE} (scope, owner, delta)
    SELECT p_scope, p_owner, SUM(delta) FROM gone HAVING COUNT(*) > 0
$$;
"""
DROP_COMPACT_FUNCTION = "DROP FUNCTION IF EXISTS hub_rowcount_compact(varchar, uuid)"


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


def _selects(counts, rows: str, sign: str) -> str:
    return " UNION ALL ".join(
        f"SELECT '{scope}'::varchar AS scope, {owner} AS owner, {sign}1 AS n"
        f" FROM {rows} WHERE {condition}"
        for scope, owner, condition in counts
    )


def trigger_sql(*, table: str, function: str, counts: list[tuple[str, str, str]]):
    """``(create statements, drop statements)`` of the triggers that keep ``counts`` of
    ``table``: ``(scope, owner column, SQL condition on a row)`` each, e.g.
    ``("customers.active", "tenant_id", "is_active")``."""
    touched = {
        rows: " UNION ".join(
            f"SELECT '{scope}'::varchar AS scope, {owner} AS owner FROM {rows}"
            for scope, owner, _ in counts
        )
        for rows in ("new_rows", "old_rows")
    }

    def deltas(body: str) -> str:
        return (
            f"INSERT INTO {TABLE} (scope, owner, delta) SELECT scope, owner, SUM(n)"
            f" FROM ({body}) d GROUP BY scope, owner HAVING SUM(n) <> 0;"
        )

    def compact(owners: str) -> str:
        return (
            f"IF random() < {COMPACT_PROBABILITY} THEN"
            f" PERFORM hub_rowcount_compact(t.scope, t.owner) FROM ({owners}) t; END IF;"
        )

    insert = _selects(counts, "new_rows", "+")
    delete = _selects(counts, "old_rows", "-")
    create = [
        # no write may slip between the triggers and the backfill that follows them
        f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE",
        f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {deltas(insert)}
        {compact(touched["new_rows"])}
    ELSIF TG_OP = 'DELETE' THEN
        {deltas(delete)}
        {compact(touched["old_rows"])}
    ELSE
        {deltas(insert + " UNION ALL " + delete)}
        {compact(touched["new_rows"] + " UNION " + touched["old_rows"])}
    END IF;
    RETURN NULL;
END $$;
""",
        f"CREATE TRIGGER {function}_insert AFTER INSERT ON {table}"
        f" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_delete AFTER DELETE ON {table}"
        f" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {function}_update AFTER UPDATE ON {table}"
        f" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]
    drop = [
        *(
            f"DROP TRIGGER IF EXISTS {function}_{op} ON {table}"
            for op in ("insert", "delete", "update")
        ),
        f"DROP FUNCTION IF EXISTS {function}()",
    ]
    return create, drop


def forget_sql(*, counts: list[tuple[str, str, str]]) -> str:
    """The statement that deletes ``counts``' deltas."""
    scopes = ", ".join(f"'{scope}'" for scope, _, _ in counts)
    return f"DELETE FROM {TABLE} WHERE scope IN ({scopes})"


def backfill_sql(*, table: str, counts: list[tuple[str, str, str]]) -> list[str]:
    """Statements that replace ``counts``' deltas with one row per owner counted from
    ``table``: run them after ``trigger_sql``'s, in the same transaction."""
    return [
        forget_sql(counts=counts),
        *(
            f"INSERT INTO {TABLE} (scope, owner, delta) SELECT '{scope}', {owner}, COUNT(*)"
            f" FROM {table} WHERE {condition} GROUP BY {owner}"
            for scope, owner, condition in counts
        ),
    ]


def install(schema_editor, *, table: str, function: str, counts: list[tuple[str, str, str]]):
    """Create ``counts``' triggers on ``table`` and count its existing rows (a migration's
    forward step; nothing on databases other than PostgreSQL)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    create, _ = trigger_sql(table=table, function=function, counts=counts)
    for sql in (*create, *backfill_sql(table=table, counts=counts)):
        schema_editor.execute(sql)


def uninstall(schema_editor, *, table: str, function: str, counts: list[tuple[str, str, str]]):
    """Drop ``counts``' triggers and forget their deltas (a migration's backward step)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    _, drop = trigger_sql(table=table, function=function, counts=counts)
    for sql in (*drop, forget_sql(counts=counts)):
        schema_editor.execute(sql)
