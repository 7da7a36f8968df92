"""The back-office's webhook pages: tenant admins only, the secret shown once, rotate, replay
since, enable/disable, the disabled notice, deliveries with their attempts and "resend"."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tenants import delivery
from tenants.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.services import webhook_endpoint_update
from tests.admin_support import admin_client, changelist_pks
from tests.factories import EventFactory, WebhookEndpointFactory
from tests.webhook_support import skip_existing_events

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox_after_the_fixtures(world):
    """The world's own events (its members' customers) are not these tests' deliveries."""
    skip_existing_events()


def url(name, *args):
    return reverse(f"admin:tenants_{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admin_adds_an_endpoint_and_sees_the_secret_once(world):
    client = admin_client(world.admin)
    response = client.post(
        url("webhookendpoint_add"),
        {
            "tenant": world.tenant.pk,
            "url": "https://hooks.example.com/in",
            "description": "ERP",
            "event_types": '["customer.*"]',
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    endpoint = WebhookEndpoint.objects.get()
    notes = messages_of(response)
    assert any("whsec_" in m for m in notes)
    client.get(url("webhookendpoint_changelist"))  # the page that shows the message once
    page = client.get(url("webhookendpoint_change", endpoint.pk)).content.decode()
    assert "whsec_" not in page
    # a private URL is refused with the service's message
    response = client.post(
        url("webhookendpoint_add"),
        {"tenant": world.tenant.pk, "url": "https://10.0.0.1/in", "event_types": "[]"},
    )
    assert response.status_code == 200 and "private" in response.content.decode()


def test_rotate_replay_and_disabled_notice(world):
    client = admin_client(world.admin)
    endpoint = WebhookEndpointFactory(tenant=world.tenant)
    event = EventFactory(tenant=world.tenant)
    webhook_endpoint_update(endpoint=endpoint, enabled=False)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_reason="The endpoint answered 410 Gone."
    )
    page = client.get(url("webhookendpoint_change", endpoint.pk)).content.decode()
    assert "Disabled since" in page and "410 Gone" in page
    response = client.post(
        url("webhookendpoint_change", endpoint.pk),
        {
            "url": endpoint.url,
            "description": "",
            "event_types": "[]",
            "enabled": "on",
            "rotate_secret": "on",
            "replay_since": event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    notes = messages_of(response)
    assert any("whsec_" in m for m in notes) and any("queued again" in m for m in notes)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.previous_secret_encrypted
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event=event).exists()


def test_deliveries_with_attempts_and_resend(world, settings):
    settings.HUB_WEBHOOKS_ALLOW_LOOPBACK = True
    client = admin_client(world.admin)
    endpoint = WebhookEndpointFactory(tenant=world.tenant, url="http://127.0.0.1:9/none")
    EventFactory(tenant=world.tenant)
    delivery.drain()
    row = WebhookDelivery.objects.get(endpoint=endpoint)
    page = client.get(url("webhookdelivery_change", row.pk)).content.decode()
    assert WebhookAttempt.objects.get(delivery=row).error[:20] in page
    WebhookDelivery.objects.filter(pk=row.pk).update(status="failed")
    response = client.post(
        url("webhookdelivery_changelist"),
        {"action": "resend", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == "pending"


def test_only_tenant_admins_and_own_tenant(world, other):
    mine = WebhookEndpointFactory(tenant=world.tenant)
    theirs = WebhookEndpointFactory(tenant=other.tenant)
    assert changelist_pks(admin_client(world.admin).get(url("webhookendpoint_changelist"))) == {
        mine.pk
    }
    assert admin_client(world.admin).get(url("webhookendpoint_change", theirs.pk)).status_code in (
        302,
        404,
    )
    for user in (world.agent, world.viewer):
        client = admin_client(user)
        assert client.get(url("webhookendpoint_changelist")).status_code == 403
        assert client.get(url("webhookdelivery_changelist")).status_code == 403
