"""Pages of lists that need an exact total (the store and b2b dialects): ``page`` reads one.

A page with a total is usually two statements: ``COUNT(*)`` and ``ORDER BY … LIMIT … OFFSET``.
For a substring search both evaluate the search (a trigram index scan and a recheck of every
candidate row), and the page query is also at the mercy of the planner: with a small
``LIMIT`` it likes to walk the list's sort index and test rows one by one, which costs as
many rows as it takes to find a page of matches (98 ms for 20 matches of a selective name at
1,000,000 customers, where the count alone takes 25 ms; docs/performance.md).

``page_keys`` runs the filter once, in a ``MATERIALIZED`` common table expression (on
PostgreSQL; SQLite materializes a CTE that is read twice on its own), then counts and sorts
the matches: one statement whose cost grows with the number of matches, not with the size of
the list, and whose plan for the filter is the plan of a count. The caller then reads the
page's rows by their keys.

Use it when the filter is selective (a search). Otherwise ``page`` takes the total the
caller knows (a count kept by tenants/counts.py) or a ``COUNT``, and reads the page by a
deferred join (``window``): its keys are skipped in the index that gives the order, and
only its rows are read.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, QuerySet

KEY = "page_key"


def _ordering(queryset: QuerySet) -> list[tuple[str, bool]]:
    """``[(field or annotation name, descending), …]`` of the queryset's ordering."""
    order = queryset.query.order_by or queryset.model._meta.ordering
    out = []
    for item in order:
        if not isinstance(item, str) or item == "?":
            raise ValueError(f"page_keys needs an ordering by field names, not {item!r}")
        out.append((item.lstrip("-"), item.startswith("-")))
    if not out:
        raise ValueError("page_keys needs an ordered queryset")
    return out


def page_keys(queryset: QuerySet, *, key: str, offset: int, limit: int) -> tuple[list, int]:
    """``(keys of rows offset … offset + limit - 1, total)`` of the ordered ``queryset``.

    ``key`` names a field that identifies a row of the queryset (its primary key, or a
    column unique within the list). Ties in the ordering must already be broken by the
    queryset's ordering (its last field should be unique), as for any stable page.
    """
    if queryset.query.is_sliced:
        raise ValueError("page_keys takes an unsliced queryset")
    order = _ordering(queryset)
    names = {f"page_order_{n}": F(name) for n, (name, _) in enumerate(order)}
    inner = queryset.order_by().annotate(**{KEY: F(key)}, **names).values(KEY, *names)
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:
        return [], 0
    connection = connections[queryset.db]
    qn = connection.ops.quote_name
    hint = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    by = ", ".join(
        f"{{0}}.{qn(name)} {'DESC' if descending else 'ASC'}"
        for name, (_, descending) in zip(names, order, strict=True)
    )
    columns = ", ".join(qn(c) for c in (KEY, *names))
    statement = (
        f"WITH page_matches AS {hint}({sql}),"
        " page_total AS (SELECT COUNT(*) AS n FROM page_matches)"
        f" SELECT page_total.n, page_rows.{qn(KEY)} FROM page_total LEFT JOIN"
        f" (SELECT {columns} FROM page_matches ORDER BY {by.format('page_matches')}"
        " LIMIT %s OFFSET %s) page_rows ON 1 = 1"
        f" ORDER BY {by.format('page_rows')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, limit, offset])
        rows = cursor.fetchall()
    total = rows[0][0] if rows else 0
    to_python = inner.query.annotations[KEY].output_field.to_python
    keys = [to_python(row[1]) for row in rows if row[1] is not None]
    return keys, total


def _fetch(queryset: QuerySet, rows, key: str, keys) -> list:
    fetched = rows(queryset) if rows is not None else queryset
    return list(fetched.filter(**{f"{key}__in": keys}))


def window(queryset: QuerySet, *, key: str, offset: int, limit: int, rows=None) -> list:
    """Rows ``offset … offset + limit - 1`` of the ordered ``queryset``, in one query that
    finds the page's keys first and reads only those rows ("deferred join").

    A plain ``OFFSET`` reads (and computes every annotation of) each skipped row; here the
    subquery skips them in the index that gives the order (index-only when ``key`` and the
    order are in it), and only the page's rows are read, joined and annotated. ``rows``
    (``queryset -> queryset``, e.g. ``values()`` of related fields) shapes the page's rows
    only: the joins it adds must not reach the subquery that skips.
    """
    keys = queryset.values(key)[offset : offset + limit]
    return _fetch(queryset, rows, key, keys)


def page(
    queryset: QuerySet,
    *,
    key: str,
    offset: int,
    limit: int,
    selective: bool,
    total: int | None = None,
    rows=None,
) -> tuple[list, int]:
    """``(rows offset … offset + limit - 1, total)`` of the ordered ``queryset``: two queries
    (one when a selective filter matches nothing, or the page is past the end of a list).

    ``selective``: the queryset has a selective filter (a search), whose matches are found
    once by ``page_keys``; otherwise the total is ``total`` when the caller knows it (a
    count kept by tenants.counts) or a ``COUNT``, and the page a ``window``. ``rows``: as
    for ``window``.
    """
    if selective:
        keys, total = page_keys(queryset, key=key, offset=offset, limit=limit)
        return (_fetch(queryset, rows, key, keys) if keys else []), total
    if total is None:
        total = queryset.count()
    if offset >= total:
        return [], total
    return window(queryset, key=key, offset=offset, limit=limit, rows=rows), total
