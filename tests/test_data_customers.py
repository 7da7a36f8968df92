"""Data dialect (seed 000): find-or-create, read, update, deactivate; auth, tenancy, limits."""

import pytest

from customers.models import Customer, Source
from tests.conftest import (
    HubClient,
    api_key_client,
    bearer_client,
    csrf_headers,
    json_of,
    session_client,
)
from tests.factories import AddressFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/data/customer"
ACME = {"x-tenant-id": "acme"}
RECORD_KEYS = {
    "id",
    "discordId",
    "discordUsername",
    "discordDisplayName",
    "source",
    "email",
    "phone",
    "userId",
    "notes",
    "isActive",
    "addresses",
    "defaultAddressId",
    "createdAt",
    "updatedAt",
}


def payload(**overrides):
    body = {
        "discordId": "123456789012345678",
        "discordUsername": "ada",
        "discordDisplayName": "Ada Lovelace",
    }
    body.update(overrides)
    return body


def client_for(kind, world, **headers):
    headers = {**ACME, **headers}
    if kind == "bearer":
        return bearer_client(world.agent, **headers)
    if kind == "api_key":
        return api_key_client(world.api_key, **headers)
    return session_client(world.agent, **headers)


def write_kwargs(kind, client):
    return {"format": "json", **(csrf_headers(client) if kind == "session" else {})}


AUTH_KINDS = ["session", "bearer", "api_key"]


# --- POST: find or create ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_create_returns_201_with_full_record(world, kind):
    client = client_for(kind, world)
    response = client.post(URL, payload(email="ada@example.com"), **write_kwargs(kind, client))
    assert response.status_code == 201
    body = response.json()
    assert set(body) == RECORD_KEYS
    customer = Customer.objects.get(uuid=body["id"])
    assert customer.tenant == world.tenant
    assert customer.name == "Ada Lovelace"
    assert body["discordId"] == "123456789012345678"
    assert body["discordUsername"] == "ada"
    assert body["discordDisplayName"] == "Ada Lovelace"
    assert body["source"] == "DISCORD"
    assert body["email"] == "ada@example.com"
    assert body["phone"] == ""
    assert body["userId"] is None
    assert body["notes"] == ""
    assert body["isActive"] is True
    assert body["addresses"] == []
    assert body["defaultAddressId"] is None
    assert body["createdAt"] and body["updatedAt"]


def test_create_existing_returns_200_unchanged(world):
    client = bearer_client(world.agent, **ACME)
    before = Customer.objects.filter(tenant=world.tenant).count()
    first = client.post(URL, payload(), format="json")
    # (a new email would be attached since issue 20: tests/test_identity.py)
    second = client.post(URL, payload(discordUsername="changed"), format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert Customer.objects.filter(tenant=world.tenant).count() == before + 1


def test_create_existing_deactivated_returns_200_still_inactive(world):
    customer = CustomerFactory(tenant=world.tenant, discord_id="42", is_active=False)
    response = bearer_client(world.agent, **ACME).post(URL, payload(discordId="42"), format="json")
    assert response.status_code == 200
    assert response.json()["id"] == str(customer.uuid)
    assert response.json()["isActive"] is False


def test_same_discord_id_in_another_tenant_is_a_different_customer(world, other):
    theirs = CustomerFactory(tenant=other.tenant, discord_id="42")
    response = bearer_client(world.agent, **ACME).post(URL, payload(discordId="42"), format="json")
    assert response.status_code == 201
    assert response.json()["id"] != str(theirs.uuid)


@pytest.mark.parametrize("source", ["DISCORD", "EMAIL", "MANUAL"])
def test_create_accepts_each_source(world, source):
    response = bearer_client(world.agent, **ACME).post(URL, payload(source=source), format="json")
    assert response.status_code == 201
    assert response.json()["source"] == source


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (Source.DISCORD, "DISCORD"),
        (Source.EMAIL, "EMAIL"),
        (Source.MANUAL, "MANUAL"),
        (Source.STORE, "MANUAL"),
        (Source.USER, "MANUAL"),
        (Source.API, "MANUAL"),
    ],
)
def test_source_is_one_of_the_seeds_values(world, stored, shown):
    # seed 000's enum is DISCORD, EMAIL, MANUAL: a strict client must never see another value
    customer = CustomerFactory(tenant=world.tenant, source=stored)
    client = bearer_client(world.agent, **ACME)
    assert client.get(f"{URL}/{customer.uuid}").json()["source"] == shown
    listed = [c for c in json_of(client.get(URL)) if c["id"] == str(customer.uuid)]
    assert listed[0]["source"] == shown


def test_discord_fields_of_a_customer_made_elsewhere_are_null(world):
    customer = CustomerFactory(
        tenant=world.tenant, discord_id="", discord_username="", discord_display_name=""
    )
    body = bearer_client(world.agent, **ACME).get(f"{URL}/{customer.uuid}").json()
    assert (body["discordId"], body["discordUsername"], body["discordDisplayName"]) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"discordId": None}, "discordId"),
        ({"discordId": ""}, "discordId"),
        ({"discordUsername": ""}, "discordUsername"),
        ({"discordDisplayName": None}, "discordDisplayName"),
        ({"source": "STORE"}, "source"),
        ({"source": "discord"}, "source"),
        ({"email": "not-an-email"}, "email"),
        ({"discordId": "x" * 65}, "discordId"),
        ({"discordUsername": "x" * 101}, "discordUsername"),
        ({"discordDisplayName": "x" * 101}, "discordDisplayName"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"phone": "1" * 33}, "phone"),
        ({"discordUsername": "ada\x00"}, "discordUsername"),
        ({"discordId": "1\x002"}, "discordId"),
        ({"userId": "abc"}, "userId"),
    ],
)
def test_create_validation_errors_are_400(world, body, field):
    before = Customer.objects.count()
    response = bearer_client(world.agent, **ACME).post(URL, payload(**body), format="json")
    assert response.status_code == 400
    error = response.json()
    assert field in error["errors"]
    assert error["message"]
    assert error["requestId"] == response["X-Request-ID"]
    assert Customer.objects.count() == before


def test_create_missing_required_fields_lists_each(world):
    response = bearer_client(world.agent, **ACME).post(URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"discordId", "discordUsername", "discordDisplayName"}


def test_create_with_email_of_a_customer_with_another_discord_id_is_400(world):
    # issue 20: the email finds the customer, which shows another Discord id: a conflict
    # naming it (a customer without a Discord id gets this one: tests/test_identity.py)
    taken = CustomerFactory(tenant=world.tenant, email="taken@example.com")
    response = bearer_client(world.agent, **ACME).post(
        URL, payload(email="TAKEN@example.com"), format="json"
    )
    assert response.status_code == 400
    assert "discordId" in response.json()["errors"]
    assert str(taken.uuid) in response.json()["message"]


def test_create_with_user_id_links_a_member(world):
    user = UserFactory()
    from tenants.models import Membership

    Membership.objects.create(user=user, tenant=world.tenant, role="viewer")
    response = bearer_client(world.agent, **ACME).post(
        URL, payload(userId=str(user.pk)), format="json"
    )
    assert response.status_code == 201
    assert response.json()["userId"] == str(user.pk)


def test_create_with_user_id_of_a_non_member_is_400(world, other):
    response = bearer_client(world.agent, **ACME).post(
        URL, payload(userId=str(other.agent.pk)), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["userId"] == [
        "The user does not exist or is not a member of this tenant."
    ]


def test_create_with_user_already_linked_finds_its_customer(world):
    # world.agent already has a customer (created when it joined): issue 20 finds it and
    # gives it the Discord id (200), where it was a 400 "already linked"
    mine = Customer.objects.get(tenant=world.tenant, user=world.agent)
    response = bearer_client(world.agent, **ACME).post(
        URL, payload(userId=str(world.agent.pk)), format="json"
    )
    assert response.status_code == 200
    assert response.json()["id"] == str(mine.uuid)
    assert response.json()["discordId"] == payload()["discordId"]


def test_malformed_json_is_400_in_dialect_envelope(world):
    response = bearer_client(world.agent, **ACME).post(
        URL, data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"message", "requestId"}


def test_wrong_content_type_is_415(world):
    response = bearer_client(world.agent, **ACME).post(
        URL, data="discordId=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_array_body_is_400(world):
    response = bearer_client(world.agent, **ACME).post(URL, [1, 2], format="json")
    assert response.status_code == 400


def test_create_query_count(world, django_assert_max_num_queries):
    client = bearer_client(world.agent, **ACME)
    # + 1 since issue 20: the INSERT of the new customer's identifiers
    with django_assert_max_num_queries(13):
        assert client.post(URL, payload(), format="json").status_code == 201
    # token (+ user), tenant, membership, lookup, addresses
    with django_assert_max_num_queries(5):
        assert client.post(URL, payload(), format="json").status_code == 200


# --- auth and tenancy -------------------------------------------------------------------------


def test_no_credentials_is_401(world):
    response = HubClient().get(URL, HTTP_X_TENANT_ID="acme")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"message", "requestId"}


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_missing_tenant_header_is_400(world, kind):
    if kind == "bearer":
        client = bearer_client(world.agent)
    elif kind == "api_key":
        client = api_key_client(world.api_key)
    else:
        client = session_client(world.agent)
    response = client.get(URL)
    assert response.status_code == 400
    assert "x-tenant-id" in response.json()["message"]


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_foreign_tenant_is_403(world, other, kind):
    client = client_for(kind, world, **{"x-tenant-id": "globex"})
    assert client.get(URL).status_code == 403
    response = client.post(URL, payload(), **write_kwargs(kind, client))
    assert response.status_code == 403
    assert not Customer.objects.filter(tenant=other.tenant, discord_id="123456789012345678")


def test_unknown_tenant_is_403(world):
    assert bearer_client(world.agent, **{"x-tenant-id": "nope"}).get(URL).status_code == 403


def test_tenant_by_uuid(world):
    client = bearer_client(world.agent, **{"x-tenant-id": str(world.tenant.id)})
    assert client.post(URL, payload(), format="json").status_code == 201


@pytest.mark.parametrize("who", ["viewer_user", "viewer_key"])
def test_viewer_cannot_write(world, who):
    client = (
        bearer_client(world.viewer, **ACME)
        if who == "viewer_user"
        else api_key_client(world.viewer_key, **ACME)
    )
    customer = CustomerFactory(tenant=world.tenant)
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}/{customer.uuid}").status_code == 200
    assert client.post(URL, payload(), format="json").status_code == 403
    assert client.patch(f"{URL}/{customer.uuid}", {"notes": "x"}, format="json").status_code == 403
    assert client.delete(f"{URL}/{customer.uuid}").status_code == 403
    customer.refresh_from_db()
    assert customer.is_active and customer.notes == ""


def test_session_write_without_csrf_is_403(world):
    client = session_client(world.agent, **ACME)
    response = client.post(URL, payload(), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not Customer.objects.filter(discord_id="123456789012345678").exists()
    customer = CustomerFactory(tenant=world.tenant)
    assert client.patch(f"{URL}/{customer.uuid}", {"notes": "x"}, format="json").status_code == 403
    assert client.delete(f"{URL}/{customer.uuid}").status_code == 403


def test_session_read_needs_no_csrf(world):
    customer = CustomerFactory(tenant=world.tenant)
    assert session_client(world.agent, **ACME).get(f"{URL}/{customer.uuid}").status_code == 200


def test_bearer_write_needs_no_csrf(world):
    client = bearer_client(world.agent, **ACME)
    client.handler.enforce_csrf_checks = True
    assert client.post(URL, payload(), format="json").status_code == 201


# --- GET / PATCH / DELETE one -----------------------------------------------------------------


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_get_one(world, kind):
    customer = CustomerFactory(tenant=world.tenant, notes="vip")
    a1 = AddressFactory(customer=customer, key="home")
    AddressFactory(customer=customer, key="work")
    customer.default_address = a1
    customer.save()
    response = client_for(kind, world).get(f"{URL}/{customer.uuid}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(customer.uuid)
    assert body["notes"] == "vip"
    assert [a["addressId"] for a in body["addresses"]] == ["home", "work"]
    assert body["defaultAddressId"] == "home"
    assert set(body["addresses"][0]) == {
        "addressId",
        "name",
        "line1",
        "line2",
        "city",
        "state",
        "postalCode",
        "country",
        "phone",
    }


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_tenants_customer_is_404(world, other, method):
    theirs = CustomerFactory(tenant=other.tenant, notes="")
    client = bearer_client(world.agent, **ACME)
    response = getattr(client, method)(f"{URL}/{theirs.uuid}", {"notes": "x"}, format="json")
    assert response.status_code == 404
    assert set(response.json()) == {"message", "requestId"}
    theirs.refresh_from_db()
    assert theirs.is_active and theirs.notes == ""


@pytest.mark.parametrize("bad", ["not-a-uuid", "12", "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_id_is_404(world, bad):
    assert bearer_client(world.agent, **ACME).get(f"{URL}/{bad}").status_code == 404


def test_unknown_sub_path_is_404_in_dialect_envelope(world):
    client = bearer_client(world.agent, **ACME)
    client.check_schema = False
    response = client.get(f"{URL}/x/y/z")
    assert response.status_code == 404
    assert set(response.json()) == {"message", "requestId"}


def test_get_one_query_count(world, django_assert_max_num_queries):
    customer = CustomerFactory(tenant=world.tenant)
    AddressFactory.create_batch(5, customer=customer)
    client = bearer_client(world.agent, **ACME)
    # token (with its user), tenant, membership, customer, addresses
    with django_assert_max_num_queries(5):
        assert client.get(f"{URL}/{customer.uuid}").status_code == 200


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_patch_changes_only_given_fields(world, kind):
    customer = CustomerFactory(tenant=world.tenant, phone="111", notes="old")
    client = client_for(kind, world)
    response = client.patch(
        f"{URL}/{customer.uuid}",
        {
            "discordUsername": "new_name",
            "discordDisplayName": "New Name",
            "email": "new@example.com",
            "notes": "a" * 10000,
        },
        **write_kwargs(kind, client),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["discordUsername"] == "new_name"
    assert body["discordDisplayName"] == "New Name"
    assert body["email"] == "new@example.com"
    assert body["notes"] == "a" * 10000
    assert body["phone"] == "111"
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    assert customer.phone == "111"


def test_patch_null_clears_optional_text(world):
    customer = CustomerFactory(tenant=world.tenant, phone="111", notes="n")
    body = (
        bearer_client(world.agent, **ACME)
        .patch(f"{URL}/{customer.uuid}", {"email": None, "phone": "", "notes": None}, format="json")
        .json()
    )
    assert (body["email"], body["phone"], body["notes"]) == ("", "", "")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "nope"}, "email"),
        ({"notes": "x" * 10001}, "notes"),
        ({"notes": "a\x00b"}, "notes"),
        ({"phone": "1" * 33}, "phone"),
        ({"discordUsername": "x" * 101}, "discordUsername"),
        ({"discordDisplayName": ""}, "discordDisplayName"),
        ({"userId": "999999"}, "userId"),
        ({"userId": "-1"}, "userId"),
        ({"isActive": "maybe"}, "isActive"),
    ],
)
def test_patch_validation_is_400_and_changes_nothing(world, body, field):
    customer = CustomerFactory(tenant=world.tenant, notes="keep")
    response = bearer_client(world.agent, **ACME).patch(
        f"{URL}/{customer.uuid}", {"phone": "222", **body}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    customer.refresh_from_db()
    assert customer.notes == "keep" and customer.phone != "222"


def test_patch_taken_email_is_400(world):
    CustomerFactory(tenant=world.tenant, email="taken@example.com")
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.agent, **ACME).patch(
        f"{URL}/{customer.uuid}", {"email": "taken@example.com"}, format="json"
    )
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


def test_patch_user_id_links_and_null_unlinks(world):
    from tenants.models import Membership

    user = UserFactory()
    Membership.objects.create(user=user, tenant=world.tenant, role="viewer")
    customer = CustomerFactory(tenant=world.tenant)
    client = bearer_client(world.agent, **ACME)
    body = client.patch(f"{URL}/{customer.uuid}", {"userId": str(user.pk)}, format="json").json()
    assert body["userId"] == str(user.pk)
    body = client.patch(f"{URL}/{customer.uuid}", {"userId": None}, format="json").json()
    assert body["userId"] is None


def test_patch_empty_body_is_200_unchanged(world):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.agent, **ACME).patch(f"{URL}/{customer.uuid}", {}, format="json")
    assert response.status_code == 200
    assert response.json()["updatedAt"] == customer.updated_at.isoformat().replace("+00:00", "Z")


def test_patch_query_count(world, django_assert_max_num_queries):
    customer = CustomerFactory(tenant=world.tenant)
    AddressFactory.create_batch(5, customer=customer)
    client = bearer_client(world.agent, **ACME)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    # + 2 since issue 20: the email's old identifier deleted, the new one inserted
    with django_assert_max_num_queries(17):
        response = client.patch(
            f"{URL}/{customer.uuid}", {"notes": "n", "email": "q@example.com"}, format="json"
        )
    assert response.status_code == 200


@pytest.mark.parametrize("kind", AUTH_KINDS)
def test_delete_deactivates_and_record_stays_readable(world, kind):
    customer = CustomerFactory(tenant=world.tenant)
    client = client_for(kind, world)
    response = client.delete(f"{URL}/{customer.uuid}", **write_kwargs(kind, client))
    assert response.status_code == 200
    assert response.json()["isActive"] is False
    assert response.json()["id"] == str(customer.uuid)
    again = client.get(f"{URL}/{customer.uuid}")
    assert again.status_code == 200 and again.json()["isActive"] is False
    assert Customer.objects.filter(pk=customer.pk, is_active=False).exists()
    # deleting again is harmless
    assert client.delete(f"{URL}/{customer.uuid}", **write_kwargs(kind, client)).status_code == 200


def test_patch_is_active_reactivates(world):
    customer = CustomerFactory(tenant=world.tenant, is_active=False)
    body = (
        bearer_client(world.agent, **ACME)
        .patch(f"{URL}/{customer.uuid}", {"isActive": True}, format="json")
        .json()
    )
    assert body["isActive"] is True


def test_delete_query_count(world, django_assert_max_num_queries):
    customer = CustomerFactory(tenant=world.tenant)
    AddressFactory.create_batch(5, customer=customer)
    client = bearer_client(world.agent, **ACME)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(11):
        assert client.delete(f"{URL}/{customer.uuid}").status_code == 200


def test_error_body_names_request_id(world):
    response = bearer_client(world.agent, **ACME, HTTP_X_REQUEST_ID="req-123").get(f"{URL}/nope")
    assert response.status_code == 404
    assert json_of(response)["requestId"] == "req-123"


def test_the_compiled_record_is_what_the_declared_fields_render(world):
    """The record (a Customer with its addresses) and the list's rows render exactly what
    DRF's own fields render of the declaration."""
    from rest_framework import serializers as drf

    from customers import selectors
    from customers.api.data.serializers import DATA_CUSTOMER_COLUMNS, DataCustomerSerializer
    from tenants.api.compiled import declared

    plain = CustomerFactory(tenant=world.tenant, discord_id="", source=Source.MANUAL)
    rich = CustomerFactory(tenant=world.tenant, user=UserFactory(), discord_id="42")
    AddressFactory(customer=rich, key="home")
    rich.default_address = AddressFactory(customer=rich, key="work")
    rich.save()
    stale = CustomerFactory(tenant=world.tenant)
    AddressFactory(customer=stale, key="old")
    for made in (plain, rich, stale):
        customer = Customer.objects.get(pk=made.pk)
        selectors.attach_addresses([customer])
        serializer = DataCustomerSerializer(customer)
        expected = drf.Serializer.to_representation(serializer, customer)
        assert serializer.data == expected
        assert list(serializer.data) == list(expected)
        (row,) = selectors.customers_keyset_page(
            tenant=world.tenant, after_pk=made.pk - 1, limit=1, columns=DATA_CUSTOMER_COLUMNS
        )
        assert DataCustomerSerializer(row).data == expected  # what the list renders
        assert declared(serializer, row) == expected
        assert expected["defaultAddressId"] == ("work" if made is rich else None)
