"""Identity: session login with CSRF, Bearer tokens, API keys in three forms, /api/auth/me."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from tests.conftest import (
    HubClient,
    api_key_client,
    bearer_client,
    csrf_headers,
    session_client,
    session_login,
)

pytestmark = pytest.mark.django_db


def test_me_with_bearer_token_lists_tenants_and_stores(world, other):
    response = bearer_client(world.agent).get("/api/auth/me")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "acme-agent"
    assert body["tenants"] == [
        {"id": str(world.tenant.id), "slug": "acme", "name": "Acme", "role": "agent"}
    ]
    assert [s["id"] for s in body["stores"]] == [str(world.store.id)]


def test_me_of_tenant_admin_lists_every_store(world, other):
    body = bearer_client(world.admin).get("/api/auth/me").json()
    assert {s["id"] for s in body["stores"]} == {str(world.store.id), str(world.store2.id)}


def test_no_credentials_is_401_with_www_authenticate(db):
    response = HubClient().get("/api/auth/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["requestId"] == response["X-Request-ID"]


def test_token_issue_then_use_then_revoke(world, password):
    client = HubClient()
    response = client.post(
        "/api/auth/token", {"username": "acme-viewer", "password": password}, format="json"
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert response.json()["expiresAt"]
    authed = bearer_client(token)
    assert authed.get("/api/auth/me").status_code == 200
    assert authed.delete("/api/auth/token").status_code == 200
    assert authed.get("/api/auth/me").status_code == 401


def test_token_is_hashed_at_rest(world, password):
    response = HubClient().post(
        "/api/auth/token", {"username": "acme-viewer", "password": password}, format="json"
    )
    token = response.json()["token"]
    assert not AuthToken.objects.filter(digest=token).exists()
    assert AuthToken.objects.filter(token_key=token[:15]).count() == 1


def test_expired_token_is_401(world):
    instance, token = AuthToken.objects.create(user=world.agent, expiry=timedelta(seconds=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert bearer_client(token).get("/api/auth/me").status_code == 401
    assert not AuthToken.objects.filter(pk=instance.pk).exists()


def _expired_tokens(user, n: int) -> None:
    for _ in range(n):
        instance, _ = AuthToken.objects.create(user=user, expiry=timedelta(hours=1))
        AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - timedelta(1))


def test_authentication_reads_only_the_token_it_is_given(world):
    """One query (token and user) whatever the number of the user's other tokens, live or
    expired: knox's per-request sweep of every token of the user is not run."""
    _, token = AuthToken.objects.create(user=world.agent)
    client = bearer_client(token)
    client.get("/api/auth/me")  # warm-up
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/auth/me").status_code == 200
    _expired_tokens(world.agent, 30)
    for _ in range(30):
        AuthToken.objects.create(user=world.agent)
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/auth/me").status_code == 200
    assert len(many) == len(one)
    assert sum("knox_authtoken" in q["sql"] for q in many.captured_queries) == 1


def test_issuing_a_token_deletes_only_the_users_expired_tokens(world, password):
    _expired_tokens(world.viewer, 3)
    _expired_tokens(world.agent, 2)
    live, _ = AuthToken.objects.create(user=world.viewer)
    response = HubClient().post(
        "/api/auth/token", {"username": "acme-viewer", "password": password}, format="json"
    )
    assert response.status_code == 201
    viewer_tokens = AuthToken.objects.filter(user=world.viewer)
    assert viewer_tokens.count() == 2  # the live one and the new one
    assert viewer_tokens.filter(pk=live.pk).exists()
    assert not viewer_tokens.filter(expiry__lt=timezone.now()).exists()
    assert AuthToken.objects.filter(user=world.agent, expiry__lt=timezone.now()).count() == 2


@pytest.mark.parametrize("form", ["bearer", "bare", "basic"])
def test_api_key_in_each_form(world, form):
    response = api_key_client(world.api_key, form).get("/api/auth/me")
    assert response.status_code == 200
    assert response.json()["tenants"][0]["slug"] == "acme"
    assert response.json()["id"] is None


@pytest.mark.parametrize(
    "header",
    [
        "Bearer chk_wrong",
        "chk_wrong",
        "Basic Y2hrX3dyb25nOg==",  # chk_wrong:
        "Basic bm90LWEta2V5Og==",  # not-a-key:
        "Basic %%%",
        "Bearer deadbeef",
        "Bearer a b",
    ],
)
def test_wrong_credentials_are_401(db, header):
    client = HubClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/auth/me")
    assert response.status_code == 401


def test_revoked_api_key_is_401(world):
    from tenants.services import api_key_revoke

    api_key_revoke(api_key=world.api_key)
    assert api_key_client(world.api_key).get("/api/auth/me").status_code == 401


def test_wrong_password_is_401(world):
    response = HubClient().post(
        "/api/auth/login", {"username": "acme-agent", "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_session_login_sets_cookies_and_logout_needs_csrf(world, password):
    client = HubClient(enforce_csrf_checks=True)
    response = session_login(client, "acme-agent", password)
    assert response.status_code == 200
    assert "sessionid" in client.cookies and "csrftoken" in client.cookies
    assert client.get("/api/auth/me").status_code == 200
    assert client.post("/api/auth/logout").status_code == 403
    assert client.post("/api/auth/logout", **csrf_headers(client)).status_code == 200
    assert client.get("/api/auth/me").status_code == 401


def test_session_login_needs_the_csrf_token_and_token_issue_does_not(world, password):
    # Login CSRF: a page of another site must not log the browser in (as the attacker).
    body = {"username": "acme-agent", "password": password}
    client = HubClient(enforce_csrf_checks=True)
    refused = client.post("/api/auth/login", body, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["message"]
    assert "sessionid" not in client.cookies
    answer = client.get("/api/auth/csrf")
    assert answer.status_code == 200
    token = answer.json()["csrfToken"]
    assert client.cookies["csrftoken"].value
    guessed = client.post("/api/auth/login", body, format="json", HTTP_X_CSRFTOKEN="x" * 64)
    assert guessed.status_code == 403
    cross_site = client.post(
        "/api/auth/login",
        body,
        format="json",
        secure=True,
        HTTP_X_CSRFTOKEN=token,
        HTTP_ORIGIN="https://evil.example",
    )
    assert cross_site.status_code == 403
    assert "sessionid" not in client.cookies
    assert (
        client.post("/api/auth/login", body, format="json", HTTP_X_CSRFTOKEN=token).status_code
        == 200
    )
    assert "sessionid" in client.cookies
    # Machines: POST /api/auth/token takes no cookies and needs no CSRF token.
    machine = HubClient(enforce_csrf_checks=True)
    assert machine.post("/api/auth/token", body, format="json").status_code == 201


def test_session_client_helper_is_logged_in(world):
    assert session_client(world.admin).get("/api/auth/me").json()["username"] == "acme-admin"


def test_malformed_json_and_wrong_content_type(db):
    client = HubClient()
    response = client.post("/api/auth/login", "{bad", content_type="application/json")
    assert response.status_code == 400
    response = client.post("/api/auth/login", "a=b", content_type="text/plain")
    assert response.status_code == 415


def test_request_id_is_echoed_when_sane_and_replaced_otherwise(db):
    client = HubClient()
    assert client.get("/api/auth/me", HTTP_X_REQUEST_ID="abc-123")["X-Request-ID"] == "abc-123"
    replaced = client.get("/api/auth/me", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"]
    assert replaced != "bad id\n" and len(replaced) == 32
