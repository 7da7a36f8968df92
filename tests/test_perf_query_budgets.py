"""Cross-cutting query budget: every list endpoint runs the same number of SQL queries for a
page of 10 and a page of 100 (no query per row, whatever the row carries: addresses, tags,
store links, accounts, contacts, orders). The data is made by the generator, so every
relation an endpoint might touch is populated.

Endpoints returning a bare array of everything (the data dialect's streamed list, peppered's
export) have no page size: for those, 10 and 100 are the number of customers in the tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from customers.models import Customer
from tests.bench.generate import GenerationRun
from tests.conftest import api_key_client, bearer_client, json_of

pytestmark = pytest.mark.django_db


@dataclass
class ListEndpoint:
    name: str
    method: str
    path: str  # may contain {slug} and {heavy}
    params: Callable[[int], dict]
    client: Callable  # (world) -> client
    items: Callable[[object], list] = lambda body: body
    page_sized: bool = True  # False: "n" is the number of customers, not a page size
    extra: dict = field(default_factory=dict)


def _store(world):
    return bearer_client(world.agent, **{"x-store-id": str(world.store.id)})


def _data(world):
    return bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})


def _b2b(world):
    return bearer_client(world.agent)


def _peppered(world):
    return api_key_client(world.api_key, form="bare")


LIST_ENDPOINTS = [
    ListEndpoint(
        "store list",
        "get",
        "/customers",
        lambda n: {"limit": n},
        _store,
        lambda b: b["data"],
    ),
    ListEndpoint(
        "store list sorted by name",
        "get",
        "/customers",
        lambda n: {"limit": n, "sortBy": "name", "sortOrder": "asc"},
        _store,
        lambda b: b["data"],
    ),
    ListEndpoint(
        "store search",
        "get",
        "/customers",
        lambda n: {"limit": n, "search": "budget"},
        _store,
        lambda b: b["data"],
    ),
    ListEndpoint("data keyset page", "get", "/api/data/customer", lambda n: {"limit": n}, _data),
    ListEndpoint(
        "data full array (streamed)",
        "get",
        "/api/data/customer",
        lambda n: {},
        _data,
        page_sized=False,
    ),
    ListEndpoint(
        "peppered export customers",
        "post",
        "/v1/{slug}/peppered/export/customers",
        lambda n: {},
        _peppered,
        page_sized=False,
    ),
    ListEndpoint(
        "b2b list", "get", "/api/customers", lambda n: {"limit": n}, _b2b, lambda b: b["data"]
    ),
    ListEndpoint(
        "b2b search",
        "get",
        "/api/customers",
        lambda n: {"limit": n, "search": "budget"},
        _b2b,
        lambda b: b["data"],
    ),
    ListEndpoint(
        "b2b customer orders",
        "get",
        "/api/customers/{heavy}/orders",
        lambda n: {"limit": n},
        _b2b,
        lambda b: b["data"],
    ),
]


def _generate(world, count: int, *, heavy_orders: int = 0) -> None:
    GenerationRun(
        tenant=world.tenant,
        count=count,
        seed=11,
        chunk_size=1_000,
        options={
            "store": world.store.name,
            "store_links": count,
            "b2b": count,
            "orders": 1,
            "heavy_orders": heavy_orders,
        },
    ).run()
    # every generated name contains the search term
    Customer.objects.filter(tenant=world.tenant, external_id__startswith="gen-").update(
        name=Concat(Value("Budget "), "name")
    )


def _heavy(world) -> str:
    from b2b.models import SalesOrder

    order = SalesOrder.objects.filter(tenant=world.tenant, order_number__endswith="-0100").first()
    return str(order.customer.uuid) if order else "none"


def _call(endpoint: ListEndpoint, world, n: int) -> tuple[int, int]:
    path = endpoint.path.format(slug=world.tenant.slug, heavy=_heavy(world))
    client = endpoint.client(world)
    with CaptureQueriesContext(connection) as ctx:
        if endpoint.method == "get":
            response = client.get(path, endpoint.params(n))
        else:
            response = client.post(path, endpoint.params(n), format="json")
        body = json_of(response)  # a streamed body is read inside the capture
    assert response.status_code == 200, (endpoint.name, response.status_code, body)
    return len(ctx.captured_queries), len(endpoint.items(body))


def _exists(endpoint: ListEndpoint) -> bool:
    try:
        resolve(endpoint.path.format(slug="acme", heavy="x"))
    except Resolver404:
        return False
    return True


@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS, ids=lambda e: e.name)
def test_list_query_count_is_the_same_for_10_and_100(world, endpoint):
    if not _exists(endpoint):
        pytest.skip(f"{endpoint.method.upper()} {endpoint.path} does not exist yet")
    if endpoint.page_sized:
        _generate(world, 110, heavy_orders=110)
        _call(endpoint, world, 10)  # warm-up: once-a-minute bookkeeping (API key last use)
        small, small_items = _call(endpoint, world, 10)
        large, large_items = _call(endpoint, world, 100)
        assert (small_items, large_items) == (10, 100)
    else:
        _generate(world, 10)
        _call(endpoint, world, 10)  # warm-up: once-a-minute bookkeeping (API key last use)
        small, small_items = _call(endpoint, world, 10)
        _generate(world, 90)
        large, large_items = _call(endpoint, world, 100)
        assert large_items - small_items == 90
    assert small == large, f"{endpoint.name}: {small} queries for 10, {large} for 100"
