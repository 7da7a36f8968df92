"""The hub's webhook routes (/api/hub/webhook-endpoints): tenant admins only, another
tenant's endpoint a 404, the secret shown once, every answer checked against OpenAPI."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tenants import delivery
from tenants.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import api_key_client, bearer_client
from tests.factories import EventFactory, WebhookEndpointFactory
from tests.webhook_support import skip_existing_events

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox_after_the_fixtures(world):
    """The world's own events (its members' customers) are not these tests' deliveries."""
    skip_existing_events()


BASE = "/api/hub/webhook-endpoints"


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def test_create_shows_the_secret_once_then_never(world):
    client = bearer_client(world.admin)
    response = client.post(
        BASE,
        {
            "url": "https://hooks.example.com/in",
            "event_types": ["customer.*"],
            "description": "ERP",
        },
        format="json",
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["secret"].startswith("whsec_") and data["enabled"] is True
    assert data["event_types"] == ["customer.*"] and data["disabled_reason"] == ""
    secret = data["secret"]
    for url in (BASE, f"{BASE}/{data['id']}"):
        answer = client.get(url)
        assert answer.status_code == 200 and secret not in answer.content.decode()
    row = WebhookEndpoint.objects.filter(pk=data["id"]).values().get()
    assert secret not in str(row)
    rotated = client.post(f"{BASE}/{data['id']}/rotate-secret", {}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()["data"]
    assert new["secret"] != secret and new["previous_secret_expires_at"] is not None
    immediate = client.post(
        f"{BASE}/{data['id']}/rotate-secret", {"overlap_hours": 0}, format="json"
    )
    assert immediate.json()["data"]["previous_secret_expires_at"] is None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": "http://hooks.example.com/in"}, "url", "unsafe_url"),
        ({"url": "https://10.1.2.3/in"}, "url", "unsafe_url"),
        ({"url": "https://169.254.169.254/latest"}, "url", "unsafe_url"),
        ({"url": "https://localhost/in"}, "url", "unsafe_url"),
        ({"url": "https://nowhere.invalid/in"}, "url", "unsafe_url"),
        (
            {"url": "https://hooks.example.com/in", "event_types": ["Customer Updated"]},
            "event_types",
            None,
        ),
        ({"url": "https://hooks.example.com/in", "event_types": "customer.*"}, "event_types", None),
        ({}, "url", None),
    ],
)
def test_bad_input_is_a_400(world, body, field, code):
    response = bearer_client(world.admin).post(BASE, body, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert field in error["details"]
    if code:
        assert error["code"] == code
    assert not WebhookEndpoint.objects.exists()


def test_only_tenant_admins(world, other):
    endpoint = WebhookEndpointFactory(tenant=world.tenant)
    for client in (
        bearer_client(world.agent),
        bearer_client(world.viewer),
        api_key_client(world.api_key),
        api_key_client(world.viewer_key),
    ):
        for response in (
            client.get(BASE),
            client.get(f"{BASE}/{endpoint.id}"),
            client.post(BASE, {"url": "https://hooks.example.com/x"}, format="json"),
            client.delete(f"{BASE}/{endpoint.id}"),
        ):
            assert response.status_code == 403, response.content
            assert error_of(response)["code"] == "forbidden"
    # another tenant's admin: a 404 like a missing id
    theirs = bearer_client(other.admin)
    for path in (f"{BASE}/{endpoint.id}", f"{BASE}/{endpoint.id}/deliveries", f"{BASE}/nope"):
        response = theirs.get(path)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert theirs.get(BASE).json()["data"] == []
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_update_disable_enable_delete(world):
    client = bearer_client(world.admin)
    endpoint = WebhookEndpointFactory(tenant=world.tenant)
    response = client.patch(f"{BASE}/{endpoint.id}", {"enabled": False}, format="json")
    data = response.json()["data"]
    assert response.status_code == 200 and data["enabled"] is False
    assert data["disabled_reason"] == "Disabled by an admin." and data["disabled_at"]
    response = client.patch(
        f"{BASE}/{endpoint.id}",
        {"enabled": True, "description": "new", "url": "https://other.example.com/x"},
        format="json",
    )
    data = response.json()["data"]
    assert data["enabled"] is True and data["disabled_at"] is None
    assert data["url"] == "https://other.example.com/x" and data["description"] == "new"
    response = client.patch(f"{BASE}/{endpoint.id}", {"url": "https://10.0.0.1/"}, format="json")
    assert response.status_code == 400
    assert client.delete(f"{BASE}/{endpoint.id}").status_code == 204
    assert client.get(f"{BASE}/{endpoint.id}").status_code == 404


def test_deliveries_attempts_resend_replay(world, settings):
    settings.HUB_WEBHOOKS_ALLOW_LOOPBACK = True
    client = bearer_client(world.admin)
    endpoint = WebhookEndpointFactory(tenant=world.tenant, url="http://127.0.0.1:9/nobody")
    events = [EventFactory(tenant=world.tenant, customer_uuid=None) for _ in range(3)]
    delivery.drain()  # connection refused: one failed attempt each
    response = client.get(f"{BASE}/{endpoint.id}/deliveries", {"limit": 2})
    body = response.json()
    assert response.status_code == 200 and len(body["data"]) == 2
    assert body["data"][0]["event_id"] == str(events[-1].uuid)
    assert body["data"][0]["status"] == "pending" and body["data"][0]["attempts"] == 1
    rest = client.get(
        f"{BASE}/{endpoint.id}/deliveries", {"limit": 2, "cursor": body["meta"]["next_cursor"]}
    ).json()
    assert len(rest["data"]) == 1 and rest["meta"]["next_cursor"] is None
    delivery_id = body["data"][0]["id"]
    attempts = client.get(f"{BASE}/{endpoint.id}/deliveries/{delivery_id}/attempts").json()
    assert attempts["data"][0]["succeeded"] is False and attempts["data"][0]["error"]
    resent = client.post(f"{BASE}/{endpoint.id}/deliveries/{delivery_id}/resend")
    assert resent.status_code == 202
    row = WebhookDelivery.objects.get(pk=delivery_id)
    assert row.status == "pending" and row.next_attempt_at <= timezone.now()
    assert resent.json()["data"]["id"] == delivery_id
    replay = client.post(
        f"{BASE}/{endpoint.id}/replay", {"since": events[0].occurred_at.isoformat()}, format="json"
    )
    assert replay.status_code == 202 and replay.json()["data"] == {"queued": 3}
    assert client.post(f"{BASE}/{endpoint.id}/replay", {}, format="json").status_code == 400
    for bad in ("0", "x", "99999999"):
        response = client.get(f"{BASE}/{endpoint.id}/deliveries/{bad}/attempts")
        assert response.status_code == 404
    response = client.get(f"{BASE}/{endpoint.id}/deliveries", {"cursor": "junk"})
    assert response.status_code == 400


def test_list_query_count_is_bounded(world):
    client = bearer_client(world.admin)
    client.get(BASE)  # warm the token
    WebhookEndpointFactory(tenant=world.tenant)
    with CaptureQueriesContext(connection) as one:
        client.get(BASE)
    for _ in range(5):
        WebhookEndpointFactory(tenant=world.tenant)
    with CaptureQueriesContext(connection) as six:
        assert len(client.get(BASE).json()["data"]) == 6
    assert len(six) == len(one) <= 8


def test_resend_an_event(world, other):
    from tests.webhook_support import skip_existing_events

    skip_existing_events()
    endpoint = WebhookEndpointFactory(tenant=world.tenant)
    event = EventFactory(tenant=world.tenant)
    delivery.fan_out()
    WebhookDelivery.objects.update(status="failed")
    response = bearer_client(world.admin).post(f"/api/hub/events/{event.uuid}/resend")
    assert response.status_code == 202 and response.json()["data"] == {"queued": 1}
    assert endpoint.deliveries.get().status == "pending"
    # another tenant's event, a malformed id: 404; not an admin: 403
    theirs = EventFactory(tenant=other.tenant)
    assert (
        bearer_client(world.admin).post(f"/api/hub/events/{theirs.uuid}/resend").status_code == 404
    )
    assert bearer_client(world.admin).post("/api/hub/events/nope/resend").status_code == 404
    assert (
        bearer_client(world.agent).post(f"/api/hub/events/{event.uuid}/resend").status_code == 403
    )
