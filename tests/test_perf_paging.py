"""Pages with exact totals at scale (tenants/paging.py) and the store list's sort key copy
(CustomerStore.customer_created_at).

Every page of every strategy must be exactly the slice of the whole ordered list that a
plain ``OFFSET`` would give, with the same total: these tests compare them directly.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from b2b import selectors as b2b_selectors
from b2b.api.serializers import B2B_CUSTOMER_COLUMNS as B2B_COLUMNS
from customers.models import Customer
from customers.selectors import CUSTOMERS
from stores import selectors as store_selectors
from stores.api.serializers import STORE_CUSTOMER_COLUMNS as COLUMNS
from stores.models import CustomerStore
from stores.services import customer_store_link, store_customer_create
from tenants import counts, paging
from tenants.api.dialect import iso_timestamp as timestamp
from tests.factories import (
    CustomerFactory,
    CustomerStoreFactory,
    PriceListFactory,
    StoreFactory,
    TenantFactory,
)

pytestmark = pytest.mark.django_db

BASE = datetime(2025, 1, 1, tzinfo=UTC)
STORE_ROWS = partial(store_selectors.store_customer_rows, columns=COLUMNS)


def customers(tenant, names):
    """Customers with the given names, created one hour apart (some at the same instant, so
    that ties are broken by the primary key)."""
    out = []
    for n, name in enumerate(names):
        customer = CustomerFactory(tenant=tenant, name=name)
        Customer.objects.filter(pk=customer.pk).update(created_at=BASE + timedelta(hours=n // 2))
        customer.refresh_from_db()
        out.append(customer)
    return out


NAMES = [f"{'Mensah' if n % 3 == 0 else 'Jansen'} {n:02d}" for n in range(23)]


@pytest.fixture
def tenant():
    tenant = TenantFactory()
    customers(tenant, NAMES)
    return tenant


def ordered(tenant, *order, **filters):
    return Customer.objects.filter(tenant=tenant, **filters).order_by(*order)


@pytest.mark.parametrize(
    "order", [("-created_at", "-id"), ("created_at", "id"), ("name", "id"), ("-name", "-id")]
)
@pytest.mark.parametrize("filters", [{}, {"name__icontains": "mensah"}])
def test_page_keys_is_the_offset_slice_and_the_count(tenant, order, filters):
    qs = ordered(tenant, *order, **filters)
    everything = list(qs.values_list("pk", flat=True))
    for offset, limit in [(0, 5), (5, 5), (20, 5), (0, 100), (7, 1), (len(everything), 5)]:
        keys, total = paging.page_keys(qs, key="pk", offset=offset, limit=limit)
        assert keys == everything[offset : offset + limit]
        assert total == len(everything)


def test_page_keys_orders_by_an_annotation(tenant):
    qs = (
        Customer.objects.filter(tenant=tenant, name__icontains="e")
        .annotate(sort_key=Lower("name"))
        .order_by("-sort_key", "-id")
    )
    everything = list(qs.values_list("pk", flat=True))
    keys, total = paging.page_keys(qs, key="pk", offset=3, limit=4)
    assert (keys, total) == (everything[3:7], len(everything))


def test_page_keys_with_no_match_or_an_empty_queryset(tenant):
    qs = ordered(tenant, "-created_at", "-id", name__icontains="nobody")
    assert paging.page_keys(qs, key="pk", offset=0, limit=10) == ([], 0)
    assert paging.page_keys(qs.none(), key="pk", offset=0, limit=10) == ([], 0)


def test_page_keys_refuses_what_it_cannot_page(tenant):
    with pytest.raises(ValueError):
        paging.page_keys(ordered(tenant, "-id")[:5], key="pk", offset=0, limit=5)
    with pytest.raises(ValueError):
        paging.page_keys(ordered(tenant, F("name").desc()), key="pk", offset=0, limit=5)


@pytest.mark.parametrize("selective", [False, True])
def test_page_rows_match_a_plain_offset_in_one_or_two_queries(tenant, selective):
    filters = {"name__icontains": "mensah"} if selective else {}
    everything = list(ordered(tenant, "-created_at", "-id", **filters))
    for offset in (0, 3, 6, len(everything) - 1, len(everything) + 10):
        qs = ordered(tenant, "-created_at", "-id", **filters)
        with CaptureQueriesContext(connection) as ctx:
            rows, total = paging.page(qs, key="pk", offset=offset, limit=3, selective=selective)
        assert [r.pk for r in rows] == [c.pk for c in everything[offset : offset + 3]]
        assert total == len(everything)
        assert len(ctx) == (1 if not rows else 2)


def test_the_window_reads_only_the_page_rows(tenant):
    qs = ordered(tenant, "-created_at", "-id")
    with CaptureQueriesContext(connection) as ctx:
        rows = paging.window(qs, key="pk", offset=10, limit=4)
    assert [r.pk for r in rows] == [c.pk for c in list(qs)[10:14]]
    assert len(ctx) == 1
    assert "LIMIT 4 OFFSET 10" in ctx.captured_queries[0]["sql"]  # in the subquery only
    assert ctx.captured_queries[0]["sql"].rstrip().endswith(("DESC", "DESC\n"))


# --- the store list's sort key ------------------------------------------------------------------


def test_every_way_of_linking_copies_the_customers_creation_time(db):
    store = StoreFactory()
    customer = CustomerFactory(tenant=store.tenant)
    Customer.objects.filter(pk=customer.pk).update(created_at=BASE)
    customer.refresh_from_db()
    links = [
        customer_store_link(customer=customer, store=store),  # the service
        CustomerStoreFactory(store=StoreFactory(tenant=store.tenant), customer=customer),
        CustomerStore.objects.create(customer=customer, store=StoreFactory(tenant=store.tenant)),
        store_customer_create(store=store, local_name="Ali's Boutique"),  # the dialect's create
    ]
    for link in links:
        link.refresh_from_db()
        assert link.customer_created_at == link.customer.created_at
    assert links[0].customer_created_at == BASE


def test_deep_pages_of_a_store_are_slices_of_the_whole_list(db):
    store = StoreFactory()
    for customer in customers(store.tenant, NAMES):
        customer_store_link(customer=customer, store=store)
    for sort in sorted(store_selectors.STORE_CUSTOMER_SORTS):
        for descending in (True, False):
            links = store_selectors.store_customers(store=store, sort=sort, descending=descending)
            everything = [link.customer_id for link in links]
            for offset in (0, 5, 20):
                rows, total = paging.page(
                    links, key="customer_id", offset=offset, limit=5, selective=False
                )
                assert [r.customer_id for r in rows] == everything[offset : offset + 5]
                assert total == len(NAMES)
            searched = store_selectors.store_customers(
                store=store, search="mensah", sort=sort, descending=descending
            )
            matches = [link.customer_id for link in searched]
            rows, total = paging.page(
                searched, key="customer_id", offset=2, limit=3, selective=True
            )
            assert [r.customer_id for r in rows] == matches[2:5]
            assert total == len(matches) == 8


@pytest.mark.parametrize("sort", sorted(store_selectors.STORE_CUSTOMER_SORTS))
def test_store_page_rows_are_the_rows_of_this_store(db, sort):
    store = linked_store()
    # the same customers in another store of the tenant, with another price list: a customer
    # is a link's key only within its store
    other = StoreFactory(tenant=store.tenant)
    for customer in Customer.objects.filter(tenant=store.tenant).order_by("id")[::2]:
        customer_store_link(customer=customer, store=other)
    CustomerStore.objects.filter(store=other).update(
        price_list=PriceListFactory(tenant=store.tenant)
    )
    for descending in (True, False):
        for search in (None, "mensah"):
            links = store_selectors.store_customers(
                store=store, sort=sort, descending=descending, search=search
            )
            everything = [link.customer_id for link in links]
            for offset in (0, 5, 20):
                rows, _ = paging.page(
                    links, key="customer_id", offset=offset, limit=5,
                    selective=bool(search), rows=STORE_ROWS,
                )  # fmt: skip
                assert [row["customer_id"] for row in rows] == everything[offset:][:5]
                assert {row["price_list_id"] for row in rows} <= {None}


# --- landmarks: deep pages of lists whose count is kept --------------------------------------------


@pytest.fixture
def landmark_every(monkeypatch):
    """Landmarks every 4 rows (and none remembered from another test)."""
    monkeypatch.setattr(paging, "LANDMARK_EVERY", 4)
    monkeypatch.setattr(paging, "_landmarks", type(paging._landmarks)())
    return 4


def linked_store(names=NAMES):
    store = StoreFactory()
    for customer in customers(store.tenant, names):
        customer_store_link(customer=customer, store=store)
    return store


def store_page(store, offset, limit=3, descending=True):
    return store_selectors.store_customers_page(
        store=store, offset=offset, limit=limit, descending=descending, columns=COLUMNS
    )


def whole_store_list(store, descending=True):
    links = store_selectors.store_customers(store=store, descending=descending)
    return [link.customer_id for link in links]


@pytest.mark.parametrize("order", [("-created_at", "-id"), ("created_at", "id"), ("name", "-id")])
def test_every_page_from_a_landmark_is_the_offset_slice(
    postgres_only, landmark_every, tenant, order
):
    qs = ordered(tenant, *order)
    everything = [c.pk for c in qs]
    counted = counts.counted(CUSTOMERS, tenant.pk, qs)
    assert counted.total == len(everything) and counted.version
    for offset in range(len(everything) + 2):
        for limit in (1, 3, 5):
            rows = paging.window(qs, key="pk", offset=offset, limit=limit, counted=counted)
            assert [r.pk for r in rows] == everything[offset : offset + limit], (offset, limit)
    marks = paging.landmarks(qs, counted)
    assert len(marks) == len(everything) // 4  # rows 3, 7, 11, ...


@pytest.mark.parametrize("descending", [True, False])
def test_store_pages_stay_exact_while_links_come_and_go(
    postgres_only, landmark_every, monkeypatch, descending
):
    clock = time.monotonic
    store = linked_store()
    for offset in range(24):
        rows, total = store_page(store, offset, descending=descending)
        assert [r["customer_id"] for r in rows] == whole_store_list(store, descending)[
            offset : offset + 3
        ]
        assert total == len(NAMES)
    # links added (the newest of all, and one at the same instant as others) and one removed:
    # a new version, and every landmark of the old one is at another position now
    newest, twin = customers(store.tenant, ["Newest", "Twin"])
    for customer, hours in ((newest, 100), (twin, 3)):
        Customer.objects.filter(pk=customer.pk).update(created_at=BASE + timedelta(hours=hours))
        customer.refresh_from_db()
        customer_store_link(customer=customer, store=store)
    CustomerStore.objects.filter(store=store, customer__name=NAMES[1]).delete()
    everything = whole_store_list(store, descending)
    # first the old version's landmarks are left unused (measured too recently), then, later,
    # measured again for the new version
    for later, measured in ((0, False), (paging.LANDMARK_REFRESH_S + 1, True)):
        monkeypatch.setattr(paging.time, "monotonic", lambda later=later: clock() + later)
        with CaptureQueriesContext(connection) as ctx:
            for offset in range(26):
                rows, total = store_page(store, offset, descending=descending)
                assert [r["customer_id"] for r in rows] == everything[offset : offset + 3]
                assert total == len(everything) == len(NAMES) + 1
        assert any("row_number()" in q["sql"] for q in ctx.captured_queries) == measured


def test_b2b_pages_from_landmarks_are_the_offset_slices(postgres_only, landmark_every, tenant):
    everything = [c.pk for c in ordered(tenant, "-created_at", "-id")]
    measured = 0
    for offset in range(len(everything) + 1):
        with CaptureQueriesContext(connection) as ctx:
            rows, total = b2b_selectors.b2b_customers_page(
                tenant=tenant, offset=offset, limit=3, columns=B2B_COLUMNS
            )
        assert [r["id"] for r in rows] == everything[offset : offset + 3]
        assert total == len(everything)
        measured += sum("row_number()" in q["sql"] for q in ctx.captured_queries)
    assert measured == 1
    # filtered lists are paged as before
    Customer.objects.filter(pk__in=everything[::2]).update(is_active=False)
    inactive = [c.pk for c in ordered(tenant, "-created_at", "-id", is_active=False)]
    rows, total = b2b_selectors.b2b_customers_page(
        tenant=tenant, offset=4, limit=3, is_active=False, columns=B2B_COLUMNS
    )
    assert [r["id"] for r in rows] == inactive[4:7] and total == len(inactive)


def test_landmarks_are_measured_once_per_version(postgres_only, landmark_every):
    store = linked_store()
    with CaptureQueriesContext(connection) as first:
        store_page(store, 9)
    with CaptureQueriesContext(connection) as again:
        store_page(store, 13)
    assert len(first) == 3  # the total and version, the landmarks, the page
    assert len(again) == 2
    assert "row_number()" in first.captured_queries[1]["sql"]
    version = store_selectors.store_links_counted(store=store).version
    customer_store_link(customer=CustomerFactory(tenant=store.tenant), store=store)
    assert store_selectors.store_links_counted(store=store).version != version
    with CaptureQueriesContext(connection) as changed:
        store_page(store, 9)
    assert len(changed) == 2  # measured less than LANDMARK_REFRESH_S ago: skips as before


def test_other_sorts_and_filters_use_no_landmarks(postgres_only, landmark_every):
    store = linked_store()
    for kwargs in ({"sort": "name"}, {"is_active": True}):
        links = store_selectors.store_customers(store=store, **kwargs)
        everything = [link.customer_id for link in links]
        with CaptureQueriesContext(connection) as ctx:
            rows, _ = store_selectors.store_customers_page(
                store=store, offset=9, limit=3, columns=COLUMNS, **kwargs
            )
        assert [r["customer_id"] for r in rows] == everything[9:12]
        assert not any("row_number()" in q["sql"] for q in ctx.captured_queries)


def test_without_kept_counts_pages_skip_as_before(db, landmark_every):
    store = linked_store()
    counted = store_selectors.store_links_counted(store=store)
    if connection.vendor == "postgresql":
        assert counted.version is not None
    else:
        assert counted.version is None  # SQLite: COUNT(*) and plain skips
        with CaptureQueriesContext(connection) as ctx:
            rows, total = store_page(store, 13)
        assert len(ctx) == 2 and total == len(NAMES)
        assert [r["customer_id"] for r in rows] == whole_store_list(store)[13:16]


# --- timestamps -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 11, 3, 10, 0, tzinfo=UTC),
        datetime(2025, 11, 3, 10, 0, 0, 123456, tzinfo=UTC),
        datetime(2025, 11, 3, 12, 0, 0, 5, tzinfo=UTC) + timedelta(hours=-2),
    ],
)
def test_the_data_dialects_timestamps_are_drfs(value):
    assert timestamp(value) == serializers.DateTimeField().to_representation(value)
