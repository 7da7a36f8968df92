"""Tenant-scoped reads of customers. Every query here is filtered on the tenant."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from customers.identity import normalize
from customers.models import LIVE, Address, ClientType, Customer, IdentifierKind
from tenants import counts, errors
from tenants.ids import parse_uuid


def customers_for_tenant(*, tenant) -> QuerySet[Customer]:
    """The tenant's live customers: tombstones (merged away or erased) are never shown."""
    return Customer.objects.filter(LIVE, tenant=tenant)


#: what tenants.counts keeps for customers (customers/migrations/0003_customer_counts.py)
CUSTOMERS, ACTIVE_CUSTOMERS = "customers", "customers.active"


def customers_total(*, tenant, is_active: bool | None = None) -> int:
    """The number of the tenant's customers (only the active or inactive ones when asked),
    read from the counts kept by the database on PostgreSQL (tenants/counts.py)."""
    everyone = customers_for_tenant(tenant=tenant)
    if is_active is None:
        return customers_counted(tenant=tenant).total
    active = counts.total(ACTIVE_CUSTOMERS, tenant.pk, everyone.filter(is_active=True))
    return active if is_active else counts.total(CUSTOMERS, tenant.pk, everyone) - active


def customers_counted(*, tenant) -> counts.Counted:
    """``customers_total`` of all the tenant's customers, with their version
    (tenants/counts.py)."""
    return counts.counted(CUSTOMERS, tenant.pk, customers_for_tenant(tenant=tenant))


#: how many merges a tombstone's chain may go through to its survivor (a guard, not a limit
#: that real merges reach: a chain grows only when a survivor is itself merged away)
MAX_MERGE_HOPS = 64


def customer_survivor(*, tenant, uuid=None, pk=None) -> Customer | None:
    """The live customer that the tenant's tombstone with this ``uuid`` (or ``pk``) was
    merged into, following ``merged_into`` through later merges; None when there is no such
    tombstone (or its chain ends on an erased customer). Read only when the live lookup
    missed, so that a tombstone's old id answers as its survivor in every dialect."""
    lookup = {"uuid": uuid} if uuid is not None else {"pk": pk}
    row = (
        Customer.objects.filter(
            tenant=tenant, merged_into__isnull=False, erased_at__isnull=True, **lookup
        )
        .values_list("merged_into_id", flat=True)
        .first()
    )
    for _ in range(MAX_MERGE_HOPS):
        if row is None:
            return None
        customer = Customer.objects.filter(pk=row, tenant=tenant).first()
        if customer is None or customer.erased_at is not None:
            return None
        if customer.merged_into_id is None:
            return customer
        row = customer.merged_into_id
    return None


def customer_get(*, tenant, customer_id) -> Customer:
    """By public UUID; a malformed id, a missing one and another tenant's are all 404. The
    id of a customer merged away answers as its survivor (``customer_survivor``)."""
    uid = parse_uuid(customer_id)
    if uid is None:
        raise errors.NotFound("Customer not found.")
    customer = customers_for_tenant(tenant=tenant).filter(uuid=uid).first()
    if customer is None:
        customer = customer_survivor(tenant=tenant, uuid=uid)
    if customer is None:
        raise errors.NotFound("Customer not found.")
    return customer


def customer_get_for_merge(*, tenant, customer_id) -> Customer:
    """By public UUID, a tombstone as itself (a merge of it is refused by name, not
    redirected to its survivor); an erased one, a missing one and another tenant's: 404."""
    uid = parse_uuid(customer_id)
    customer = (
        Customer.objects.filter(tenant=tenant, uuid=uid, erased_at__isnull=True).first()
        if uid is not None
        else None
    )
    if customer is None:
        raise errors.NotFound("Customer not found.")
    return customer


def customer_get_by_pk(*, tenant, pk, with_default_address: bool = False) -> Customer:
    """By integer id (the peppered ``customerId``). ``with_default_address`` joins the default
    address: for reads only (a service that changes the address would leave it stale). The
    id of a customer merged away answers as its survivor (``customer_survivor``)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise errors.NotFound("Customer not found.") from None
    if not 0 < pk < 2**63:
        raise errors.NotFound("Customer not found.")
    qs = customers_for_tenant(tenant=tenant)
    if with_default_address:
        qs = qs.select_related("default_address")
    customer = qs.filter(pk=pk).first()
    if customer is None:  # a merged-away customer's id answers as its survivor
        survivor = customer_survivor(tenant=tenant, pk=pk)
        customer = None if survivor is None else qs.filter(pk=survivor.pk).first()
    if customer is None:
        raise errors.NotFound("Customer not found.")
    return customer


def customer_find_by_email(
    *, tenant, email: str, with_default_address: bool = False
) -> Customer | None:
    """By email (any of the customer's, case-insensitively: ``identity.normalize``), through
    the identity graph. ``with_default_address``: as ``customer_get_by_pk``."""
    value = normalize(IdentifierKind.EMAIL, email, tenant=tenant)
    if not value:
        return None
    # through the email identifiers (their unique index): a customer's secondary emails find
    # it too, and an identifier a merge moved finds the survivor
    qs = Customer.objects.filter(
        identifiers__tenant_id=tenant.pk,
        identifiers__kind=IdentifierKind.EMAIL,
        identifiers__value=value,
        merged_into__isnull=True,
        erased_at__isnull=True,
    )
    if with_default_address:
        qs = qs.select_related("default_address")
    return next(iter(qs[:1]), None)  # an identifier names one customer


def customer_find_by_identifier(*, tenant, kind: str, value) -> Customer | None:
    """The live customer that holds the identifier ``kind``/``value`` (normalized here: a
    phone in the tenant's region), or None."""
    try:
        value = normalize(kind, value, tenant=tenant)
    except errors.ValidationError:  # not a phone number: nobody has it
        return None
    if not value:
        return None
    return (
        customers_for_tenant(tenant=tenant)
        .filter(identifiers__tenant=tenant, identifiers__kind=kind, identifiers__value=value)
        .first()
    )


def customer_tag_names(customer: Customer) -> list[str]:
    """The names of the customer's client types, sorted (by code point): from its
    prefetched ``tags`` when a list prefetched them, else one query."""
    if "tags" in getattr(customer, "_prefetched_objects_cache", {}):
        return sorted(tag.name for tag in customer.tags.all())
    return sorted(ClientType.objects.filter(customers=customer.pk).values_list("name", flat=True))


def customer_find_by_discord_id(*, tenant, discord_id: str) -> Customer | None:
    """By Discord id (any of the customer's), through the identity graph."""
    return customer_find_by_identifier(tenant=tenant, kind=IdentifierKind.DISCORD, value=discord_id)


def customer_get_by_user(*, tenant, user) -> Customer | None:
    """The customer record of a user (the seed's getCustomerByUserId), through the graph."""
    if user is None:
        return None
    return customer_find_by_identifier(tenant=tenant, kind=IdentifierKind.USER, value=user)


def client_types_for_tenant(*, tenant) -> QuerySet[ClientType]:
    return ClientType.objects.filter(tenant=tenant).order_by("name")


def customers_changed_since(*, tenant, since=None) -> QuerySet[Customer]:
    """The tenant's customers with ``updated_at >= since`` (all when ``since`` is None),
    oldest change first (then by id), default address and tags loaded: the query count does
    not grow with the number of customers (peppered's export)."""
    qs = customers_for_tenant(tenant=tenant)
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    return (
        qs.select_related("default_address").prefetch_related("tags").order_by("updated_at", "id")
    )


def attach_addresses(customers: list[Customer]) -> list[Customer]:
    """Set ``customer.address_list`` (its addresses, oldest first) on each of ``customers``,
    in one query, whatever their number; always fresh (read after any change).

    A plain list per customer: Django's ``prefetch_related`` builds a queryset for every
    customer, which costs more than the query itself for a page of 100 (docs/performance.md).
    """
    groups: dict[int, list[Address]] = {customer.pk: [] for customer in customers}
    if groups:
        for address in Address.objects.filter(customer_id__in=list(groups)):  # Meta ordering
            groups[address.customer_id].append(address)
    for customer in customers:
        customer.address_list = groups[customer.pk]
    return customers


def customers_keyset_page(
    *, tenant, after_pk: int = 0, limit: int, columns: tuple[str, ...]
) -> list[dict]:
    """Up to ``limit`` of the tenant's customers with a primary key above ``after_pk``, in
    ascending primary-key (creation) order, as rows: dicts of ``columns`` (the ones a
    dialect renders) and ``id``, with ``address_list``, their addresses as rows, oldest first.

    Two queries per page and no model instances: this feeds lists and exports of any size
    (building ~200 model instances cost more than the page's two queries).
    """
    rows = list(
        customers_for_tenant(tenant=tenant)
        .filter(pk__gt=after_pk)
        .order_by("pk")
        .values(*dict.fromkeys(("id", *columns)))[:limit]
    )
    groups: dict[int, list[dict]] = {}
    for row in rows:
        row["address_list"] = groups[row["id"]] = []
    if groups:
        for address in Address.objects.filter(customer_id__in=list(groups)).values():
            groups[address["customer_id"]].append(address)
    return rows


def customer_rows_in_batches(queryset, *, fields, batch_size: int) -> Iterator[list[dict]]:
    """``queryset``'s customers (a queryset the caller has already scoped: a tenant's, or an
    admin change list's), ``batch_size`` at a time in primary-key (creation) order, as rows
    of ``fields`` with ``tag_names`` (sorted): two queries per batch, whatever the total.

    Keyset batches: each starts after the last primary key of the one before, so every
    batch is as cheap as the first and no transaction or cursor stays open between them
    (an export streams for as long as its client reads)."""
    rows_of = queryset.prefetch_related(None).order_by("pk").values(*fields)
    through = Customer.tags.through
    after = None
    while True:
        batch = rows_of if after is None else rows_of.filter(pk__gt=after)
        rows = list(batch[:batch_size])
        if not rows:
            return
        names: dict[int, list[str]] = {row["id"]: [] for row in rows}
        for customer_id, name in through.objects.filter(customer_id__in=list(names)).values_list(
            "customer_id", "clienttype__name"
        ):
            names[customer_id].append(name)
        for row in rows:
            row["tag_names"] = sorted(names[row["id"]])
        yield rows
        if len(rows) < batch_size:
            return
        after = rows[-1]["id"]
