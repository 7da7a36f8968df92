"""Peppered dialect: a customer's client types (tags) and the client-type export."""

import pytest

from customers.models import Customer
from tests.conftest import api_key_client, bearer_client
from tests.factories import ClientTypeFactory, CustomerFactory

pytestmark = pytest.mark.django_db

BASE = "/v1/acme/peppered"


@pytest.fixture
def client(world):
    client = api_key_client(world.api_key, "basic")
    client.get(f"{BASE}/export/clienttypes")  # the key's last_used_at is now fresh
    return client


@pytest.fixture
def types(world):
    return {
        name: ClientTypeFactory(tenant=world.tenant, name=name)
        for name in ("friend", "donor", "vip")
    }


def tags_of(customer):
    return sorted(customer.tags.values_list("name", flat=True))


def test_get_tags_is_a_sorted_bare_array(client, world, types, django_assert_max_num_queries):
    customer = CustomerFactory(tenant=world.tenant, tags=[types["vip"], types["friend"]])
    with django_assert_max_num_queries(4):  # key, tenant, customer, tags
        response = client.get(f"{BASE}/customer/{customer.pk}/clienttypes")
    assert response.status_code == 200
    assert response.json() == ["friend", "vip"]


def test_get_tags_of_untagged_customer(client, world):
    customer = CustomerFactory(tenant=world.tenant)
    assert client.get(f"{BASE}/customer/{customer.pk}/clienttypes").json() == []


def test_set_tags_overwrites(client, world, types, django_assert_max_num_queries):
    customer = CustomerFactory(tenant=world.tenant, tags=[types["vip"]])
    before = Customer.objects.get(pk=customer.pk).updated_at
    url = f"{BASE}/customer/{customer.pk}/clienttypes"
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(12):
        response = client.post(url, {"clienttypes": ["friend", "donor"]}, format="json")
    assert response.status_code == 200
    assert response.json() == ["donor", "friend"]
    assert tags_of(customer) == ["donor", "friend"]
    assert Customer.objects.get(pk=customer.pk).updated_at > before
    # ... and the UserResource shows them.
    assert client.get(f"{BASE}/customer/{customer.pk}").json()["customerTags"] == [
        "donor",
        "friend",
    ]


def test_set_tags_with_duplicates(client, world, types):
    customer = CustomerFactory(tenant=world.tenant)
    response = client.post(
        f"{BASE}/customer/{customer.pk}/clienttypes",
        {"clienttypes": ["vip", "vip", "donor"]},
        format="json",
    )
    assert response.json() == ["donor", "vip"]


def test_empty_array_removes_every_tag(client, world, types):
    customer = CustomerFactory(tenant=world.tenant, tags=list(types.values()))
    response = client.post(
        f"{BASE}/customer/{customer.pk}/clienttypes", {"clienttypes": []}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == []
    assert tags_of(customer) == []


def test_unknown_name_is_422_and_changes_nothing(client, world, types):
    customer = CustomerFactory(tenant=world.tenant, tags=[types["vip"]])
    response = client.post(
        f"{BASE}/customer/{customer.pk}/clienttypes",
        {"clienttypes": ["friend", "enemy"]},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == {
        "message": "Unknown client type: enemy.",
        "errors": {"clienttypes": ["Unknown client type: enemy."]},
        "requestId": response["X-Request-ID"],
    }
    assert tags_of(customer) == ["vip"]


def test_another_tenants_client_type_is_unknown(client, world, other, types):
    ClientTypeFactory(tenant=other.tenant, name="partner")
    customer = CustomerFactory(tenant=world.tenant)
    response = client.post(
        f"{BASE}/customer/{customer.pk}/clienttypes", {"clienttypes": ["partner"]}, format="json"
    )
    assert response.status_code == 422
    assert tags_of(customer) == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "clienttypes", "The clienttypes field is required."),
        ({"clienttypes": None}, "clienttypes", "The clienttypes field is required."),
        ({"clienttypes": "vip"}, "clienttypes", "The clienttypes field must be an array."),
        ({"clienttypes": {"a": "vip"}}, "clienttypes", "The clienttypes field must be an array."),
        ({"clienttypes": [["vip"]]}, "clienttypes.0", "The clienttypes.0 field must be a string."),
        ({"clienttypes": ["vip", None]}, "clienttypes.1", "The clienttypes.1 field is required."),
        (
            {"clienttypes": ["x" * 101]},
            "clienttypes.0",
            "The clienttypes.0 field must not be greater than 100 characters.",
        ),
        (
            {"clienttypes": ["a"] * 1001},
            "clienttypes",
            "The clienttypes field must not have more than 1000 items.",
        ),
    ],
)
def test_set_tags_validation(client, world, types, body, field, message):
    customer = CustomerFactory(tenant=world.tenant, tags=[types["vip"]])
    response = client.post(f"{BASE}/customer/{customer.pk}/clienttypes", body, format="json")
    assert response.status_code == 422
    assert response.json()["errors"] == {field: [message]}
    assert tags_of(customer) == ["vip"]


def test_another_tenants_customer_is_404(client, other):
    ClientTypeFactory(tenant=other.tenant, name="vip")
    foreign = CustomerFactory(tenant=other.tenant)
    url = f"{BASE}/customer/{foreign.pk}/clienttypes"
    assert client.get(url).status_code == 404
    response = client.post(url, {"clienttypes": []}, format="json")
    assert response.status_code == 404
    assert response.json()["message"] == "Customer not found."


@pytest.mark.parametrize("ref", ["0", "abc", "99999999"])
def test_unknown_customer_is_404(client, ref):
    assert client.get(f"{BASE}/customer/{ref}/clienttypes").status_code == 404


def test_export_client_types(client, world, other, types, django_assert_max_num_queries):
    ClientTypeFactory(tenant=other.tenant, name="partner")
    with django_assert_max_num_queries(3):  # key, tenant, names
        response = client.get(f"{BASE}/export/clienttypes")
    assert response.status_code == 200
    assert response.json() == ["donor", "friend", "vip"]


def test_export_client_types_with_user_token(world, types):
    response = bearer_client(world.viewer).get(f"{BASE}/export/clienttypes")
    assert response.json() == ["donor", "friend", "vip"]


def test_export_client_types_empty(client):
    assert client.get(f"{BASE}/export/clienttypes").json() == []
