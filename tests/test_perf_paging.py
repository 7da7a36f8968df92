"""Pages with exact totals at scale (tenants/paging.py), the store list's sort key copy
(CustomerStore.customer_created_at) and the faster timestamp loading (config/db_adapters.py).

Every page of every strategy must be exactly the slice of the whole ordered list that a
plain ``OFFSET`` would give, with the same total: these tests compare them directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from config import db_adapters
from customers.models import Customer
from stores import selectors as store_selectors
from stores.models import CustomerStore
from stores.services import customer_store_link, store_customer_create
from tenants import paging
from tenants.api.dialect import iso_timestamp as timestamp
from tests.factories import CustomerFactory, CustomerStoreFactory, StoreFactory, TenantFactory

pytestmark = pytest.mark.django_db

BASE = datetime(2025, 1, 1, tzinfo=UTC)


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


def test_timestamps_load_with_the_c_loader_and_the_same_values(postgres_only):
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(db_adapters.OID, 0)
    if db_adapters.LOADER is None:
        pytest.skip("psycopg without its C extension")
    assert loader is db_adapters.LOADER
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::timestamptz, '2024-02-29 23:59:59.999999-05'::timestamptz,"
            " 'infinity'::timestamptz IS NOT NULL",
            [datetime(2025, 11, 3, 10, 0, 0, 1, tzinfo=UTC)],
        )
        first, second, _ = cursor.fetchone()
    assert first == datetime(2025, 11, 3, 10, 0, 0, 1, tzinfo=UTC)
    assert first.tzinfo is UTC and second.tzinfo is UTC
    assert second == datetime(2024, 3, 1, 4, 59, 59, 999999, tzinfo=UTC)
