"""The identity graph (issue 20, docs/identity.md): the ``Identifier`` rows that name each
customer, kept in step with the customer's columns, and the lookups through them.

Every value is stored normalized (``normalize``). The customer's column of a kind shows its
primary identifier of that kind; a customer may hold more of a kind (a second email attached
by find-or-create, the identifiers a merge moved onto it), which no column shows.

Two families of kinds:

- ``STRICT`` (email, Discord id, user): one customer per value in a tenant. A value another
  customer holds is refused with the same domain errors as before the graph (email taken,
  Discord id taken, user taken), each naming the customer that holds it (``taken_error``).
- ``SOFT`` (phone, external id): the columns were never unique (two people may share a
  phone). The identifier goes to the first customer that wrote the value; a later customer
  with the same value keeps it in its column, without an identifier, and is never refused.

The identifier table's unique constraint (``identifier_unique_value``) decides every race:
identifiers are inserted with ``ON CONFLICT DO NOTHING`` and the rows not inserted are read
back (their holder is named in the error), on both databases.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from uuid import UUID

from django.db import connections, router
from django.db.models import Q
from django.utils import timezone

from customers.error_codes import CustomerErrorCode
from customers.models import Customer, Identifier, IdentifierKind
from tenants import errors
from tenants.phones import phone_normalize

EMAIL = IdentifierKind.EMAIL.value
DISCORD = IdentifierKind.DISCORD.value
USER = IdentifierKind.USER.value
EXTERNAL = IdentifierKind.EXTERNAL.value
PHONE = IdentifierKind.PHONE.value

KINDS = (EMAIL, DISCORD, USER, EXTERNAL, PHONE)
STRICT = frozenset({EMAIL, DISCORD, USER})
SOFT = frozenset({EXTERNAL, PHONE})
#: the customer column that shows the primary identifier of each kind
COLUMNS = {
    EMAIL: "email",
    DISCORD: "discord_id",
    USER: "user",
    EXTERNAL: "external_id",
    PHONE: "phone",
}
#: kind of each column (``user`` and ``user_id`` both)
KIND_OF_COLUMN = {**{column: kind for kind, column in COLUMNS.items()}, "user_id": USER}

EMAIL_TAKEN = "The email has already been taken."
DISCORD_ID_TAKEN = "A customer with this Discord id already exists."
USER_TAKEN = "This user is already linked to another customer."


class Owner(NamedTuple):
    """The customer an identifier names: its integer id (peppered) and its UUID (the others)."""

    pk: int
    uuid: UUID


Pair = tuple[str, str]  # (kind, normalized value)


def normalize(kind: str, raw, *, tenant) -> str:
    """``raw`` as the graph stores a value of ``kind`` ("" for none): an email stripped and
    case-folded, a phone in E.164 with the tenant's default region (a ValidationError when it
    is not a phone number), a user its primary key, a Discord or external id trimmed."""
    if raw is None or raw == "":
        return ""
    if kind == EMAIL:
        return str(raw).strip().casefold()
    if kind == PHONE:
        return phone_normalize(raw, tenant=tenant)
    if kind == USER:
        return str(getattr(raw, "pk", raw)).strip()
    if kind in (DISCORD, EXTERNAL):
        return str(raw).strip()
    raise ValueError(f"Unknown identifier kind {kind!r}.")


def column_values(customer: Customer) -> dict[str, str]:
    """The normalized value of each kind's column of ``customer`` ("" for an empty column).
    The columns hold what the services wrote (a phone already in E.164), so this never
    queries and never fails (customers/migrations/0008 normalizes the same way)."""
    return {
        EMAIL: (customer.email or "").strip().casefold(),
        DISCORD: (customer.discord_id or "").strip(),
        USER: str(customer.user_id) if customer.user_id else "",
        EXTERNAL: (customer.external_id or "").strip(),
        PHONE: (customer.phone or "").strip(),
    }


def row_identifiers(row: dict) -> list[Pair]:
    """The identifiers of a customer given as a row of its columns (``email``,
    ``discord_id``, ``user_id``, ``external_id``, ``phone``; a missing one is empty): for
    writers that insert customers in bulk (tests/bench/generate.py, the factories)."""
    values = {
        EMAIL: (row.get("email") or "").strip().casefold(),
        DISCORD: (row.get("discord_id") or "").strip(),
        USER: str(row["user_id"]) if row.get("user_id") else "",
        EXTERNAL: (row.get("external_id") or "").strip(),
        PHONE: (row.get("phone") or "").strip(),
    }
    return [(kind, value) for kind, value in values.items() if value]


# --- errors ----------------------------------------------------------------------------------


def taken_error(kind: str, owner: Owner | None) -> errors.DomainError:
    """The domain error of a strict identifier another customer holds (the errors of the
    columns' constraints before the graph), with the holder as ``existing``: each dialect's
    edge names it in its own format (peppered its integer id, the others its UUID)."""
    if kind == EMAIL:
        exc = errors.ValidationError(
            EMAIL_TAKEN, fields={"email": [EMAIL_TAKEN]}, code=CustomerErrorCode.EMAIL_TAKEN
        )
    elif kind == DISCORD:
        exc = errors.Conflict(DISCORD_ID_TAKEN, code=CustomerErrorCode.DISCORD_ID_TAKEN)
    elif kind == USER:
        exc = errors.ValidationError(
            USER_TAKEN, fields={"user": [USER_TAKEN]}, code=CustomerErrorCode.USER_TAKEN
        )
    else:  # pragma: no cover - soft kinds are never refused
        raise ValueError(kind)
    exc.existing = owner
    return exc


_DETAIL = re.compile(r"\(tenant_id, kind, value\)=\([^,]*, (\w+),")


def kind_of_violation(exc: BaseException) -> str | None:
    """The kind of the identifier an ``identifier_unique_value`` violation is about, when the
    database says (PostgreSQL: "Key (tenant_id, kind, value)=(…, email, …) already
    exists."); None otherwise (SQLite names only the columns)."""
    detail = getattr(getattr(exc.__cause__, "diag", None), "message_detail", None) or ""
    match = _DETAIL.search(detail)
    return match.group(1) if match else None


def existing_of(exc: BaseException) -> Owner | None:
    """The customer that holds the identifier a ``taken_error`` refused, if any."""
    return getattr(exc, "existing", None)


# --- reads -----------------------------------------------------------------------------------


def _pairs_q(pairs) -> Q:
    q = Q()
    for kind, value in pairs:
        q |= Q(kind=kind, value=value)
    return q


def owners(*, tenant_id, pairs) -> dict[Pair, Owner]:
    """Which customer holds each of ``pairs`` in the tenant (one query; absent when free)."""
    pairs = [pair for pair in pairs if pair[1]]
    if not pairs:
        return {}
    rows = (
        Identifier.objects.filter(tenant_id=tenant_id)
        .filter(_pairs_q(pairs))
        .values_list("kind", "value", "customer_id", "customer__uuid")
    )
    return {(kind, value): Owner(pk, uuid) for kind, value, pk, uuid in rows}


def customers_by_identifiers(*, tenant_id, pairs) -> dict[Pair, Customer]:
    """The live customers that hold ``pairs``, as full records (one query, through the
    identifiers' unique index): for find-or-create, which returns the record it finds.

    Hand-written SQL: find-or-create runs it on every call (a bot calls it for every
    message), and compiling the same join through the ORM cost more than the database's
    work and made find-or-create slower than before the identifiers (docs/performance.md,
    "Identity (issue 20)"). ``customers.models.LIVE`` is the last two conditions."""
    pairs = list(dict.fromkeys(pair for pair in pairs if pair[1]))
    if not pairs:
        return {}
    alias = router.db_for_read(Customer)
    connection = connections[alias]
    tenant = Identifier._meta.get_field("tenant").get_db_prep_value(tenant_id, connection)
    params: list = [tenant]
    for kind, value in pairs:
        params += [kind, value]
    found = {}
    for customer in Customer.objects.raw(_lookup_sql(alias, len(pairs)), params).using(alias):
        pair = (customer.__dict__.pop("identifier_kind"), customer.__dict__.pop("identifier_value"))
        found[pair] = customer
    return found


@lru_cache(maxsize=32)
def _lookup_sql(alias: str, count: int) -> str:
    """The SELECT of ``customers_by_identifiers`` for ``count`` pairs on database ``alias``."""
    qn = connections[alias].ops.quote_name
    ident, customer = Identifier._meta, Customer._meta
    match = " OR ".join([f"(i.{qn('kind')} = %s AND i.{qn('value')} = %s)"] * count)
    return (
        f"SELECT c.*, i.{qn('kind')} AS identifier_kind, i.{qn('value')} AS identifier_value "
        f"FROM {qn(ident.db_table)} i INNER JOIN {qn(customer.db_table)} c "
        f"ON c.{qn(customer.pk.column)} = i.{qn(ident.get_field('customer').column)} "
        f"WHERE i.{qn(ident.get_field('tenant').column)} = %s AND ({match}) "
        f"AND c.{qn(customer.get_field('merged_into').column)} IS NULL "
        f"AND c.{qn(customer.get_field('erased_at').column)} IS NULL"
    )


def identifiers_check(*, tenant_id, values: dict[str, str], customer_id=None) -> None:
    """Refuse (``taken_error``) a strict value of ``values`` (kind -> normalized value) that a
    customer other than ``customer_id`` holds: the check before a write (one query, none when
    no strict value is given). The unique constraint still decides a race (``identifiers_add``)."""
    strict = [(kind, value) for kind, value in values.items() if value and kind in STRICT]
    if not strict:
        return
    found = owners(tenant_id=tenant_id, pairs=strict)
    for pair in strict:
        owner = found.get(pair)
        if owner is not None and owner.pk != customer_id:
            raise taken_error(pair[0], owner)


# --- writes (called by the customers' services, inside their transaction) ---------------------


def _insert(*, tenant_id, customer_id, pairs: list[Pair]) -> set[Pair]:
    """Insert the identifiers that are free, in one statement; the pairs inserted."""
    alias = router.db_for_write(Identifier)
    connection = connections[alias]
    opts = Identifier._meta
    now = opts.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    tenant = opts.get_field("tenant").get_db_prep_save(tenant_id, connection)
    qn = connection.ops.quote_name
    columns = ("tenant_id", "customer_id", "kind", "value", "created_at", "updated_at")
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(pairs))
    params: list = []
    for kind, value in pairs:
        params += [tenant, customer_id, kind, value, now, now]
    sql = (
        f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(c) for c in columns)}) VALUES {rows} "
        f"ON CONFLICT ({qn('tenant_id')}, {qn('kind')}, {qn('value')}) DO NOTHING "
        f"RETURNING {qn('kind')}, {qn('value')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(kind, value) for kind, value in cursor.fetchall()}


def identifiers_add(*, customer: Customer, pairs) -> None:
    """Give ``customer`` the identifiers ``pairs`` (kind, normalized value) it does not hold
    yet: one INSERT. A strict one another customer holds is refused (``taken_error``, the
    whole service rolls back); a soft one stays with its holder."""
    pairs = list(dict.fromkeys(pair for pair in pairs if pair[1]))
    if not pairs:
        return
    inserted = _insert(tenant_id=customer.tenant_id, customer_id=customer.pk, pairs=pairs)
    refused = [pair for pair in pairs if pair not in inserted and pair[0] in STRICT]
    if not refused:
        return
    found = owners(tenant_id=customer.tenant_id, pairs=refused)
    for pair in refused:
        owner = found.get(pair)
        if owner is None:  # held when inserted, released since: the caller may retry
            raise errors.Conflict(
                "The record was changed by another request at the same time; retry."
            )
        if owner.pk != customer.pk:  # the customer's own (a secondary one) is no conflict
            raise taken_error(pair[0], owner)


def identifiers_sync(*, customer: Customer, before: dict[str, str] | None) -> None:
    """Keep the customer's primary identifiers in step with its columns after a write:
    ``before`` is ``column_values`` of the record before the write (None: a new record).
    For every kind whose column changed, the identifier of the old value (the old primary)
    is removed and the new value's added; the customer's other identifiers of that kind (a
    second email, a merged customer's) stay."""
    after = column_values(customer)
    before = before or {}
    changed = [kind for kind in KINDS if after[kind] != before.get(kind, "")]
    if not changed:
        return
    old = [(kind, before[kind]) for kind in changed if before.get(kind)]
    if old:  # one DELETE, without the collector's SELECT: nothing refers to an identifier
        Identifier.objects.filter(customer_id=customer.pk).filter(_pairs_q(old))._raw_delete(
            router.db_for_write(Identifier)
        )
    identifiers_add(customer=customer, pairs=[(kind, after[kind]) for kind in changed])


def values_of_fields(fields: dict) -> dict[str, str]:
    """The normalized identifier values among a write's ``fields`` (column -> value), whose
    phone the services have already normalized (E.164)."""
    out = {}
    for column, value in fields.items():
        kind = KIND_OF_COLUMN.get(column)
        if kind == PHONE:
            out[kind] = (value or "").strip()
        elif kind is not None:
            out[kind] = normalize(kind, value, tenant=None)
    return out
