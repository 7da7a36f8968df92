"""Data dialect (seed 000): GET /api/data/customer, streamed in full or in keyset pages."""

import math
from urllib.parse import parse_qs, urlparse

import pytest

from customers import selectors
from customers.api.data import base
from customers.models import Customer
from tenants.models import Membership
from tests.conftest import api_key_client, bearer_client, json_of, session_client
from tests.factories import AddressFactory, CustomerFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/data/customer"
ACME = {"x-tenant-id": "acme"}
# knox token (+ user), tenant, membership
ACCESS_QUERIES = 3


def tenant_ids(world):
    return [
        str(u)
        for u in Customer.objects.filter(tenant=world.tenant)
        .order_by("pk")
        .values_list("uuid", flat=True)
    ]


@pytest.mark.parametrize("kind", ["session", "bearer", "api_key"])
def test_list_is_a_bare_streamed_array_of_every_customer(world, other, kind):
    CustomerFactory.create_batch(3, tenant=world.tenant)
    CustomerFactory(tenant=world.tenant, is_active=False)
    CustomerFactory.create_batch(2, tenant=other.tenant)
    client = {
        "session": lambda: session_client(world.agent, **ACME),
        "bearer": lambda: bearer_client(world.agent, **ACME),
        "api_key": lambda: api_key_client(world.api_key, **ACME),
    }[kind]()
    response = client.get(URL)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    assert "X-Next-Cursor" not in response and "Link" not in response
    body = json_of(response)
    assert isinstance(body, list)
    assert [c["id"] for c in body] == tenant_ids(world)  # creation order, inactive included
    assert any(c["isActive"] is False for c in body)
    other_ids = {
        str(u) for u in Customer.objects.filter(tenant=other.tenant).values_list("uuid", flat=True)
    }
    assert not other_ids & {c["id"] for c in body}


def test_list_records_are_full_with_addresses(world):
    customer = CustomerFactory(tenant=world.tenant)
    home = AddressFactory(customer=customer, key="home")
    AddressFactory(customer=customer, key="work")
    customer.default_address = home
    customer.save()
    body = json_of(bearer_client(world.agent, **ACME).get(URL))
    record = next(c for c in body if c["id"] == str(customer.uuid))
    assert [a["addressId"] for a in record["addresses"]] == ["home", "work"]
    assert record["defaultAddressId"] == "home"
    single = bearer_client(world.agent, **ACME).get(f"{URL}/{customer.uuid}").json()
    assert record == single


def test_empty_tenant_streams_an_empty_array(db):
    tenant = TenantFactory(slug="empty")
    user = UserFactory()
    Membership.objects.create(user=user, tenant=tenant, role="agent")
    response = bearer_client(user, **{"x-tenant-id": "empty"}).get(URL)
    assert response.status_code == 200
    assert json_of(response) == []


def test_stream_joins_batches_into_one_valid_array(world, monkeypatch):
    monkeypatch.setattr(base, "BATCH_SIZE", 2)
    CustomerFactory.create_batch(5, tenant=world.tenant)
    body = json_of(bearer_client(world.agent, **ACME).get(URL))
    assert [c["id"] for c in body] == tenant_ids(world)


def test_stream_fetches_batches_of_bounded_size(world, monkeypatch):
    """Memory stays flat: at most one batch of BATCH_SIZE rows is fetched at a time."""
    monkeypatch.setattr(base, "BATCH_SIZE", 4)
    CustomerFactory.create_batch(10, tenant=world.tenant)
    calls = []
    real = selectors.customers_keyset_page

    def spy(**kwargs):
        rows = real(**kwargs)
        calls.append((kwargs["limit"], len(rows)))
        return rows

    monkeypatch.setattr(selectors, "customers_keyset_page", spy)
    body = json_of(bearer_client(world.agent, **ACME).get(URL))
    total = len(tenant_ids(world))
    assert len(body) == total
    assert all(limit == 4 and size <= 4 for limit, size in calls)
    assert len(calls) == total // 4 + 1


@pytest.mark.parametrize("extra", [10, 100])
def test_full_stream_query_count_does_not_grow_with_rows(world, extra, django_assert_num_queries):
    for customer in CustomerFactory.create_batch(extra, tenant=world.tenant):
        AddressFactory(customer=customer)
    client = bearer_client(world.agent, **ACME)
    # one batch (< 1000 rows): customers + their addresses
    with django_assert_num_queries(ACCESS_QUERIES + 2):
        response = client.get(URL)
    assert len(json_of(response)) == len(tenant_ids(world))


def test_full_stream_query_count_is_per_batch(world, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(base, "BATCH_SIZE", 10)
    for customer in CustomerFactory.create_batch(35, tenant=world.tenant):
        AddressFactory(customer=customer)
    total = len(tenant_ids(world))
    full, rest = divmod(total, 10)
    # every non-empty batch: customers + addresses; a trailing empty batch: one query
    expected = ACCESS_QUERIES + 2 * full + (2 if rest else 1)
    client = bearer_client(world.agent, **ACME)
    with django_assert_num_queries(expected):
        response = client.get(URL)
    assert len(json_of(response)) == total


# --- keyset pages -----------------------------------------------------------------------------


def test_pages_walk_every_customer_once(world):
    CustomerFactory.create_batch(22, tenant=world.tenant)
    client = bearer_client(world.agent, **ACME)
    seen, url, pages = [], f"{URL}?limit=10", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        page = json_of(response)
        assert len(page) <= 10
        seen += [c["id"] for c in page]
        pages += 1
        cursor = response.get("X-Next-Cursor")
        if cursor:
            link = response["Link"]
            assert link.startswith("<http://testserver/api/data/customer?") and link.endswith(
                '>; rel="next"'
            )
            query = parse_qs(urlparse(link[1 : link.index(">")]).query)
            assert query == {"limit": ["10"], "cursor": [cursor]}
            url = f"{URL}?limit=10&cursor={cursor}"
        else:
            assert "Link" not in response
            url = None
    assert seen == tenant_ids(world)
    assert pages == math.ceil(len(seen) / 10)


def test_exact_last_page_has_no_next_cursor(world):
    total = len(tenant_ids(world))
    response = bearer_client(world.agent, **ACME).get(f"{URL}?limit={total}")
    assert len(json_of(response)) == total
    assert "X-Next-Cursor" not in response


def test_following_the_link_header(world):
    CustomerFactory.create_batch(4, tenant=world.tenant)
    client = bearer_client(world.agent, **ACME)
    first = client.get(f"{URL}?limit=3")
    link = first["Link"]
    second = client.get(link[1 : link.index(">")])
    assert second.status_code == 200
    ids = [c["id"] for c in json_of(first)] + [c["id"] for c in json_of(second)]
    assert ids == tenant_ids(world)[:6]


def test_cursor_alone_uses_default_page_size(world):
    CustomerFactory.create_batch(3, tenant=world.tenant)
    client = bearer_client(world.agent, **ACME)
    cursor = client.get(f"{URL}?limit=1")["X-Next-Cursor"]
    body = json_of(client.get(f"{URL}?cursor={cursor}"))
    assert [c["id"] for c in body] == tenant_ids(world)[1:]


def test_cursor_does_not_leak_across_tenants(world, other):
    CustomerFactory.create_batch(3, tenant=other.tenant)
    cursor = bearer_client(other.agent, **{"x-tenant-id": "globex"}).get(f"{URL}?limit=1")[
        "X-Next-Cursor"
    ]
    body = json_of(bearer_client(world.agent, **ACME).get(f"{URL}?limit=100&cursor={cursor}"))
    assert {c["id"] for c in body} <= set(tenant_ids(world))


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=-5", "limit"),
        ("limit=abc", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=%00", "cursor"),
        ("limit=10&cursor=bm9wZTox", "cursor"),  # "nope:1"
        ("limit=10&cursor=YWZ0ZXI6LTE", "cursor"),  # "after:-1"
        ("limit=10&cursor=YWZ0ZXI6OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "cursor"),  # huge
        ("cursor=" + "A" * 201, "cursor"),
    ],
)
def test_bad_paging_parameters_are_400(world, query, field):
    response = bearer_client(world.agent, **ACME).get(f"{URL}?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize("page_size", [10, 100])
def test_page_query_count_is_constant(world, page_size, django_assert_num_queries):
    for customer in CustomerFactory.create_batch(page_size + 1, tenant=world.tenant):
        AddressFactory.create_batch(2, customer=customer)
    client = bearer_client(world.agent, **ACME)
    with django_assert_num_queries(ACCESS_QUERIES + 2):
        response = client.get(f"{URL}?limit={page_size}")
    assert len(json_of(response)) == page_size
    assert response["X-Next-Cursor"]


def test_list_needs_tenant_header(world):
    assert bearer_client(world.agent).get(URL).status_code == 400


def test_list_of_foreign_tenant_is_403(world, other):
    assert bearer_client(world.agent, **{"x-tenant-id": "globex"}).get(URL).status_code == 403


def test_viewer_can_list(world):
    assert bearer_client(world.viewer, **ACME).get(URL).status_code == 200
