"""Peppered dialect: ``POST export/customers`` (incremental sync by ``changedSince``)."""

from datetime import UTC, datetime, timedelta

import pytest

from customers.models import Customer
from tests.conftest import api_key_client, json_of
from tests.factories import AddressFactory, ClientTypeFactory, CustomerFactory

pytestmark = pytest.mark.django_db

BASE = "/v1/acme/peppered"
URL = f"{BASE}/export/customers"
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def client(world):
    client = api_key_client(world.api_key, "bare")
    client.get(f"{BASE}/export/clienttypes")  # the key's last_used_at is now fresh
    return client


def changed_at(customer, when):
    Customer.objects.filter(pk=customer.pk).update(updated_at=when)


def make_customers(tenant, count, *, start=T0):
    vip = ClientTypeFactory(tenant=tenant, name="vip")
    donor = ClientTypeFactory(tenant=tenant, name="donor")
    customers = []
    for i in range(count):
        customer = CustomerFactory(tenant=tenant, tags=[vip, donor] if i % 2 else [vip])
        address = AddressFactory(customer=customer, key="default")
        Customer.objects.filter(pk=customer.pk).update(
            default_address=address, updated_at=start + timedelta(minutes=i)
        )
        customers.append(customer)
    return customers


def export(client, body=None, **kwargs):
    response = client.post(URL, body if body is not None else {}, format="json", **kwargs)
    return response, (json_of(response) if response.status_code == 200 else response.json())


def test_export_everything_ordered_by_last_changed_then_id(client, world, other):
    Customer.objects.filter(tenant=world.tenant).update(updated_at=T0 - timedelta(days=1))
    a, b, c = (CustomerFactory(tenant=world.tenant) for _ in range(3))
    CustomerFactory(tenant=other.tenant)
    changed_at(a, T0 + timedelta(hours=1))
    changed_at(b, T0)
    changed_at(c, T0)
    response, body = export(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    ids = [item["customerId"] for item in body]
    assert ids[-3:] == [b.pk, c.pk, a.pk]
    assert set(ids) == set(
        Customer.objects.filter(tenant=world.tenant).values_list("pk", flat=True)
    )
    assert len(body[0]) == 16


def test_changed_since_is_inclusive(client, world):
    Customer.objects.filter(tenant=world.tenant).update(updated_at=T0 - timedelta(days=1))
    old, edge, new = (CustomerFactory(tenant=world.tenant) for _ in range(3))
    changed_at(old, T0 - timedelta(seconds=1))
    changed_at(edge, T0)
    changed_at(new, T0 + timedelta(days=2))
    _, body = export(client, {"changedSince": "2024-03-01T12:00:00Z"})
    assert [item["customerId"] for item in body] == [edge.pk, new.pk]
    assert body[0]["lastChanged"] == "2024-03-01T12:00:00Z"
    # Feeding the largest lastChanged back in returns (at least) that customer again.
    _, again = export(client, {"changedSince": body[-1]["lastChanged"]})
    assert [item["customerId"] for item in again] == [new.pk]


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("2024-03-01T13:00:00+01:00", ["edge", "new"]),  # the same moment, another offset
        ("2024-03-01T12:00:00", ["edge", "new"]),  # naive is UTC
        ("2024-03-01 12:00:00.000001", ["new"]),
        ("2024-03-01", ["old", "edge", "new"]),  # a date is midnight UTC
        ("2024-03-04", []),
        (None, ["old", "edge", "new"]),
    ],
)
def test_changed_since_formats(client, world, since, expected):
    Customer.objects.filter(tenant=world.tenant).update(updated_at=T0 - timedelta(days=100))
    named = {name: CustomerFactory(tenant=world.tenant) for name in ("old", "edge", "new")}
    changed_at(named["old"], T0 - timedelta(hours=1))
    changed_at(named["edge"], T0)
    changed_at(named["new"], T0 + timedelta(days=2))
    ours = {customer.pk for customer in named.values()}
    _, body = export(client, {"changedSince": since})
    ids = [item["customerId"] for item in body]
    assert [pk for pk in ids if pk in ours] == [named[n].pk for n in expected]
    assert len(ids) - len(expected) == (0 if since else 5)  # the world's own customers


def test_changed_since_as_query_parameter(client, world):
    Customer.objects.filter(tenant=world.tenant).update(updated_at=T0 - timedelta(days=1))
    new = CustomerFactory(tenant=world.tenant)
    changed_at(new, T0)
    response = client.post(f"{URL}?changedSince=2024-03-01T00:00:00Z", {}, format="json")
    assert [item["customerId"] for item in json_of(response)] == [new.pk]


def test_empty_body_exports_everything(client, world):
    response = client.post(URL)
    assert response.status_code == 200
    assert len(json_of(response)) == Customer.objects.filter(tenant=world.tenant).count()


@pytest.mark.parametrize(
    "since", ["yesterday", "2024-13-01", "2024-02-30", "2024-03-01T25:00:00Z", "", 12345, ["2024"]]
)
def test_invalid_changed_since_is_422(client, since):
    response, body = export(client, {"changedSince": since})
    assert response.status_code == 422
    assert body["errors"] == {"changedSince": ["The changed since field must be a valid date."]}
    assert body["message"] == "The changed since field must be a valid date."


def test_invalid_changed_since_in_query_is_422(client):
    response = client.post(f"{URL}?changedSince=nope", {}, format="json")
    assert response.status_code == 422


def test_export_shows_addresses_and_tags(client, world):
    customers = make_customers(world.tenant, 2)
    _, body = export(client)
    body = [item for item in body if item["customerId"] in {c.pk for c in customers}]
    assert [item["customerTags"] for item in body] == [["vip"], ["donor", "vip"]]
    address = customers[0].addresses.get()
    assert body[0]["customerAddress"] == address.line1
    assert body[0]["customerZip"] == address.postal_code


def test_export_changes_after_tagging(client, world):
    customer = CustomerFactory(tenant=world.tenant)
    ClientTypeFactory(tenant=world.tenant, name="vip")
    Customer.objects.filter(tenant=world.tenant).update(updated_at=T0)
    client.post(
        f"{BASE}/customer/{customer.pk}/clienttypes", {"clienttypes": ["vip"]}, format="json"
    )
    _, body = export(client, {"changedSince": "2024-03-02T00:00:00Z"})
    assert [(item["customerId"], item["customerTags"]) for item in body] == [(customer.pk, ["vip"])]


@pytest.mark.parametrize("count", [10, 100])
def test_export_query_count_does_not_grow(client, world, count, django_assert_max_num_queries):
    make_customers(world.tenant, count)
    # key, tenant, customers (with their default address), tags
    with django_assert_max_num_queries(4):
        _, body = export(client)
    assert len(body) == Customer.objects.filter(tenant=world.tenant).count() == count + 5


def test_export_is_streamed(client, world):
    response = client.post(URL, {}, format="json")
    assert response.streaming
    json_of(response)
