"""Data dialect (seed 000): addresses, the default address, and linking a platform user."""

import pytest

from customers.models import Address, Customer
from tenants.models import Membership
from tests.conftest import api_key_client, bearer_client, csrf_headers, session_client
from tests.factories import AddressFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/data/customer"
ACME = {"x-tenant-id": "acme"}
AUTH_KINDS = ["session", "bearer"]


def address(**overrides):
    body = {
        "addressId": "home",
        "name": "Ada Lovelace",
        "line1": "12 St James's Square",
        "line2": "Flat 3",
        "city": "London",
        "state": "Greater London",
        "postalCode": "SW1Y 4JH",
        "country": "GB",
        "phone": "+442079460000",
    }
    body.update(overrides)
    return body


def client_for(kind, world, user=None):
    user = user or world.agent
    if kind == "bearer":
        return bearer_client(user, **ACME)
    return session_client(user, **ACME)


def kw(kind, client):
    return {"format": "json", **(csrf_headers(client) if kind == "session" else {})}


@pytest.fixture
def customer(world):
    return CustomerFactory(tenant=world.tenant)


def member(world, role="viewer"):
    user = UserFactory()
    Membership.objects.create(user=user, tenant=world.tenant, role=role)
    return user


# --- POST address -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_add_address_returns_record_with_it(world, customer, kind):
    client = client_for(kind, world)
    response = client.post(f"{URL}/{customer.uuid}/address", address(), **kw(kind, client))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(customer.uuid)
    assert body["addresses"] == [address()]
    assert body["defaultAddressId"] is None
    stored = Address.objects.get(customer=customer, key="home")
    assert (stored.postal_code, stored.country) == ("SW1Y 4JH", "GB")


def test_add_address_optional_fields_default_to_empty(world, customer):
    body = address()
    del body["line2"], body["phone"]
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{customer.uuid}/address", body, format="json"
    )
    assert response.status_code == 200
    added = response.json()["addresses"][0]
    assert (added["line2"], added["phone"]) == ("", "")


def test_add_second_address_keeps_order(world, customer):
    client = bearer_client(world.agent, **ACME)
    client.post(f"{URL}/{customer.uuid}/address", address(), format="json")
    body = client.post(
        f"{URL}/{customer.uuid}/address", address(addressId="work"), format="json"
    ).json()
    assert [a["addressId"] for a in body["addresses"]] == ["home", "work"]


def test_duplicate_address_id_is_400(world, customer):
    client = bearer_client(world.agent, **ACME)
    assert client.post(f"{URL}/{customer.uuid}/address", address(), format="json").status_code
    response = client.post(f"{URL}/{customer.uuid}/address", address(city="Paris"), format="json")
    assert response.status_code == 400
    assert "addressId" in response.json()["errors"]
    assert Address.objects.get(customer=customer, key="home").city == "London"


def test_same_address_id_on_another_customer_is_fine(world, customer):
    AddressFactory(customer=CustomerFactory(tenant=world.tenant), key="home")
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{customer.uuid}/address", address(), format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "change, field",
    [
        ({"addressId": None}, "addressId"),
        ({"addressId": ""}, "addressId"),
        ({"addressId": "x" * 65}, "addressId"),
        ({"name": ""}, "name"),
        ({"line1": None}, "line1"),
        ({"city": ""}, "city"),
        ({"state": ""}, "state"),
        ({"postalCode": ""}, "postalCode"),
        ({"postalCode": "1" * 21}, "postalCode"),
        ({"country": "G"}, "country"),
        ({"country": ""}, "country"),
        ({"country": "x" * 256}, "country"),
        ({"line1": "x" * 256}, "line1"),
        ({"line2": "x" * 256}, "line2"),
        ({"phone": "1" * 33}, "phone"),
        ({"city": "Lon\x00don"}, "city"),
    ],
)
def test_address_validation_is_400(world, customer, change, field):
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{customer.uuid}/address", address(**change), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Address.objects.filter(customer=customer).exists()


def test_missing_address_fields_are_listed(world, customer):
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{customer.uuid}/address", {}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "addressId",
        "name",
        "line1",
        "city",
        "state",
        "postalCode",
        "country",
    }


def test_add_address_to_another_tenants_customer_is_404(world, other):
    theirs = CustomerFactory(tenant=other.tenant)
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{theirs.uuid}/address", address(), format="json"
    )
    assert response.status_code == 404
    assert not Address.objects.filter(customer=theirs).exists()


def test_add_address_query_count(world, customer, django_assert_max_num_queries):
    AddressFactory.create_batch(5, customer=customer)
    client = bearer_client(world.agent, **ACME)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(16):
        assert (
            client.post(f"{URL}/{customer.uuid}/address", address(), format="json").status_code
            == 200
        )


# --- DELETE address ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_remove_address(world, customer, kind):
    AddressFactory(customer=customer, key="home")
    AddressFactory(customer=customer, key="work")
    client = client_for(kind, world)
    response = client.delete(f"{URL}/{customer.uuid}/address/home", **kw(kind, client))
    assert response.status_code == 200
    assert [a["addressId"] for a in response.json()["addresses"]] == ["work"]


def test_removing_the_default_clears_it(world, customer):
    home = AddressFactory(customer=customer, key="home")
    AddressFactory(customer=customer, key="work")
    customer.default_address = home
    customer.save()
    body = bearer_client(world.agent, **ACME).delete(f"{URL}/{customer.uuid}/address/home").json()
    assert body["defaultAddressId"] is None
    customer.refresh_from_db()
    assert customer.default_address_id is None


def test_removing_another_address_keeps_the_default(world, customer):
    home = AddressFactory(customer=customer, key="home")
    AddressFactory(customer=customer, key="work")
    customer.default_address = home
    customer.save()
    body = bearer_client(world.agent, **ACME).delete(f"{URL}/{customer.uuid}/address/work").json()
    assert body["defaultAddressId"] == "home"


def test_remove_unknown_address_is_400_as_the_seed_says(world, customer):
    # seed 000 lists 400 (operation failure) for this call, never 404
    AddressFactory(customer=customer, key="home")
    response = bearer_client(world.agent, **ACME).delete(f"{URL}/{customer.uuid}/address/nope")
    assert response.status_code == 400
    assert set(response.json()) == {"message", "errors", "requestId"}
    assert list(response.json()["errors"]) == ["addressId"]
    assert Address.objects.filter(customer=customer, key="home").exists()


def test_remove_another_customers_address_is_the_same_400(world, customer):
    AddressFactory(customer=CustomerFactory(tenant=world.tenant), key="theirs")
    response = bearer_client(world.agent, **ACME).delete(f"{URL}/{customer.uuid}/address/theirs")
    assert response.status_code == 400
    assert Address.objects.filter(key="theirs").exists()


def test_remove_address_of_another_tenants_customer_is_404(world, other):
    theirs = CustomerFactory(tenant=other.tenant)
    AddressFactory(customer=theirs, key="home")
    response = bearer_client(world.agent, **ACME).delete(f"{URL}/{theirs.uuid}/address/home")
    assert response.status_code == 404
    assert Address.objects.filter(customer=theirs).exists()


def test_remove_address_query_count(world, customer, django_assert_max_num_queries):
    AddressFactory.create_batch(5, customer=customer)
    AddressFactory(customer=customer, key="home")
    client = bearer_client(world.agent, **ACME)
    with django_assert_max_num_queries(17):
        assert client.delete(f"{URL}/{customer.uuid}/address/home").status_code == 200


# --- PATCH default-address --------------------------------------------------------------------


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_set_default_address(world, customer, kind):
    AddressFactory(customer=customer, key="home")
    AddressFactory(customer=customer, key="work")
    client = client_for(kind, world)
    response = client.patch(
        f"{URL}/{customer.uuid}/default-address", {"addressId": "work"}, **kw(kind, client)
    )
    assert response.status_code == 200
    assert response.json()["defaultAddressId"] == "work"
    customer.refresh_from_db()
    assert customer.default_address.key == "work"


def test_default_address_must_be_the_customers(world, customer):
    AddressFactory(customer=CustomerFactory(tenant=world.tenant), key="theirs")
    response = bearer_client(world.agent, **ACME).patch(
        f"{URL}/{customer.uuid}/default-address", {"addressId": "theirs"}, format="json"
    )
    assert response.status_code == 400
    assert "addressId" in response.json()["errors"]
    customer.refresh_from_db()
    assert customer.default_address_id is None


@pytest.mark.parametrize(
    "body", [{}, {"addressId": ""}, {"addressId": "x" * 65}, {"addressId": ["home"]}]
)
def test_default_address_needs_address_id(world, customer, body):
    response = bearer_client(world.agent, **ACME).patch(
        f"{URL}/{customer.uuid}/default-address", body, format="json"
    )
    assert response.status_code == 400
    assert "addressId" in response.json()["errors"]


def test_default_address_null_clears_it(world, customer):
    home = AddressFactory(customer=customer, key="home")
    customer.default_address = home
    customer.save()
    body = (
        bearer_client(world.agent, **ACME)
        .patch(f"{URL}/{customer.uuid}/default-address", {"addressId": None}, format="json")
        .json()
    )
    assert body["defaultAddressId"] is None


def test_default_address_of_another_tenants_customer_is_404(world, other):
    theirs = CustomerFactory(tenant=other.tenant)
    AddressFactory(customer=theirs, key="home")
    response = bearer_client(world.agent, **ACME).patch(
        f"{URL}/{theirs.uuid}/default-address", {"addressId": "home"}, format="json"
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.default_address_id is None


def test_default_address_query_count(world, customer, django_assert_max_num_queries):
    AddressFactory.create_batch(5, customer=customer)
    AddressFactory(customer=customer, key="home")
    client = bearer_client(world.agent, **ACME)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(12):
        response = client.patch(
            f"{URL}/{customer.uuid}/default-address", {"addressId": "home"}, format="json"
        )
    assert response.status_code == 200


# --- POST link --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_link_a_member(world, customer, kind):
    user = member(world)
    client = client_for(kind, world)
    response = client.post(
        f"{URL}/{customer.uuid}/link", {"userId": str(user.pk)}, **kw(kind, client)
    )
    assert response.status_code == 200
    assert response.json()["userId"] == str(user.pk)
    customer.refresh_from_db()
    assert customer.user == user


def test_link_with_api_key(world, customer):
    user = member(world)
    response = api_key_client(world.api_key, **ACME).post(
        f"{URL}/{customer.uuid}/link", {"userId": str(user.pk)}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("which", ["other_tenant", "unknown", "inactive_member", "inactive_user"])
def test_link_a_non_member_is_400(world, other, customer, which):
    if which == "other_tenant":
        user_id = str(other.agent.pk)
    elif which == "unknown":
        user_id = "987654321"
    elif which == "inactive_member":
        user = member(world)
        Membership.objects.filter(user=user).update(is_active=False)
        user_id = str(user.pk)
    else:
        user = member(world)
        user.is_active = False
        user.save()
        user_id = str(user.pk)
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{customer.uuid}/link", {"userId": user_id}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "userId": ["The user does not exist or is not a member of this tenant."]
    }
    customer.refresh_from_db()
    assert customer.user_id is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"userId": ""},
        {"userId": None},
        {"userId": "abc"},
        {"userId": "9" * 40},
        {"userId": "1" * 65},
    ],
)
def test_link_bad_user_id_is_400(world, customer, body):
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{customer.uuid}/link", body, format="json"
    )
    assert response.status_code == 400
    assert "userId" in response.json()["errors"]


def test_link_user_already_linked_elsewhere_is_400(world, customer):
    # world.viewer already has its own customer record in acme (member_join)
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{customer.uuid}/link", {"userId": str(world.viewer.pk)}, format="json"
    )
    assert response.status_code == 400
    assert "userId" in response.json()["errors"]


def test_link_on_another_tenants_customer_is_404(world, other):
    theirs = CustomerFactory(tenant=other.tenant)
    user = member(world)
    response = bearer_client(world.agent, **ACME).post(
        f"{URL}/{theirs.uuid}/link", {"userId": str(user.pk)}, format="json"
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.user_id is None


def test_link_query_count(world, customer, django_assert_max_num_queries):
    AddressFactory.create_batch(5, customer=customer)
    user = member(world)
    client = bearer_client(world.agent, **ACME)
    # + 1: the INSERT of the change events (tenants.events: one per service call); + 4: the
    # user's identifier read and written (customers/identity.py) in a savepoint of its own
    with django_assert_max_num_queries(19):
        response = client.post(
            f"{URL}/{customer.uuid}/link", {"userId": str(user.pk)}, format="json"
        )
    assert response.status_code == 200


# --- viewers and CSRF on the sub-resources ---------------------------------------------------


def test_viewer_cannot_write_sub_resources(world, customer):
    AddressFactory(customer=customer, key="home")
    user = member(world)
    client = bearer_client(world.viewer, **ACME)
    base = f"{URL}/{customer.uuid}"
    assert (
        client.post(f"{base}/address", address(addressId="new"), format="json").status_code == 403
    )
    assert client.delete(f"{base}/address/home").status_code == 403
    assert (
        client.patch(f"{base}/default-address", {"addressId": "home"}, format="json").status_code
        == 403
    )
    assert client.post(f"{base}/link", {"userId": str(user.pk)}, format="json").status_code == 403
    customer.refresh_from_db()
    assert customer.default_address_id is None and customer.user_id is None
    assert list(customer.addresses.values_list("key", flat=True)) == ["home"]


def test_session_sub_resource_writes_need_csrf(world, customer):
    AddressFactory(customer=customer, key="home")
    client = session_client(world.agent, **ACME)
    base = f"{URL}/{customer.uuid}"
    assert (
        client.post(f"{base}/address", address(addressId="new"), format="json").status_code == 403
    )
    assert client.delete(f"{base}/address/home").status_code == 403
    assert (
        client.patch(f"{base}/default-address", {"addressId": "home"}, format="json").status_code
        == 403
    )
    assert client.post(f"{base}/link", {"userId": "1"}, format="json").status_code == 403
    assert Customer.objects.get(pk=customer.pk).addresses.count() == 1
