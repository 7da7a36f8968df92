"""Duplicate detection (issue 20): candidates for a customer, and the review queue.

A candidate is another live customer of the same tenant that shares something with the
customer; each shared thing is a *reason* with a weight, and the score combines the weights
as independent evidence (``100 * (1 - Π(1 - weight/100))``): two weak reasons rank above
one, and no number of reasons passes 100. docs/duplicates.md lists the reasons and weights.

Every reason is an indexed lookup (docs/duplicates.md names the index of each), and the
finder works on a *batch* of up to ``BATCH_MAX`` customers at once with a fixed number of
queries: ``duplicate_candidates`` (one customer: the API and the 360 page) is a batch of one,
and ``manage.py find_duplicates`` walks a tenant in keyset batches, reading the tenant's names
and shared values once (``NameHeads``) and running the finder for the customers that may
have a candidate. The number of rows each
lookup may read is capped per name (``NAME_CAP``, ``SIMILAR_CAP``), so that a name shared
by thousands of customers stays a bounded read.

The review queue is ``DuplicatePair`` (customers/models.py): the services below record what
the finder found without ever reopening a dismissed (or merged) pair, and dismiss a pair.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from django.db import connection
from django.db.models import F, Q, QuerySet, Value, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber, Upper
from django.utils import timezone

from customers.error_codes import CustomerErrorCode
from customers.models import (
    DISPLAY_NAME_FIELDS,
    Address,
    Customer,
    DuplicatePair,
    DuplicateScan,
    DuplicateStatus,
    Identifier,
    IdentifierKind,
    display_name,
)
from customers.selectors import customers_for_tenant
from tenants import errors
from tenants.ids import parse_uuid
from tenants.transactions import service_atomic


class Reason(StrEnum):
    SAME_EMAIL = "same_email"
    SAME_PHONE = "same_phone"
    SAME_EXTERNAL_ID = "same_external_id"
    SAME_DISCORD_USERNAME = "same_discord_username"
    SAME_NAME_POSTCODE = "same_name_postcode"
    SAME_NAME = "same_name"
    SIMILAR_NAME = "similar_name"


#: the reasons' codes, as the API shows them
REASON_CODES = [str(reason) for reason in Reason]


#: what a person reads for each reason (the back office)
REASON_LABELS = {
    Reason.SAME_EMAIL: "Same email",
    Reason.SAME_PHONE: "Same phone",
    Reason.SAME_EXTERNAL_ID: "Same external id",
    Reason.SAME_DISCORD_USERNAME: "Same Discord user name",
    Reason.SAME_NAME_POSTCODE: "Same name and postcode",
    Reason.SAME_NAME: "Same name",
    Reason.SIMILAR_NAME: "Similar name",
}


def reason_label(code: str) -> str:
    return REASON_LABELS.get(code, code)


#: how much each reason alone says that two records are one person (0..100)
WEIGHTS = {
    Reason.SAME_EMAIL: 95,
    Reason.SAME_PHONE: 85,
    Reason.SAME_EXTERNAL_ID: 80,
    Reason.SAME_NAME_POSTCODE: 80,
    Reason.SAME_DISCORD_USERNAME: 70,
    Reason.SAME_NAME: 40,
}
#: a similar name weighs this much times its trigram similarity (0.5..1)
SIMILAR_WEIGHT = 50
#: the least trigram similarity that is a reason (pg_trgm's own default threshold is 0.3,
#: which pairs "Ada Jansen" with "Ada Smit")
SIMILAR_MIN = 0.5
#: the most customers one name (exact, or similar) brings in
NAME_CAP = 50
SIMILAR_CAP = 20
#: the most customers the finder takes at once: PostgreSQL proves that a partial index
#: (``phone <> ''``) serves ``phone IN (...)`` for lists of up to 100 values only
BATCH_MAX = 100
#: the most similar names searched for each of a customer's names
SIMILAR_NAMES = 5
#: how many first letters of a name's longest word select the names compared without pg_trgm
FALLBACK_PREFIX = 4
#: the most values of one kind taken from one customer (a customer with 500 emails is not
#: a reason to read 500 index entries)
VALUES_CAP = 10
#: what the finder records in the queue by default: a same name alone (40) is not enough
DEFAULT_MIN_SCORE = 50

#: the columns of a customer the finder reads
SUBJECT_FIELDS = ("id", "uuid", *DISPLAY_NAME_FIELDS, "phone", "external_id")


@dataclass(frozen=True)
class Candidate:
    customer_id: int
    uuid: UUID
    display_name: str
    score: int
    reasons: tuple[dict, ...]  # {"code": Reason, "detail": str}, strongest first


def combined_score(weights: Iterable[float]) -> int:
    """Independent evidence: 1 - Π(1 - w), as a percentage."""
    doubt = 1.0
    for weight in weights:
        doubt *= 1 - min(max(weight, 0), 100) / 100
    return round(100 * (1 - doubt))


# --- normalization ------------------------------------------------------------------------


def norm_text(value: str) -> str:
    """A name or a Discord user name as compared: words single-spaced, case-folded."""
    return " ".join((value or "").split()).casefold()


def norm_postcode(value: str) -> str:
    return "".join((value or "").split()).casefold()


def full_name(first: str, preposition: str, last: str) -> str:
    return " ".join(p for p in (first, preposition, last) if p)


def name_keys(row: dict) -> list[str]:
    """The names a customer is known by (name, local name, full name), normalized."""
    keys = []
    for value in (
        row["name"],
        row["local_name"],
        full_name(row["first_name"], row["preposition"], row["last_name"]),
    ):
        key = norm_text(value)
        if key and key not in keys:
            keys.append(key)
    return keys


_WORD = re.compile(r"[^\W_]+")


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of ``text``: each alphanumeric word lower-cased and padded with two
    spaces before and one after."""
    grams = set()
    for word in _WORD.findall(text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a: str, b: str) -> float:
    """pg_trgm's ``similarity``: shared trigrams over all trigrams of both."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


# --- the finder ---------------------------------------------------------------------------


@dataclass
class _Subject:
    row: dict
    emails: set[str]
    phones: set[str]
    externals: set[str]
    discord_username: str
    names: list[str]
    postcodes: set[str]
    postcode_keys: set[str]  # as ``NameHeads`` compares them


class _Found:
    """What the lookups found: subject id -> candidate id -> reason -> (weight, detail)."""

    def __init__(self):
        self.by_subject: dict[int, dict[int, dict[str, tuple[float, str]]]] = defaultdict(
            lambda: defaultdict(dict)
        )

    def add(self, subject_id: int, candidate_id: int, reason: Reason, detail: str, weight=None):
        if subject_id == candidate_id:
            return
        weight = WEIGHTS[reason] if weight is None else weight
        reasons = self.by_subject[subject_id][candidate_id]
        if reason not in reasons or reasons[reason][0] < weight:
            reasons[reason] = (weight, detail)

    def candidate_ids(self) -> set[int]:
        return {cid for found in self.by_subject.values() for cid in found}


def _capped(values: Iterable[str]) -> set[str]:
    return set(sorted(v for v in values if v)[:VALUES_CAP])


def _postal_codes(ids) -> dict[int, set[tuple[str, str]]]:
    """The customers' postcodes, each as written and as ``NameHeads`` keys it."""
    key, spaces = _postcode_sql(f'"{Address._meta.db_table}"."postal_code"')
    out: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for customer_id, postal_code, postcode_key in (
        Address.objects.filter(customer_id__in=ids)
        .exclude(postal_code="")
        .annotate(postcode_key=RawSQL(key, spaces))
        .order_by()
        .values_list("customer_id", "postal_code", "postcode_key")
    ):
        out[customer_id].add((postal_code, postcode_key))
    return out


def _subjects(tenant, rows: list[dict]) -> dict[int, _Subject]:
    ids = [row["id"] for row in rows]
    known: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for customer_id, kind, value in (
        Identifier.objects.filter(
            tenant=tenant,
            customer_id__in=ids,
            kind__in=[IdentifierKind.EMAIL, IdentifierKind.PHONE, IdentifierKind.EXTERNAL],
        )
        .order_by()
        .values_list("customer_id", "kind", "value")
    ):
        known[customer_id][kind].add(value)
    postal_codes = _postal_codes(ids)
    subjects = {}
    for row in rows:
        kinds = known[row["id"]]
        subjects[row["id"]] = _Subject(
            row=row,
            emails=_capped({(row["email"] or "").strip().casefold()} | kinds["email"]),
            phones=_capped({(row["phone"] or "").strip()} | kinds["phone"]),
            externals=_capped({(row["external_id"] or "").strip()} | kinds["external"]),
            discord_username=norm_text(row["discord_username"]),
            names=name_keys(row),
            postcodes={norm_postcode(p) for p, _ in postal_codes[row["id"]]} - {""},
            postcode_keys={key for _, key in postal_codes[row["id"]]},
        )
    return subjects


def _index(subjects, attribute) -> dict[str, list[int]]:
    out = defaultdict(list)
    for sid, subject in subjects.items():
        values = getattr(subject, attribute)
        for value in [values] if isinstance(values, str) else values:
            if value:
                out[value].append(sid)
    return out


def _by_identifiers(tenant, subjects, found: _Found) -> None:
    """Other customers holding one of the subjects' emails, phones or external ids as an
    identifier (the unique index (tenant, kind, value))."""
    maps = {
        IdentifierKind.EMAIL: (_index(subjects, "emails"), Reason.SAME_EMAIL),
        IdentifierKind.PHONE: (_index(subjects, "phones"), Reason.SAME_PHONE),
        IdentifierKind.EXTERNAL: (_index(subjects, "externals"), Reason.SAME_EXTERNAL_ID),
    }
    query = Q()
    for kind, (values, _reason) in maps.items():
        if values:
            query |= Q(kind=kind, value__in=list(values))
    if not query:
        return
    rows = (
        Identifier.objects.filter(query, tenant=tenant)
        .order_by()
        .values_list("customer_id", "kind", "value")
    )
    for customer_id, kind, value in rows:
        values, reason = maps[kind]
        for sid in values.get(value, ()):
            found.add(sid, customer_id, reason, value)


def _by_columns(tenant, subjects, found: _Found) -> None:
    """Other customers whose phone, external id, email or Discord user name column is one of
    the subjects' (indexes customer_phone, customer_external_id, customer_email_upper,
    customer_discord_username_upper)."""
    phones = _index(subjects, "phones")
    externals = _index(subjects, "externals")
    emails = _index(subjects, "emails")
    usernames = _index(subjects, "discord_username")
    # each branch names its partial index's predicate (customers/migrations/0007), which
    # PostgreSQL does not prove from an IN list of many values
    contact = Q()
    if phones:
        contact |= Q(phone__in=list(phones)) & ~Q(phone="")
    if externals:
        contact |= Q(external_id__in=list(externals)) & ~Q(external_id="")
    if emails:
        contact |= Q(email_upper__in=[Upper(Value(v)) for v in emails])
    # the Discord user names in a query of their own: PostgreSQL has no statistics of the
    # partial index's expression, guesses thousands of rows per name, and would rather scan
    # the tenant than combine this index scan with the others
    queries = [
        contact,
        Q(username_upper__in=[Upper(Value(v)) for v in usernames]) & ~Q(username_upper="")
        if usernames
        else Q(),
    ]
    live = customers_for_tenant(tenant=tenant).annotate(
        email_upper=Upper("email"), username_upper=Upper("discord_username")
    )
    for query in queries:
        if not query:
            continue
        rows = (
            live.filter(query)
            .order_by()
            .values_list("id", "phone", "external_id", "email", "discord_username")
        )
        # no LIMIT: with one, PostgreSQL would rather scan until it has enough rows
        for customer_id, phone, external_id, email, username in rows:
            for sid in phones.get(phone, ()):
                found.add(sid, customer_id, Reason.SAME_PHONE, phone)
            for sid in externals.get(external_id.strip(), ()):
                found.add(sid, customer_id, Reason.SAME_EXTERNAL_ID, external_id)
            for sid in emails.get(email.strip().casefold(), ()):
                found.add(sid, customer_id, Reason.SAME_EMAIL, email)
            for sid in usernames.get(norm_text(username), ()):
                found.add(sid, customer_id, Reason.SAME_DISCORD_USERNAME, username)


def _capped_per(queryset: QuerySet, *partition) -> QuerySet:
    """At most ``NAME_CAP`` rows per value of ``partition`` (lowest primary keys first)."""
    return (
        queryset.annotate(
            rank=Window(RowNumber(), partition_by=list(partition), order_by=F("id").asc())
        )
        .filter(rank__lte=NAME_CAP)
        .order_by()
    )


NAME_ROW = ("id", "name", "local_name", "first_name", "preposition", "last_name")


def _name_rows_portable(tenant, keys) -> list[dict]:
    """The first ``NAME_CAP`` live customers of each name (by name, local name, or first and
    last name), with Django's window functions (SQLite; a window reads the whole name)."""
    live = customers_for_tenant(tenant=tenant)
    upper_keys = [Upper(Value(key)) for key in keys]
    rows = list(
        _capped_per(
            live.annotate(name_upper=Upper("name")).filter(name_upper__in=upper_keys),
            Upper("name"),
        ).values(*NAME_ROW)
    )
    rows += _capped_per(
        live.annotate(local_upper=Upper("local_name")).filter(local_upper__in=upper_keys),
        Upper("local_name"),
    ).values(*NAME_ROW)
    pairs = Q()
    for first, last in _first_and_last(keys):
        pairs |= Q(last_upper=Upper(Value(last)), first_upper=Upper(Value(first)))
    if pairs:
        rows += _capped_per(
            live.annotate(last_upper=Upper("last_name"), first_upper=Upper("first_name")).filter(
                pairs
            ),
            Upper("last_name"),
            Upper("first_name"),
        ).values(*NAME_ROW)
    return rows


def _first_and_last(keys) -> list[tuple[str, str]]:
    """A name's first and last words (a preposition between them is compared in Python)."""
    return sorted({(k.split()[0], k.split()[-1]) for k in keys if len(k.split()) >= 2})


def _name_rows_postgresql(tenant, keys) -> list[dict]:
    """As ``_name_rows_portable`` in one statement: for each name, an index scan of the name
    B-trees in id order that stops after ``NAME_CAP`` rows (customers/migrations/0009)."""
    table = Customer._meta.db_table
    columns = ", ".join(f"cc.{field}" for field in NAME_ROW)
    live = "cc.merged_into_id IS NULL AND cc.erased_at IS NULL"
    pairs = _first_and_last(keys)
    # the table name is the model's; every value is a parameter
    sql = f"""
        SELECT c.* FROM unnest(%(keys)s::text[]) AS k (raw)
        CROSS JOIN LATERAL (
            (SELECT {columns} FROM {table} cc
             WHERE cc.tenant_id = %(tenant)s AND UPPER(cc.name) = UPPER(k.raw)
               AND UPPER(cc.name) <> '' AND {live}
             ORDER BY cc.id LIMIT %(cap)s)
            UNION ALL
            (SELECT {columns} FROM {table} cc
             WHERE cc.tenant_id = %(tenant)s AND UPPER(cc.local_name) = UPPER(k.raw)
               AND UPPER(cc.local_name) <> '' AND {live}
             ORDER BY cc.id LIMIT %(cap)s)
        ) c
        UNION ALL
        SELECT c.* FROM unnest(%(firsts)s::text[], %(lasts)s::text[]) AS p (first, last)
        CROSS JOIN LATERAL (
            SELECT {columns} FROM {table} cc
            WHERE cc.tenant_id = %(tenant)s AND UPPER(cc.last_name) = UPPER(p.last)
              AND UPPER(cc.first_name) = UPPER(p.first) AND UPPER(cc.last_name) <> ''
              AND {live}
            ORDER BY cc.id LIMIT %(cap)s
        ) c
    """
    params = {
        "keys": list(keys),
        "firsts": [first for first, _ in pairs],
        "lasts": [last for _, last in pairs],
        "tenant": tenant.pk,
        "cap": NAME_CAP,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [dict(zip(NAME_ROW, row, strict=True)) for row in cursor.fetchall()]


def _by_names(tenant, subjects, found: _Found) -> None:
    """Other customers known by one of the subjects' names, as "same name and postcode" when
    they also share a postcode (indexes customer_name_upper, customer_local_name_upper,
    customer_full_name_upper of customers/migrations/0009)."""
    keys = _index(subjects, "names")
    if not keys:
        return
    if connection.vendor == "postgresql":
        rows = _name_rows_postgresql(tenant, keys)
    else:
        rows = _name_rows_portable(tenant, keys)
    if not rows:
        return
    postcodes: dict[int, set[str]] = defaultdict(set)
    for customer_id, postal_code in (
        Address.objects.filter(customer_id__in={row["id"] for row in rows})
        .exclude(postal_code="")
        .order_by()
        .values_list("customer_id", "postal_code")
    ):
        postcodes[customer_id].add(norm_postcode(postal_code))
    for row in rows:
        for key in name_keys(row):
            for sid in keys.get(key, ()):
                shared = sorted(subjects[sid].postcodes & postcodes[row["id"]])
                if shared:
                    found.add(sid, row["id"], Reason.SAME_NAME_POSTCODE, f"{key}, {shared[0]}")
                else:
                    found.add(sid, row["id"], Reason.SAME_NAME, key)


def _similar_pairs_postgresql(tenant, subjects) -> list[tuple[int, int, float, str]]:
    """(subject, candidate, similarity, candidate's name) by pg_trgm, in one statement: for
    each of the subjects' names, the ``SIMILAR_NAMES`` most similar distinct names of the
    tenant (``customers_name_key`` and its trigram index, customers/migrations/0009), then
    the first ``SIMILAR_CAP`` live customers called each (the name B-trees, in id order)."""
    sids, keys = [], []
    for sid, subject in subjects.items():
        for key in subject.names:
            sids.append(sid)
            keys.append(key)
    if not keys:
        return []
    table = Customer._meta.db_table
    # the table name is the model's; every value is a parameter
    sql = f"""
        SELECT k.sid, c.id, n.sim, c.shown
        FROM unnest(%(sids)s::bigint[], %(keys)s::text[]) AS k (sid, raw)
        CROSS JOIN LATERAL (
            SELECT nk.key, similarity(nk.key, UPPER(k.raw)) AS sim
            FROM customers_name_key nk
            WHERE nk.tenant_id = %(tenant)s
              AND nk.key %% UPPER(k.raw)
              AND nk.key <> UPPER(k.raw)
              AND similarity(nk.key, UPPER(k.raw)) >= %(least)s
            ORDER BY sim DESC, nk.key
            LIMIT %(names)s
        ) n
        CROSS JOIN LATERAL (
            (SELECT cc.id, cc.name AS shown FROM {table} cc
             WHERE cc.tenant_id = %(tenant)s AND UPPER(cc.name) = n.key AND UPPER(cc.name) <> ''
               AND cc.merged_into_id IS NULL AND cc.erased_at IS NULL AND cc.id <> k.sid
             ORDER BY cc.id LIMIT %(cap)s)
            UNION ALL
            (SELECT cc.id, cc.local_name AS shown FROM {table} cc
             WHERE cc.tenant_id = %(tenant)s AND UPPER(cc.local_name) = n.key
               AND UPPER(cc.local_name) <> ''
               AND cc.merged_into_id IS NULL AND cc.erased_at IS NULL AND cc.id <> k.sid
             ORDER BY cc.id LIMIT %(cap)s)
        ) c
    """
    params = {
        "sids": sids,
        "keys": keys,
        "tenant": tenant.pk,
        "least": SIMILAR_MIN,
        "names": SIMILAR_NAMES,
        "cap": SIMILAR_CAP,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _similar_pairs_fallback(tenant, subjects) -> list[tuple[int, int, float, str]]:
    """Without pg_trgm (SQLite): the customers whose name or local name contains the first
    letters of the longest word of one of the subjects' names (a typo further on still
    matches), ranked by the same trigram similarity computed here. Not indexed: SQLite
    serves development and tests, not a million customers."""
    words: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for sid, subject in subjects.items():
        for key in subject.names:
            longest = max(key.split(), key=len)
            if len(longest) >= 3:
                words[longest[:FALLBACK_PREFIX]].append((sid, key))
    if not words:
        return []
    query = Q()
    for word in words:
        query |= Q(name__icontains=word) | Q(local_name__icontains=word)
    rows = (
        customers_for_tenant(tenant=tenant)
        .filter(query)
        .order_by("pk")
        .values_list("id", "name", "local_name")[: SIMILAR_CAP * 10 * len(words)]
    )
    best: dict[tuple[int, int], tuple[float, str]] = {}
    for customer_id, name, local_name in rows:
        texts = [(norm_text(text), text) for text in (name, local_name) if text]
        for word, keyed in words.items():
            for normalized, shown in texts:
                if word not in normalized:
                    continue
                for sid, key in keyed:
                    score = similarity(normalized, key)
                    if score >= SIMILAR_MIN and best.get((sid, customer_id), (0,))[0] < score:
                        best[(sid, customer_id)] = (score, shown)
    return [(sid, cid, score, shown) for (sid, cid), (score, shown) in best.items()]


def _by_similar_names(tenant, subjects, found: _Found) -> None:
    if connection.vendor == "postgresql":
        pairs = _similar_pairs_postgresql(tenant, subjects)
    else:
        pairs = _similar_pairs_fallback(tenant, subjects)
    for sid, candidate_id, score, shown in pairs:
        reasons = found.by_subject[sid].get(candidate_id, {})
        if Reason.SAME_NAME in reasons or Reason.SAME_NAME_POSTCODE in reasons:
            continue  # the same name already says it
        if norm_text(shown) in subjects[sid].names:
            continue  # the same name, which the exact lookup capped away
        found.add(
            sid,
            candidate_id,
            Reason.SIMILAR_NAME,
            f"{shown} ({score:.2f})",
            weight=SIMILAR_WEIGHT * score,
        )


def _dismissed(tenant, subject_ids) -> set[tuple[int, int]]:
    """The decided pairs (dismissed or merged) of the subjects: never candidates again."""
    return set(
        DuplicatePair.objects.filter(
            Q(customer_a_id__in=subject_ids) | Q(customer_b_id__in=subject_ids), tenant=tenant
        )
        .exclude(status=DuplicateStatus.OPEN)
        .order_by()
        .values_list("customer_a_id", "customer_b_id")
    )


NAME_REASONS = frozenset({Reason.SAME_NAME, Reason.SAME_NAME_POSTCODE, Reason.SIMILAR_NAME})


def _drop_hopeless(found: _Found, min_score: int) -> None:
    """Forget the candidates that cannot reach ``min_score`` even with the best name reason
    ``_names_compared`` may still add (a same name of 40 alone, most often), before their
    rows are read."""
    for candidates in found.by_subject.values():
        for cid in list(candidates):
            weights = [weight for weight, _ in candidates[cid].values()]
            if not NAME_REASONS & set(candidates[cid]):
                weights.append(max(WEIGHTS[Reason.SAME_NAME], SIMILAR_WEIGHT))
            if combined_score(weights) < min_score:
                del candidates[cid]


def _names_compared(subject: _Subject, row: dict, found: _Found) -> None:
    """Weigh the names of a candidate another reason found: the same name (a name beyond
    the lookup's cap), or a similar one (one the search did not run for, or did not reach),
    by the same similarity as pg_trgm's."""
    reasons = found.by_subject[subject.row["id"]][row["id"]]
    if NAME_REASONS & set(reasons):
        return
    theirs = name_keys(row)
    same = [key for key in theirs if key in subject.names]
    if same:
        found.add(subject.row["id"], row["id"], Reason.SAME_NAME, same[0])
        return
    best, shown = 0.0, ""
    for text, original in (
        (norm_text(row["name"]), row["name"]),
        (norm_text(row["local_name"]), row["local_name"]),
    ):
        for key in subject.names:
            score = similarity(text, key) if text else 0.0
            if score > best:
                best, shown = score, original
    if best >= SIMILAR_MIN:
        found.add(
            subject.row["id"],
            row["id"],
            Reason.SIMILAR_NAME,
            f"{shown} ({best:.2f})",
            weight=SIMILAR_WEIGHT * best,
        )


def ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


# --- a whole-tenant pass: the name lookups read once --------------------------------------

#: the least minimum score at which a pass reads the names from ``NameHeads``: below it a
#: same name alone (40) or a similar name alone (under 50) would be a pair, and every
#: customer's names are looked up (and searched) as for the API
HEADS_MIN_SCORE = SIMILAR_WEIGHT

#: what ``norm_postcode`` removes (``str.split``'s whitespace, of which these are the ones a
#: postcode may hold), removed in SQL too: equal postcodes have equal SQL keys
_POSTCODE_SPACES = (" ", "\t", "\n", "\r", "\xa0")


def _postcode_sql(column: str) -> tuple[str, list[str]]:
    """A postcode's key in SQL (spaces removed, upper-cased: both databases): a superset of
    ``norm_postcode``'s equality that Python narrows down."""
    expression = column
    for _ in _POSTCODE_SPACES:
        expression = f"REPLACE({expression}, %s, '')"
    return f"UPPER({expression})", list(_POSTCODE_SPACES)


#: the kinds of name lookup (``_name_rows_postgresql`` and ``_name_rows_portable``)
BY_NAME, BY_LOCAL_NAME, BY_FIRST_AND_LAST = 1, 2, 3


#: a value compared as written: printable ASCII words single-spaced (stripping, folding
#: case and collapsing spaces then change nothing that SQL's UPPER and TRIM do not)
_USUAL = {"postgresql": "^[!-~]+( [!-~]+)*$", "sqlite": r"\A[!-~]+( [!-~]+)*\Z"}
#: how many customers a pass reads at once to choose the ones worth looking up
PASS_CHUNK = 1000


class NameHeads:
    """What a whole-tenant pass (``manage.py find_duplicates``) reads once instead of for
    each customer, in two temporary tables of the connection built when it starts.

    *The heads of every name.* ``_by_names`` gives a customer, for each of its names, the
    first ``NAME_CAP`` live customers called so (by name, by local name, by first and last
    name), then reads their postcodes: at ~540 customers per name, a pass would read each
    name's first customers and their addresses again for each of its ~540 customers. The
    heads table keeps those first customers of every name of the tenant with the postcodes
    of their addresses (a head without one can only be a "same name", which another reason
    must have found first), and ``lookup`` finds a batch's in it in one statement: the
    same candidates as ``_by_names`` for a batch of one, so that a pass records what
    ``duplicate_candidates`` scores. Hence only for a minimum score of at least
    ``HEADS_MIN_SCORE``: the same names that share no postcode are ``_names_compared``'s.

    *The customers sharing a value.* A customer can be a candidate's subject only when it
    shares an email, a phone, an external id or a Discord user name (column or identifier)
    with another customer, or a name and postcode with a head. The shared table holds the
    first kind (grouped by value over the tenant: a superset, since a value that is not
    written as ``_USUAL`` puts its customer in too), and ``batches`` looks the second up,
    so that the finder runs for those customers only (a few in a hundred).

    A snapshot: a customer created, renamed or given a new value after it was built is found
    by the next pass (one merged or erased meanwhile finds nobody)."""

    table = "hub_duplicate_name_heads"
    shared = "hub_duplicate_shared"

    def __init__(self, tenant):
        self.tenant = tenant

    def __enter__(self) -> NameHeads:
        self.build()
        return self

    def __exit__(self, *exc) -> None:
        self.drop()

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.shared}")

    def build(self) -> None:
        self.drop()
        tenant_id = Customer._meta.get_field("tenant").target_field.get_db_prep_value(
            self.tenant.pk, connection
        )
        with connection.cursor() as cursor:
            self._build_heads(cursor, tenant_id)
            self._build_shared(cursor, tenant_id)

    def _build_heads(self, cursor, tenant_id) -> None:
        customers = Customer._meta.db_table
        addresses = Address._meta.db_table
        live = "c.merged_into_id IS NULL AND c.erased_at IS NULL AND c.tenant_id = %s"
        postcode, spaces = _postcode_sql("a.postal_code")
        # the partitions are the lookups' conditions; the names are the model's tables
        sql = f"""
            INSERT INTO {self.table} (kind, v1, v2, customer_id, postcode, postal_code)
            SELECT h.kind, h.v1, h.v2, h.id, {postcode}, a.postal_code
            FROM (
                SELECT {BY_NAME} AS kind, UPPER(c.name) AS v1, '' AS v2, c.id,
                       ROW_NUMBER() OVER (PARTITION BY UPPER(c.name) ORDER BY c.id) AS rank
                FROM {customers} c WHERE {live} AND UPPER(c.name) <> ''
                UNION ALL
                SELECT {BY_LOCAL_NAME}, UPPER(c.local_name), '', c.id,
                       ROW_NUMBER() OVER (PARTITION BY UPPER(c.local_name) ORDER BY c.id)
                FROM {customers} c WHERE {live} AND UPPER(c.local_name) <> ''
                UNION ALL
                SELECT {BY_FIRST_AND_LAST}, UPPER(c.first_name), UPPER(c.last_name), c.id,
                       ROW_NUMBER() OVER (
                           PARTITION BY UPPER(c.last_name), UPPER(c.first_name) ORDER BY c.id
                       )
                FROM {customers} c WHERE {live} AND UPPER(c.last_name) <> ''
            ) h
            JOIN {addresses} a ON a.customer_id = h.id
            WHERE h.rank <= %s AND a.postal_code <> ''
        """
        cursor.execute(
            f"CREATE TEMPORARY TABLE {self.table} (kind integer NOT NULL, v1 text NOT NULL,"
            " v2 text NOT NULL, customer_id bigint NOT NULL, postcode text NOT NULL,"
            " postal_code text NOT NULL)"
        )
        cursor.execute(sql, [*spaces, tenant_id, tenant_id, tenant_id, NAME_CAP])
        cursor.execute(f"CREATE INDEX {self.table}_key ON {self.table} (kind, v1, v2, postcode)")
        cursor.execute(f"ANALYZE {self.table}")

    def _build_shared(self, cursor, tenant_id) -> None:
        customers = Customer._meta.db_table
        identifiers = Identifier._meta.db_table
        usual = "~" if connection.vendor == "postgresql" else "REGEXP"
        pattern = _USUAL["postgresql" if connection.vendor == "postgresql" else "sqlite"]
        parts, params = [], []
        # each value keyed as the lookups compare it: emails and user names case-insensitively
        for kind, key, column in (
            (1, "UPPER(TRIM({}))", "email"),
            (2, "TRIM({})", "phone"),
            (3, "TRIM({})", "external_id"),
            (4, "UPPER(TRIM({}))", "discord_username"),
        ):
            value = f"c.{column}"
            parts.append(
                f"SELECT {kind}, {key.format(value)}, c.id,"
                f" CASE WHEN {value} {usual} %s THEN 0 ELSE 1 END"
                f" FROM {customers} c WHERE c.tenant_id = %s AND {value} <> ''"
            )
            params += [pattern, tenant_id]
        for kind, key, identifier_kind in (
            (1, "UPPER(TRIM({}))", IdentifierKind.EMAIL),
            (2, "TRIM({})", IdentifierKind.PHONE),
            (3, "TRIM({})", IdentifierKind.EXTERNAL),
        ):
            parts.append(
                f"SELECT {kind}, {key.format('i.value')}, i.customer_id,"
                f" CASE WHEN i.value {usual} %s THEN 0 ELSE 1 END"
                f" FROM {identifiers} i WHERE i.tenant_id = %s AND i.kind = %s"
                " AND i.value <> ''"
            )
            params += [pattern, tenant_id, str(identifier_kind)]
        union = " UNION ALL ".join(parts)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {self.shared} (customer_id bigint NOT NULL PRIMARY KEY)"
        )
        # the names are the models' tables and this class's; every value is a parameter
        cursor.execute(
            f"""
            INSERT INTO {self.shared} (customer_id)
            WITH v (kind, key, customer_id, odd) AS ({union})
            SELECT customer_id FROM v WHERE odd = 1
            UNION
            SELECT v.customer_id FROM v JOIN (
                SELECT kind, key FROM v GROUP BY kind, key HAVING COUNT(DISTINCT customer_id) > 1
            ) g ON g.kind = v.kind AND g.key = v.key
            """,
            params,
        )
        cursor.execute(f"ANALYZE {self.shared}")

    def _head_rows(self, items) -> list[tuple]:
        """(subject id, head's postal code, *NAME_ROW of the head) for each head sharing a
        name lookup and a postcode with one of ``items``, (id, names, postal codes)."""
        lookups = set()
        for sid, names, postcode_keys in items:
            for postal_code in postcode_keys:
                for key in names:
                    lookups.add((sid, BY_NAME, key, "", postal_code))
                    lookups.add((sid, BY_LOCAL_NAME, key, "", postal_code))
                    words = key.split()
                    if len(words) >= 2:
                        lookups.add((sid, BY_FIRST_AND_LAST, words[0], words[-1], postal_code))
        if not lookups:
            return []
        customers = Customer._meta.db_table
        lookups = sorted(lookups)
        if connection.vendor == "postgresql":
            # arrays: a statement of five parameters, planned in no time whatever its size
            source = (
                "SELECT * FROM unnest(%s::bigint[], %s::integer[], %s::text[], %s::text[],"
                " %s::text[])"
            )
            params = [list(column) for column in zip(*lookups, strict=True)]
        else:
            source = "VALUES " + ", ".join(["(%s, %s, %s, %s, %s)"] * len(lookups))
            params = [value for lookup in lookups for value in lookup]
        columns = ", ".join(f"c.{field}" for field in NAME_ROW)
        # the names are the model's tables and this class's; every value is a parameter
        sql = f"""
            WITH s (sid, kind, v1, v2, postcode) AS ({source})
            SELECT DISTINCT s.sid, h.postal_code, {columns}
            FROM s
            JOIN {self.table} h ON h.kind = s.kind AND h.v1 = UPPER(s.v1)
                AND h.v2 = UPPER(s.v2) AND h.postcode = s.postcode
            JOIN {customers} c ON c.id = h.customer_id
                AND c.merged_into_id IS NULL AND c.erased_at IS NULL
            WHERE h.customer_id <> s.sid
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def lookup(self, subjects: dict[int, _Subject], found: _Found) -> None:
        """``_by_names`` for each subject on its own, minus the heads sharing no postcode
        with it: one statement."""
        shared: dict[tuple[int, int], set[str]] = defaultdict(set)
        rows: dict[int, dict] = {}
        for sid, postal_code, *fields in self._head_rows(
            (sid, subject.names, subject.postcode_keys) for sid, subject in subjects.items()
        ):
            row = dict(zip(NAME_ROW, fields, strict=True))
            rows[row["id"]] = row
            shared[(sid, row["id"])].add(norm_postcode(postal_code))
        for (sid, cid), postcodes in sorted(shared.items()):
            subject = subjects[sid]
            for key in name_keys(rows[cid]):
                if key in subject.names:
                    both = sorted(subject.postcodes & postcodes)
                    if both:
                        found.add(sid, cid, Reason.SAME_NAME_POSTCODE, f"{key}, {both[0]}")
                    else:
                        found.add(sid, cid, Reason.SAME_NAME, key)
                    break

    def batches(self, *, after: int, size: int):
        """The tenant's live customers after ``after`` that may have a candidate, as
        ``(rows, position, customers)``: at most ``size`` rows for the finder, the last
        customer id they cover (those in between have none) and how many customers that is.
        A few statements per ``PASS_CHUNK`` customers."""
        table = Customer._meta.db_table
        while True:
            chunk = list(
                customers_for_tenant(tenant=self.tenant)
                .filter(pk__gt=after)
                .annotate(
                    shared=RawSQL(
                        f'EXISTS (SELECT 1 FROM {self.shared} s WHERE s.customer_id = "{table}".id)',
                        [],
                    )
                )
                .order_by("pk")
                .values(*SUBJECT_FIELDS, "shared")[:PASS_CHUNK]
            )
            if not chunk:
                return
            postal_codes = _postal_codes([row["id"] for row in chunk])
            named = {
                sid
                for sid, *_ in self._head_rows(
                    (row["id"], name_keys(row), {key for _, key in postal_codes[row["id"]]})
                    for row in chunk
                )
            }
            kept, covered = [], 0
            for row in chunk:
                covered += 1
                if row.pop("shared") or row["id"] in named:
                    kept.append(row)
                if len(kept) == size:
                    yield kept, row["id"], covered
                    kept, covered = [], 0
            if covered:
                yield kept, chunk[-1]["id"], covered
            after = chunk[-1]["id"]


def candidates_for_rows(
    *, tenant, rows: list[dict], limit: int, min_score: int = 0, heads: NameHeads | None = None
) -> dict[int, list[Candidate]]:
    """The candidates of each of ``rows`` (live customers of ``tenant`` as rows of
    ``SUBJECT_FIELDS``, at most ``BATCH_MAX``): the best ``limit`` of each with a score of at
    least ``min_score``, best first (then oldest). A fixed number of queries.

    A similar name alone never scores ``SIMILAR_WEIGHT`` (its similarity is below 1): with a
    ``min_score`` that high, similar names are not searched, only weighed on the candidates
    the other reasons found (``_names_compared``), as they are in any case.

    With ``heads`` (a whole-tenant pass, ``min_score`` at least ``HEADS_MIN_SCORE``) the
    names are read from it instead of looked up: each row's candidates are then the ones
    ``duplicate_candidates`` gives it alone (the lookups of a batch otherwise share their
    rows, so that a batch may find a namesake beyond one of its customers' cap)."""
    if not rows:
        return {}
    if len(rows) > BATCH_MAX:
        raise ValueError(f"at most {BATCH_MAX} customers at once")
    if heads is not None and min_score < HEADS_MIN_SCORE:
        raise ValueError(f"name heads need a minimum score of at least {HEADS_MIN_SCORE}")
    subjects = _subjects(tenant, rows)
    found = _Found()
    _by_identifiers(tenant, subjects, found)
    _by_columns(tenant, subjects, found)
    if heads is not None:
        heads.lookup(subjects, found)
    else:
        _by_names(tenant, subjects, found)
    if min_score < SIMILAR_WEIGHT:
        _by_similar_names(tenant, subjects, found)
    out: dict[int, list[Candidate]] = {sid: [] for sid in subjects}
    if min_score:
        _drop_hopeless(found, min_score)
    ids = found.candidate_ids()
    if not ids:
        return out
    shown = {
        row["id"]: row
        for row in customers_for_tenant(tenant=tenant)
        .filter(pk__in=ids)
        .order_by()
        .values("id", "uuid", *DISPLAY_NAME_FIELDS)
    }
    decided = _dismissed(tenant, list(subjects))
    for sid, candidates in found.by_subject.items():
        ranked = []
        for cid, reasons in candidates.items():
            row = shown.get(cid)  # an identifier of a tombstone finds nobody
            if row is None or ordered(sid, cid) in decided:
                continue
            _names_compared(subjects[sid], row, found)
            strongest = sorted(reasons.items(), key=lambda item: (-item[1][0], item[0]))
            score = combined_score(weight for weight, _ in reasons.values())
            if score < min_score:
                continue
            ranked.append(
                Candidate(
                    customer_id=cid,
                    uuid=row["uuid"],
                    display_name=display_name(*(row[f] for f in DISPLAY_NAME_FIELDS)),
                    score=score,
                    reasons=tuple(
                        {"code": Reason(code), "detail": detail} for code, (_, detail) in strongest
                    ),
                )
            )
        ranked.sort(key=lambda c: (-c.score, c.customer_id))
        out[sid] = ranked[:limit]
    return out


def duplicate_candidates(*, customer: Customer, limit: int = 20) -> list[Candidate]:
    """The live customers of ``customer``'s tenant that may be the same person, best first:
    each with its score (0..100) and its reasons. Dismissed and merged pairs are left out.
    A fixed number of queries (tests/test_duplicates.py bounds them)."""
    row = {field: getattr(customer, field) for field in SUBJECT_FIELDS}
    row["id"] = customer.pk
    found = candidates_for_rows(tenant=customer.tenant, rows=[row], limit=limit)
    return found[customer.pk]


# --- the review queue: selectors -----------------------------------------------------------


def duplicate_pairs_for_tenant(*, tenant, status: str | None = None) -> QuerySet[DuplicatePair]:
    """The tenant's pairs (of one ``status`` when given), best first. An open pair shows
    only while both its customers are live: one merged away or erased has nothing to
    review."""
    qs = DuplicatePair.objects.filter(tenant=tenant)
    if status is not None:
        qs = qs.filter(status=status)
    if status == DuplicateStatus.OPEN:
        qs = qs.filter(
            customer_a__merged_into__isnull=True,
            customer_a__erased_at__isnull=True,
            customer_b__merged_into__isnull=True,
            customer_b__erased_at__isnull=True,
        )
    return qs.select_related("customer_a", "customer_b").order_by("-score", "id")


def duplicate_pair_get(*, tenant, pair_id) -> DuplicatePair:
    """By id (a UUID); a malformed id, a missing one and another tenant's are all 404."""
    uid = parse_uuid(pair_id)
    pair = None
    if uid is not None:
        pair = (
            DuplicatePair.objects.filter(tenant=tenant, pk=uid)
            .select_related("customer_a", "customer_b")
            .first()
        )
    if pair is None:
        raise errors.NotFound(
            "Duplicate pair not found.", code=CustomerErrorCode.DUPLICATE_PAIR_NOT_FOUND
        )
    return pair


def duplicate_scan_get(*, tenant) -> DuplicateScan | None:
    return DuplicateScan.objects.filter(tenant=tenant).first()


# --- the review queue: services ------------------------------------------------------------


@dataclass(frozen=True)
class FoundPair:
    customer_id: int
    other_id: int
    score: int
    reasons: tuple[dict, ...]


def found_pairs(found: dict[int, list[Candidate]]) -> list[FoundPair]:
    """``candidates_for_rows``'s answer as pairs to record."""
    return [
        FoundPair(sid, c.customer_id, c.score, c.reasons)
        for sid, candidates in found.items()
        for c in candidates
    ]


def _reasons_json(reasons) -> list[dict]:
    return [{"code": str(r["code"]), "detail": r["detail"]} for r in reasons]


@service_atomic()
def duplicate_pairs_record(*, tenant, pairs: Iterable[FoundPair]) -> int:
    """Put what the finder found in the queue: a new pair opens; an open one takes the new
    score and reasons; a dismissed or merged one stays as it is (never reopened, even by a
    finder that raced its dismissal: the insert skips an existing row, the update touches
    open rows only). Returns the number of pairs opened."""
    best: dict[tuple[int, int], FoundPair] = {}
    for pair in pairs:
        key = ordered(pair.customer_id, pair.other_id)
        if key[0] != key[1] and (key not in best or best[key].score < pair.score):
            best[key] = pair
    if not best:
        return 0
    existing = {
        (row.customer_a_id, row.customer_b_id): row
        for row in DuplicatePair.objects.filter(
            tenant=tenant, customer_a_id__in={a for a, _ in best}
        ).filter(customer_b_id__in={b for _, b in best})
        if (row.customer_a_id, row.customer_b_id) in best
    }
    now = timezone.now()
    new = [
        DuplicatePair(
            tenant=tenant,
            customer_a_id=a,
            customer_b_id=b,
            score=pair.score,
            reasons=_reasons_json(pair.reasons),
            found_at=now,
        )
        for (a, b), pair in best.items()
        if (a, b) not in existing
    ]
    DuplicatePair.objects.bulk_create(new, ignore_conflicts=True)
    for key, row in existing.items():
        pair = best[key]
        reasons = _reasons_json(pair.reasons)
        if row.status == DuplicateStatus.OPEN and (row.score, row.reasons) != (pair.score, reasons):
            DuplicatePair.objects.filter(pk=row.pk, status=DuplicateStatus.OPEN).update(
                score=pair.score, reasons=reasons, updated_at=now
            )
    return len(new)


@service_atomic()
def duplicate_pair_dismiss(*, pair: DuplicatePair, by=None) -> DuplicatePair:
    """Decide that the two customers are different people: the pair never comes back.
    Dismissing a dismissed pair changes nothing; a merged pair is a 409."""
    locked = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
    if locked.status == DuplicateStatus.MERGED:
        raise errors.Conflict(
            "This pair has been merged.", code=CustomerErrorCode.DUPLICATE_PAIR_MERGED
        )
    if locked.status == DuplicateStatus.OPEN:
        locked.status = DuplicateStatus.DISMISSED
        locked.decided_by = by if by is not None and by.is_authenticated else None
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    pair.__dict__.update(
        {f: getattr(locked, f) for f in ("status", "decided_by_id", "decided_at", "updated_at")}
    )
    return pair


@service_atomic()
def duplicate_pairs_mark_merged(*, survivor: Customer, merged: Customer, by=None) -> int:
    """The merge's part (for customers/merging.py): the pair of the two, when queued, is
    decided as merged. Other pairs of the merged-away customer leave the open queue by
    themselves (it shows live customers only)."""
    a, b = ordered(survivor.pk, merged.pk)
    return DuplicatePair.objects.filter(
        tenant_id=survivor.tenant_id, customer_a_id=a, customer_b_id=b
    ).update(
        status=DuplicateStatus.MERGED,
        decided_by=by if by is not None and by.is_authenticated else None,
        decided_at=timezone.now(),
        updated_at=timezone.now(),
    )


def duplicate_pairs_unmerged(*, survivor: Customer, merged: Customer) -> int:
    """The undo's part (for customers/merging.py): the pair the merge decided is open again,
    for a person to decide anew (the two are two live customers again)."""
    a, b = ordered(survivor.pk, merged.pk)
    return DuplicatePair.objects.filter(
        tenant_id=survivor.tenant_id,
        customer_a_id=a,
        customer_b_id=b,
        status=DuplicateStatus.MERGED,
    ).update(
        status=DuplicateStatus.OPEN, decided_by=None, decided_at=None, updated_at=timezone.now()
    )


class DuplicatesPrivacy:
    """A person's pairs in the review queue (customers/privacy.py): exported; deleted on
    erasure (their reasons quote the person's values)."""

    key = "duplicates"

    @staticmethod
    def _of(customer: Customer):
        return DuplicatePair.objects.filter(Q(customer_a=customer) | Q(customer_b=customer))

    def export(self, customer: Customer) -> dict:
        from customers.privacy import row

        return {"duplicate_pairs": [row(pair) for pair in self._of(customer).order_by("pk")]}

    def erase(self, customer: Customer) -> dict[str, int]:
        counts = {"duplicate_pairs": self._of(customer).delete()[0]}
        if connection.vendor == "postgresql":
            counts["name_keys"] = _forget_name_keys(customer)
        return counts


def _forget_name_keys(customer: Customer) -> int:
    """Delete the names the customer has or had (its history rows: erasure runs before they
    are blanked) from the tenant's distinct names (``customers_name_key``, PostgreSQL: kept by
    a trigger that only adds) unless another customer has them now: an erased person's name
    must not stay behind in the similar-name index."""
    names = {(customer.name, customer.local_name)}
    names.update(Customer.history.filter(id=customer.pk).values_list("name", "local_name"))
    keys = sorted({name.upper() for pair in names for name in pair if name})
    if not keys:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            DELETE FROM customers_name_key nk
            WHERE nk.tenant_id = %s AND nk.key = ANY(%s)
              AND NOT EXISTS (
                SELECT 1 FROM customers_customer c
                WHERE c.tenant_id = nk.tenant_id AND c.id <> %s
                  AND UPPER(c.name) <> '' AND UPPER(c.name) = nk.key)
              AND NOT EXISTS (
                SELECT 1 FROM customers_customer c
                WHERE c.tenant_id = nk.tenant_id AND c.id <> %s
                  AND UPPER(c.local_name) <> '' AND UPPER(c.local_name) = nk.key)
            """,
            [customer.tenant_id, keys, customer.pk, customer.pk],
        )
        return cursor.rowcount


@service_atomic()
def duplicate_scan_start(*, tenant, resume: bool) -> DuplicateScan:
    """The scan's position: kept when resuming one that has not finished, else from the
    first customer."""
    scan, created = DuplicateScan.objects.select_for_update().get_or_create(
        tenant=tenant, defaults={"started_at": timezone.now()}
    )
    if not created and not (resume and scan.finished_at is None):
        scan.last_customer_id = 0
        scan.customers_done = 0
        scan.pairs_recorded = 0
        scan.started_at = timezone.now()
        scan.finished_at = None
        scan.save()
    return scan


@service_atomic()
def duplicate_scan_advance(
    *, tenant, pairs: list[FoundPair], last_customer_id: int, customers: int
) -> DuplicateScan:
    """Record one batch's pairs and move the position past it, in one transaction: an
    interrupted scan resumes after the last batch recorded, never skipping one."""
    recorded = duplicate_pairs_record(tenant=tenant, pairs=pairs)
    DuplicateScan.objects.filter(tenant=tenant).update(
        last_customer_id=last_customer_id,
        customers_done=F("customers_done") + customers,
        pairs_recorded=F("pairs_recorded") + recorded,
    )
    return DuplicateScan.objects.get(tenant=tenant)


@service_atomic()
def duplicate_scan_finish(*, tenant) -> None:
    DuplicateScan.objects.filter(tenant=tenant).update(finished_at=timezone.now())


def customers_after(*, tenant, after_pk: int, limit: int) -> list[dict]:
    """The next keyset batch of the tenant's live customers, as rows for the finder."""
    return list(
        customers_for_tenant(tenant=tenant)
        .filter(pk__gt=after_pk)
        .order_by("pk")
        .values(*SUBJECT_FIELDS)[:limit]
    )


def customer_batches(*, tenant, after: int, size: int):
    """Every live customer of the tenant after ``after``, as ``NameHeads.batches`` gives
    the ones that may have a candidate."""
    while rows := customers_after(tenant=tenant, after_pk=after, limit=size):
        after = rows[-1]["id"]
        yield rows, after, len(rows)
