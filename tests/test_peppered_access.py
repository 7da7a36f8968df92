"""Peppered dialect: authentication forms, tenancy by ``client_name``, roles, error format."""

import pytest

from tests.conftest import HubClient, api_key_client, bearer_client, session_client
from tests.factories import ApiKeyFactory, CustomerFactory

pytestmark = pytest.mark.django_db

BASE = "/v1/acme/peppered"


@pytest.mark.parametrize("form", ["bare", "basic", "bearer"])
def test_api_key_in_each_form_reaches_the_tenant(world, form):
    customer = CustomerFactory(tenant=world.tenant)
    client = api_key_client(world.api_key, form)
    response = client.get(f"{BASE}/customer/{customer.pk}")
    assert response.status_code == 200
    assert response.json()["customerId"] == customer.pk


@pytest.mark.parametrize("role", ["admin", "agent", "viewer"])
def test_bearer_user_token_of_a_member(world, role):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(getattr(world, role)).get(f"{BASE}/customer/{customer.pk}")
    assert response.status_code == 200
    assert response.json()["email"] == customer.email


def test_superuser_reaches_every_client(world, other):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert bearer_client(root).get(f"{BASE}/export/clienttypes").status_code == 200
    assert bearer_client(root).get("/v1/globex/peppered/export/clienttypes").status_code == 200


def test_no_credentials_is_401_with_challenge(world):
    response = HubClient().get(f"{BASE}/export/clienttypes")
    assert response.status_code == 401
    assert "Basic" in response["WWW-Authenticate"]
    assert "Bearer" in response["WWW-Authenticate"]
    body = response.json()
    assert set(body) == {"message", "requestId"}
    assert body["requestId"] == response["X-Request-ID"]


@pytest.mark.parametrize(
    "header",
    ["chk_wrong", "Bearer chk_wrong", "Basic Y2hrX3dyb25nOg==", "Bearer not-a-token"],
)
def test_invalid_credentials_are_401(world, header):
    client = HubClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(f"{BASE}/export/clienttypes")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "requestId"}


def test_revoked_key_is_401(world):
    from django.utils import timezone

    key = ApiKeyFactory(tenant=world.tenant)
    type(key).objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert api_key_client(key, "bare").get(f"{BASE}/export/clienttypes").status_code == 401


@pytest.mark.parametrize("form", ["bare", "basic", "bearer"])
def test_key_of_another_tenant_is_403_and_never_data(world, other, form):
    customer = CustomerFactory(tenant=world.tenant)
    client = api_key_client(other.api_key, form)
    for response in (
        client.get(f"{BASE}/customer/{customer.pk}"),
        client.get(f"{BASE}/export/clienttypes"),
        client.post(f"{BASE}/export/customers", {}, format="json"),
        client.post(f"{BASE}/customer/findByEmail", {"email": customer.email}, format="json"),
        client.put(f"{BASE}/customer/{customer.pk}", {"customerCity": "X"}, format="json"),
    ):
        assert response.status_code == 403
        assert set(response.json()) == {"message", "requestId"}
    customer.refresh_from_db()
    assert customer.default_address_id is None


def test_user_of_another_tenant_is_403(world, other):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(other.agent).get(f"{BASE}/customer/{customer.pk}")
    assert response.status_code == 403


@pytest.mark.parametrize("client_name", ["nope", "ACME", "a" * 80, "globex"])
def test_unknown_or_foreign_client_name_is_403(world, client_name):
    response = api_key_client(world.api_key, "bare").get(
        f"/v1/{client_name}/peppered/export/clienttypes"
    )
    assert response.status_code == 403
    assert response.json()["message"]


def test_inactive_tenant_is_403(world):
    world.tenant.is_active = False
    world.tenant.save()
    response = bearer_client(world.admin).get(f"{BASE}/export/clienttypes")
    assert response.status_code == 403


def test_session_cookie_is_not_a_peppered_credential(world):
    client = session_client(world.agent)
    response = client.get(f"{BASE}/export/clienttypes")
    assert response.status_code == 401


def test_viewer_key_reads_but_does_not_write(world):
    customer = CustomerFactory(tenant=world.tenant)
    client = api_key_client(world.viewer_key, "bare")
    assert client.get(f"{BASE}/customer/{customer.pk}").status_code == 200
    assert client.get(f"{BASE}/customer/{customer.pk}/clienttypes").status_code == 200
    assert client.get(f"{BASE}/export/clienttypes").status_code == 200
    # findByEmail and the customer export are POSTs, but reads.
    found = client.post(f"{BASE}/customer/findByEmail", {"email": customer.email}, format="json")
    assert found.status_code == 200
    assert client.post(f"{BASE}/export/customers", {}, format="json").status_code == 200
    denied = [
        client.post(f"{BASE}/customer", {"email": "new@example.com"}, format="json"),
        client.put(f"{BASE}/customer/{customer.pk}", {"customerCity": "X"}, format="json"),
        client.post(
            f"{BASE}/customer/{customer.pk}/clienttypes", {"clienttypes": []}, format="json"
        ),
    ]
    assert [r.status_code for r in denied] == [403, 403, 403]
    customer.refresh_from_db()
    assert customer.default_address_id is None


def test_viewer_user_may_not_write(world):
    response = bearer_client(world.viewer).post(
        f"{BASE}/customer", {"email": "new@example.com"}, format="json"
    )
    assert response.status_code == 403


def test_unknown_url_under_the_prefix_is_404_in_peppered_format(world):
    response = api_key_client(world.api_key, "bare").get(f"{BASE}/nope")
    assert response.status_code == 404
    assert set(response.json()) == {"message", "requestId"}


def test_method_not_allowed_is_405(world):
    client = HubClient(check_schema=False)  # an undocumented method, on purpose
    client.credentials(HTTP_AUTHORIZATION=world.api_key.secret)
    for response in (
        client.delete(f"{BASE}/customer/1"),
        client.get(f"{BASE}/customer/findByEmail"),
    ):
        assert response.status_code == 405
        assert set(response.json()) == {"message", "requestId"}


def test_malformed_json_is_400(world):
    response = api_key_client(world.api_key, "bare").post(
        f"{BASE}/customer", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("Malformed request body")


def test_wrong_content_type_is_415(world):
    response = api_key_client(world.api_key, "bare").post(
        f"{BASE}/customer", "email=a@b.nl", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


def test_request_id_is_echoed(world):
    client = api_key_client(world.api_key, "bare", **{"X-Request-ID": "abc-123"})
    response = client.get(f"{BASE}/customer/999999")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "abc-123"
    assert response.json() == {"message": "Customer not found.", "requestId": "abc-123"}


def test_auth_query_counts(world, django_assert_max_num_queries):
    client = api_key_client(world.api_key, "bare")
    client.get(f"{BASE}/export/clienttypes")  # the key's last_used_at is now fresh
    with django_assert_max_num_queries(3):  # key, tenant, client types
        assert client.get(f"{BASE}/export/clienttypes").status_code == 200
    user_client = bearer_client(world.agent)
    with django_assert_max_num_queries(4):  # token (with its user), tenant, membership, types
        assert user_client.get(f"{BASE}/export/clienttypes").status_code == 200
