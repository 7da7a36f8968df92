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

Skipping is still linear in the page number (page 1,000 of 100 skips 99,900 index entries,
~12 ms). A list whose count is kept (``tenants.counts.Counted``: a total and a version that
changes whenever rows are added or removed) is also given **landmarks**: the order keys of
the rows at every ``LANDMARK_EVERY``-th position, found once per version of the list (one
index-only pass, in the same statement as the version it belongs to) and kept in this
process. A deep page then starts after the nearest landmark before it (a keyset condition the
index serves) and skips fewer than ``LANDMARK_EVERY`` rows. While the list keeps changing,
landmarks are measured again at most every ``LANDMARK_REFRESH_S`` seconds (or 100 times as
long as measuring them took); in between, pages skip as before. Only for lists whose order
keys never change (creation times and ids), since updates leave the version as it is.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, Q, QuerySet

from tenants.counts import Counted

KEY = "page_key"
#: a landmark every this many rows of a versioned list
LANDMARK_EVERY = 1_000
#: a list whose version changed has its landmarks measured again at most this often
LANDMARK_REFRESH_S = 10.0
#: how many lists' landmarks a process keeps (the least recently used go first)
LANDMARK_LISTS = 256


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


def _order_columns(connection, order):
    """``(annotations naming the values of ``order``, the ORDER BY text on them with
    ``{0}`` for the relation)``: what page_keys and the landmarks select and sort on."""
    qn = connection.ops.quote_name
    names = {f"page_order_{n}": F(name) for n, (name, _) in enumerate(order)}
    by = ", ".join(
        f"{{0}}.{qn(name)} {'DESC' if descending else 'ASC'}"
        for name, (_, descending) in zip(names, order, strict=True)
    )
    return names, by


def page_keys(
    queryset: QuerySet, *, key: str, offset: int, limit: int, cap: int | None = None
) -> tuple[list, int]:
    """``(keys of rows offset … offset + limit - 1, total)`` of the ordered ``queryset``.

    ``key`` names a field that identifies a row of the queryset (its primary key, or a
    column unique within the list). Ties in the ordering must already be broken by the
    queryset's ordering (its last field should be unique), as for any stable page.

    ``cap``: stop after ``cap + 1`` matches (a total above ``cap`` then says only that there
    are more, and its keys are not the page's): a broad filter costs no more than ``cap``
    rows, where an exact total costs every match.
    """
    if queryset.query.is_sliced:
        raise ValueError("page_keys takes an unsliced queryset")
    order = _ordering(queryset)
    connection = connections[queryset.db]
    names, by = _order_columns(connection, order)
    inner = queryset.order_by().annotate(**{KEY: F(key)}, **names).values(KEY, *names)
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:
        return [], 0
    qn = connection.ops.quote_name
    hint = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    columns = ", ".join(qn(c) for c in (KEY, *names))
    matches = f"WITH page_matches AS {hint}({sql}),"
    if cap is not None:
        matches = (
            f"WITH page_found AS {hint}({sql}),"
            f" page_matches AS (SELECT * FROM page_found LIMIT {int(cap) + 1}),"
        )
    statement = (
        f"{matches}"
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


def window(
    queryset: QuerySet,
    *,
    key: str,
    offset: int,
    limit: int,
    rows=None,
    counted: Counted | None = None,
) -> list:
    """Rows ``offset … offset + limit - 1`` of the ordered ``queryset``, in one query that
    finds the page's keys first and reads only those rows ("deferred join").

    A plain ``OFFSET`` reads (and computes every annotation of) each skipped row; here the
    subquery skips them in the index that gives the order (index-only when ``key`` and the
    order are in it), and only the page's rows are read, joined and annotated. ``rows``
    (``queryset -> queryset``, e.g. ``values()`` of related fields) shapes the page's rows
    only: the joins it adds must not reach the subquery that skips.

    ``counted``: the queryset is exactly the rows it counts, ordered on keys that never
    change (NOT NULL; the last one unique): a deep page starts from a landmark (see the
    module's docstring).
    """
    skipped = queryset
    if counted is not None and counted.version is not None and offset >= LANDMARK_EVERY:
        marks = landmarks(queryset, counted)
        n = min(offset // LANDMARK_EVERY, len(marks))
        if n:
            skipped = queryset.filter(_beyond(_ordering(queryset), marks[n - 1]))
            offset -= n * LANDMARK_EVERY
    keys = skipped.values(key)[offset : offset + limit]
    return _fetch(queryset, rows, key, keys)


def _beyond(order: list[tuple[str, bool]], values: tuple) -> Q:
    """The rows after the one whose ordering values are ``values``, in ``order``: a keyset
    condition, with a bound on the first value that an index on the order can start from."""

    def past(name, descending):
        return f"{name}__{'lt' if descending else 'gt'}"

    (first, descending), start = order[0], values[0]
    after = Q()
    for n, ((name, desc), value) in enumerate(zip(order, values, strict=True)):
        equal = {o[0]: v for o, v in zip(order[:n], values[:n], strict=True)}
        after |= Q(**equal, **{past(name, desc): value})
    return Q(**{f"{first}__{'lte' if descending else 'gte'}": start}) & after


_landmarks: OrderedDict[tuple, tuple[str, float, list[tuple]]] = OrderedDict()
_landmarks_lock = threading.Lock()


def landmarks(queryset: QuerySet, counted: Counted) -> list[tuple]:
    """The ordering values of the rows at positions ``LANDMARK_EVERY * n - 1`` (n = 1, 2, …)
    of ``queryset`` (exactly the rows ``counted`` counts) for ``counted.version``; ``[]``
    when they are not known for it and were measured too recently to measure again."""
    order = _ordering(queryset)
    name = (queryset.db, queryset.model._meta.label, counted.scope, str(counted.owner),
            tuple(order))  # fmt: skip
    with _landmarks_lock:
        known = _landmarks.get(name)
        if known is not None:
            _landmarks.move_to_end(name)
    if known is not None:
        version, refresh_after, marks = known
        if version == counted.version:
            return marks
        if time.monotonic() < refresh_after:
            return []
    started = time.monotonic()
    version, marks = _measure_landmarks(queryset, counted, order)
    took = time.monotonic() - started
    with _landmarks_lock:
        _landmarks[name] = (version, started + max(LANDMARK_REFRESH_S, 100 * took), marks)
        _landmarks.move_to_end(name)
        while len(_landmarks) > LANDMARK_LISTS:
            _landmarks.popitem(last=False)
    return marks if version == counted.version else []


def _measure_landmarks(queryset: QuerySet, counted: Counted, order) -> tuple[str, list[tuple]]:
    """``(version, landmarks)`` read in one statement (one snapshot): the landmarks belong
    to that version, whatever was committed since the caller read its own."""
    connection = connections[queryset.db]
    qn = connection.ops.quote_name
    names, by = _order_columns(connection, order)
    inner = queryset.order_by().annotate(**names).values(*names)
    version_sql, version_params = counted.version_sql()
    try:
        sql, params = inner.query.sql_with_params()
        marks = (
            f"(SELECT {', '.join(qn(c) for c in names)}, row_number() OVER"
            f" (ORDER BY {by.format('s')}) AS landmark_n FROM ({sql}) s)"
        )
    except EmptyResultSet:  # a queryset that cannot match: no landmarks
        marks, params = "(SELECT 1 AS landmark_n WHERE FALSE)", []
        names = {}
    columns = "".join(f", m.{qn(c)}" for c in names)
    statement = (
        f"WITH v AS ({version_sql}) SELECT (SELECT * FROM v){columns}"
        f" FROM (SELECT 1) one LEFT JOIN {marks} m ON m.landmark_n %% %s = 0"
        " ORDER BY m.landmark_n"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*version_params, *params, LANDMARK_EVERY])
        found = cursor.fetchall()
    version = found[0][0] or ""
    return version, [tuple(row[1:]) for row in found if row[1] is not None]


def page(
    queryset: QuerySet,
    *,
    key: str,
    offset: int,
    limit: int,
    selective: bool,
    total: int | None = None,
    rows=None,
    counted: Counted | None = None,
) -> tuple[list, int]:
    """``(rows offset … offset + limit - 1, total)`` of the ordered ``queryset``: two queries
    (one when a selective filter matches nothing, or the page is past the end of a list).

    ``selective``: the queryset has a selective filter (a search), whose matches are found
    once by ``page_keys``; otherwise the total is ``total`` when the caller knows it (a
    count kept by tenants.counts) or a ``COUNT``, and the page a ``window``. ``rows``: as
    for ``window``. ``counted``: the kept count of exactly these rows, which gives the
    total and lets deep pages start from landmarks (see ``window``).
    """
    if selective:
        keys, total = page_keys(queryset, key=key, offset=offset, limit=limit)
        return (_fetch(queryset, rows, key, keys) if keys else []), total
    if counted is not None:
        total = counted.total
    elif total is None:
        total = queryset.count()
    if offset >= total:
        return [], total
    page_rows = window(queryset, key=key, offset=offset, limit=limit, rows=rows, counted=counted)
    return page_rows, total
