"""Store-scoped reads."""

from __future__ import annotations

from functools import partial

from django.db.models import Q
from django.db.models.functions import Lower

from customers.error_codes import CustomerErrorCode
from customers.models import display_name_sql
from customers.selectors import customer_survivor
from stores.models import CustomerStore, Store, StoreMembership
from tenants import counts, errors, paging
from tenants.ids import parse_uuid
from tenants.models import Role


def customer_get_by_store(*, store: Store):
    """The customer that represents a store (the seed's getCustomerByStoreId)."""
    return store.customer


def customer_links_for_store(*, store: Store):
    return CustomerStore.objects.filter(store=store)


#: what tenants.counts keeps for stores (stores/migrations/0003_store_link_counts.py)
STORE_LINKS = "store.links"


def store_links_total(*, store: Store) -> int:
    """The number of the store's customer links, read from the counts kept by the database
    on PostgreSQL (tenants/counts.py)."""
    return store_links_counted(store=store).total


def store_links_counted(*, store: Store) -> counts.Counted:
    """``store_links_total`` with the version of the store's links (tenants/counts.py)."""
    return counts.counted(STORE_LINKS, store.pk, customer_links_for_store(store=store))


STORE_CUSTOMER_SORTS = frozenset({"name", "is_active", "updated_at", "created_at"})


def store_customers(
    *,
    store: Store,
    search: str | None = None,
    name: str | None = None,
    is_active: bool | None = None,
    sort: str = "created_at",
    descending: bool = True,
):
    """The store's customer links (with their customer), filtered and sorted.

    ``search`` matches the name or the local name, ``name`` the name (both partial and
    case-insensitive); ``sort`` is one of STORE_CUSTOMER_SORTS (``name`` sorts on the shown
    name, case-insensitively); ties are broken on the customer's primary key, in the same
    direction, so pages never overlap.
    """
    if sort not in STORE_CUSTOMER_SORTS:
        raise ValueError(f"Unknown sort: {sort}")
    qs = CustomerStore.objects.filter(store=store).select_related("customer")
    # the link's copies of the names (kept by the database, stores/migrations/0004): the
    # search reads the store's links only, through their trigram indexes on PostgreSQL
    if search:
        qs = qs.filter(
            Q(customer_name__icontains=search) | Q(customer_local_name__icontains=search)
        )
    if name:
        qs = qs.filter(customer_name__icontains=name)
    if is_active is not None:
        qs = qs.filter(customer__is_active=is_active)
    if sort == "name":
        qs = qs.annotate(sort_key=Lower(display_name_sql("customer__")))
        key = "sort_key"
    elif sort == "created_at":
        key = "customer_created_at"  # the link's copy: served by the index, any page
    else:
        key = f"customer__{sort}"
    prefix = "-" if descending else ""
    return qs.order_by(f"{prefix}{key}", f"{prefix}customer_id")


def store_customer_rows(links, columns: tuple[str, ...]):
    """``store_customers`` as rows (dicts of ``columns``, the ones its dialect renders, and
    the link's key ``customer_id``) instead of model instances: a page of 100 links built 200
    of them, which cost more than its query."""
    return links.values(*dict.fromkeys(("customer_id", *columns)))


def store_customers_page(
    *,
    store: Store,
    offset: int,
    limit: int,
    search: str | None = None,
    name: str | None = None,
    is_active: bool | None = None,
    sort: str = "created_at",
    descending: bool = True,
    columns: tuple[str, ...],
) -> tuple[list[dict], int]:
    """``(rows, total)``: one page of ``store_customers`` as ``store_customer_rows`` of
    ``columns``.

    A search is paged by finding its matches once (``tenants.paging.page_keys``); without
    filters the total is the one the database keeps (``store_links_total``), otherwise a
    ``COUNT``; the page is read by a deferred join (tenants/paging.py), which starts deep
    pages of the default order (creation time: keys that never change) from a landmark."""
    links = store_customers(
        store=store, search=search, name=name, is_active=is_active, sort=sort, descending=descending
    )
    unfiltered = not search and not name and is_active is None
    counted = store_links_counted(store=store) if unfiltered else None
    return paging.page(
        links,
        key="customer_id",
        offset=offset,
        limit=limit,
        selective=bool(search or name),
        total=counted.total if counted else None,
        counted=counted if sort == "created_at" else None,
        rows=partial(store_customer_rows, columns=columns),
    )


def customer_link_get(*, store: Store, customer_id) -> CustomerStore:
    """This store's link of the customer with public id ``customer_id`` (with the customer).

    A malformed id, a missing customer, another tenant's and one not linked to this store
    are all 404; the id of a customer merged away answers as its survivor.
    """
    uid = parse_uuid(customer_id)
    link = (
        CustomerStore.objects.filter(store=store, customer__uuid=uid)
        .select_related("customer")
        .first()
        if uid
        else None
    )
    if link is None and uid:  # a merged-away customer's id answers as its survivor
        survivor = customer_survivor(tenant=store.tenant_id, uuid=uid)
        if survivor is not None:
            link = CustomerStore.objects.filter(store=store, customer=survivor).first()
            if link is not None:
                link.customer = survivor
    if link is None:
        raise errors.NotFound("Customer not found", code=CustomerErrorCode.CUSTOMER_NOT_FOUND)
    return link


class StoreReach:
    """The stores a caller reaches (registered with tenants.reach by StoresConfig.ready)."""

    def stores_reachable(self, *, memberships, user, api_key) -> list:
        if api_key is not None:
            return list(
                Store.objects.filter(tenant=api_key.tenant, is_active=True).order_by("name")
            )
        admin_tenants = [m.tenant_id for m in memberships if m.role == Role.ADMIN]
        return list(
            Store.objects.filter(is_active=True, tenant__in=[m.tenant_id for m in memberships])
            .filter(
                Q(tenant__in=admin_tenants) | Q(memberships__user=user, memberships__is_active=True)
            )
            .distinct()
            .order_by("name")
        )

    def user_store_ids(self, *, user, tenant=None) -> frozenset:
        links = StoreMembership.objects.filter(user=user, is_active=True, store__is_active=True)
        if tenant is not None:
            links = links.filter(store__tenant=tenant)
        return frozenset(links.values_list("store_id", flat=True))
