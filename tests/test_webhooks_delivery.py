"""Webhook delivery (issue 21, items 3-5): signed per Standard Webhooks and checked with its
verifier by a real local receiver, at least once, in order per customer, retried on the
schedule, disabled on 410 or after the failure window; URL safety and secrets at rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tenants import delivery, webhooks
from tenants.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookFanout
from tenants.services import (
    webhook_delivery_resend,
    webhook_endpoint_replay,
    webhook_endpoint_update,
    webhook_event_resend,
    webhook_secret_rotate,
)
from tests.factories import EventFactory, WebhookEndpointFactory
from tests.webhook_support import PUBLIC_ADDRESS, receiving, skip_existing_events

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _outbox_after_the_fixtures(world):
    """The world's own events (its members' customers) are not these tests' deliveries."""
    skip_existing_events()


@pytest.fixture(autouse=True)
def loopback(settings):
    settings.HUB_WEBHOOKS_ALLOW_LOOPBACK = True
    return settings


def endpoint_for(receiver, tenant, **kwargs) -> WebhookEndpoint:
    endpoint = WebhookEndpointFactory(tenant=tenant, url=receiver.url, **kwargs)
    receiver.secret = endpoint.secret
    return endpoint


def come_due() -> None:
    """Time passes: every pending delivery's retry is due now (no sleeping for hours)."""
    WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())


def test_an_event_reaches_the_receiver_signed_and_shaped(world):
    with receiving() as receiver:
        endpoint = endpoint_for(receiver, world.tenant)
        event = EventFactory(
            tenant=world.tenant,
            type="customer.updated",
            data={"id": "c1", "name": "Ada"},
            previous_attributes={"name": "Ad"},
            actor={"type": "api_key", "id": "k1", "name": "Shop sync", "origin": "api:b2b"},
        )
        delivery.drain()
        assert receiver.received == [
            {
                "id": str(event.uuid),
                "type": "customer.updated",
                "tenant": "acme",
                "occurred_at": webhooks.iso(event.occurred_at),
                "customer_id": str(event.customer_uuid),
                "actor": {"type": "api_key", "id": "k1", "name": "Shop sync", "origin": "api:b2b"},
                "request_id": None,
                "data": {"id": "c1", "name": "Ada"},
                "previous_attributes": {"name": "Ad"},
            }
        ]
        headers = {k.lower(): v for k, v in receiver.requests[0].items()}
        assert headers["webhook-id"] == str(event.uuid)
        assert headers["webhook-signature"].startswith("v1,")
    row = WebhookDelivery.objects.get(endpoint=endpoint, event=event)
    assert row.status == "delivered" and row.attempts == 1 and row.last_status_code == 200
    attempt = row.log.get()
    assert (
        attempt.succeeded
        and attempt.status_code == 200
        and '"status":200' in (attempt.response_excerpt.replace(" ", ""))
    )


def test_only_matching_types_and_own_tenant(world, other):
    with receiving() as receiver:
        endpoint_for(receiver, world.tenant, event_types=["address.*", "customer.created"])
        wanted = [
            EventFactory(tenant=world.tenant, type="address.created"),
            EventFactory(tenant=world.tenant, type="customer.created"),
        ]
        EventFactory(tenant=world.tenant, type="customer.updated")
        EventFactory(tenant=other.tenant, type="customer.created")
        delivery.drain()
        assert sorted(receiver.ids()) == sorted(str(e.uuid) for e in wanted)


def test_receiver_down_then_back_everything_in_order_per_customer(world):
    """Fault 1: the receiver is down (connection refused, then 503) for an hour."""
    with receiving() as receiver:
        endpoint = endpoint_for(receiver, world.tenant)
        url = endpoint.url
        customers = [EventFactory.build().customer_uuid for _ in range(3)]
        events = [
            EventFactory(tenant=world.tenant, customer_uuid=customers[n % 3], data={"n": n})
            for n in range(12)
        ]
        # down: nothing listens on the endpoint's port
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="http://127.0.0.1:9/hook")
        delivery.drain()
        first = WebhookDelivery.objects.filter(endpoint=endpoint, status="pending")
        # only the first event of each customer was tried; the others wait behind it
        assert sorted(first.filter(attempts=1).values_list("event_id", flat=True)) == [
            e.pk for e in events[:3]
        ]
        assert not first.filter(attempts=1, next_attempt_at__lte=timezone.now()).exists()
        # then answering 503 for a while
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
        receiver.status = 503
        for _ in range(4):
            come_due()
            delivery.drain()
        assert receiver.received == [] and len(receiver.requests) == 12  # 3 customers x 4
        # back
        receiver.status = 200
        for _ in range(12):
            come_due()
            delivery.drain()
    assert len(receiver.received) == 12
    for customer in customers:
        mine = [p["data"]["n"] for p in receiver.received if p["id"] in _ids(events, customer)]
        assert mine == sorted(mine) and len(mine) == 4
    assert not WebhookDelivery.objects.exclude(status="delivered").exists()


def _ids(events, customer):
    return {str(e.uuid) for e in events if e.customer_uuid == customer}


def test_backoff_schedule_and_jitter():
    for attempts, base in enumerate(delivery.SCHEDULE, start=1):
        for _ in range(20):
            assert base * 0.8 <= delivery.retry_delay(attempts) <= base * 1.2
    assert delivery.SCHEDULE[:4] == (5, 60, 300, 1800)
    assert 36000 * 0.8 <= delivery.retry_delay(30) <= 36000 * 1.2


class Clock:
    """The pipeline's clock, moved by the test (hours pass without sleeping)."""

    def __init__(self):
        self.at = timezone.now()

    def now(self):
        return self.at


def test_receiver_500_forever_backoff_disable_notice_other_unaffected(world, monkeypatch):
    """Fault 4: one endpoint fails for 3 days, the other receives everything meanwhile."""
    clock = Clock()
    monkeypatch.setattr(delivery, "timezone", clock)
    with receiving(status=500) as bad, receiving() as good:
        failing = endpoint_for(bad, world.tenant)
        healthy = endpoint_for(good, world.tenant)
        event = EventFactory(tenant=world.tenant)
        start = clock.at
        delivery.drain()
        row = WebhookDelivery.objects.get(endpoint=failing, event=event)
        delays = []
        while row.status == "pending":
            delays.append((row.next_attempt_at - clock.at).total_seconds())
            clock.at = row.next_attempt_at
            EventFactory(tenant=world.tenant)  # life goes on for the healthy endpoint
            delivery.drain()
            row.refresh_from_db()
        assert row.status == "failed"
        assert delays[0] < 10 and 40 < delays[1] < 80 and 4 * 60 < delays[2] < 6 * 60
        assert all(d <= 12 * 3600 for d in delays) and delays[6] > 8 * 3600
        assert clock.at - start == timedelta(hours=72)  # the last attempt closes the window
        assert 10 <= row.attempts <= 16
        failing.refresh_from_db()
        assert not failing.enabled and failing.disabled_at == clock.at
        assert "72 hours" in failing.disabled_reason  # the admin's notice
        assert not WebhookAttempt.objects.filter(
            delivery__endpoint=failing, succeeded=True
        ).exists()
        # nothing else slowed: the healthy endpoint got every event, each at its first attempt
        assert len(good.received) == row.attempts
        assert not WebhookDelivery.objects.filter(endpoint=healthy).exclude(attempts=1).exists()
        # a disabled endpoint gets no new deliveries, and its pending ones wait (no attempt)
        attempts = WebhookAttempt.objects.filter(delivery__endpoint=failing).count()
        last = EventFactory(tenant=world.tenant)
        clock.at += timedelta(days=1)
        delivery.drain()
        assert len(good.received) == row.attempts + 1
        assert not WebhookDelivery.objects.filter(endpoint=failing, event=last).exists()
        assert WebhookAttempt.objects.filter(delivery__endpoint=failing).count() == attempts


def test_410_disables_the_endpoint(world):
    with receiving(status=410) as receiver:
        endpoint = endpoint_for(receiver, world.tenant)
        EventFactory(tenant=world.tenant)
        EventFactory(tenant=world.tenant)
        delivery.drain()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert WebhookAttempt.objects.filter(delivery__endpoint=endpoint).count() >= 1
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status="failed").count() >= 1


def test_events_while_disabled_are_skipped_and_replay_brings_them(world):
    with receiving() as receiver:
        endpoint = endpoint_for(receiver, world.tenant)
        webhook_endpoint_update(endpoint=endpoint, enabled=False)
        customer = EventFactory.build().customer_uuid  # one customer: replayed in order
        events = [EventFactory(tenant=world.tenant, customer_uuid=customer) for _ in range(2)]
        delivery.drain()
        webhook_endpoint_update(endpoint=endpoint, enabled=True)
        delivery.drain()
        assert receiver.received == []
        assert webhook_endpoint_replay(endpoint=endpoint, since=events[0].occurred_at) == 2
        delivery.drain()
        assert receiver.ids() == [str(e.uuid) for e in events]


def test_rotation_signs_with_both_secrets_during_the_overlap(world):
    with receiving() as receiver:
        endpoint = endpoint_for(receiver, world.tenant)
        old = receiver.secret
        endpoint, new = webhook_secret_rotate(endpoint=endpoint)
        assert new != old
        EventFactory(tenant=world.tenant)
        delivery.drain()
        headers = {k.lower(): v for k, v in receiver.requests[0].items()}
        assert len(headers["webhook-signature"].split(" ")) == 2
        body = None
        for secret in (old, new):  # a receiver that knows either secret accepts it
            receiver.secret = secret
        assert receiver.rejected == 0
        # after the overlap, only the new secret signs
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
        )
        receiver.secret = old
        EventFactory(tenant=world.tenant)
        delivery.drain()
        assert receiver.rejected == 1
        assert body is None


def test_resend_and_replay(world):
    with receiving() as receiver:
        endpoint = endpoint_for(receiver, world.tenant)
        first = EventFactory(tenant=world.tenant)
        delivery.drain()
        row = WebhookDelivery.objects.get(event=first)
        webhook_delivery_resend(delivery_obj=row)
        delivery.drain()
        assert receiver.ids() == [str(first.uuid)] * 2
        # an event from before the endpoint existed (no delivery yet) and the first again
        WebhookDelivery.objects.all().delete()
        assert webhook_endpoint_replay(endpoint=endpoint, since=first.occurred_at) == 1
        delivery.drain()
        assert receiver.ids() == [str(first.uuid)] * 3


def test_payload_is_capped(world, settings):
    settings.HUB_WEBHOOKS_MAX_PAYLOAD_BYTES = 2000
    with receiving() as receiver:
        endpoint_for(receiver, world.tenant)
        EventFactory(tenant=world.tenant, data={"notes": "x" * 5000})
        delivery.drain()
    payload = receiver.received[0]
    assert payload["truncated"] is True and payload["data"] is None


def test_fan_out_keeps_gaps_and_finds_late_commits(world):
    """An id the fan-out passed uncommitted is looked for again (gap); a late commit is
    delivered, an expired gap is forgotten."""
    endpoint = WebhookEndpointFactory(tenant=world.tenant)
    a = EventFactory(tenant=world.tenant)
    b = EventFactory(tenant=world.tenant)
    c = EventFactory(tenant=world.tenant)
    # as if b was still uncommitted when the fan-out passed: take it away and bring it back
    b_values = {"pk": b.pk, "uuid": b.uuid, "tenant": b.tenant}
    b.delete()
    delivery.fan_out()
    state = WebhookFanout.objects.get()
    assert state.position == c.pk and [g[:2] for g in state.gaps] == [[b_values["pk"]] * 2]
    EventFactory(id=b_values["pk"], uuid=b_values["uuid"], tenant=world.tenant)
    delivery.fan_out()
    assert set(WebhookDelivery.objects.values_list("event_id", flat=True)) == {
        a.pk,
        b_values["pk"],
        c.pk,
    }
    assert WebhookFanout.objects.get().gaps == []
    assert endpoint.deliveries.count() == 3
    # a gap whose transaction rolled back is forgotten once older than HUB_WEBHOOKS_GAP_SECONDS
    d = EventFactory(tenant=world.tenant)
    d.delete()
    e = EventFactory(tenant=world.tenant)
    delivery.fan_out()
    assert len(WebhookFanout.objects.get().gaps) == 1
    WebhookFanout.objects.update(gaps=[[d.pk or e.pk - 1, e.pk - 1, 0]])
    delivery.fan_out()
    assert WebhookFanout.objects.get().gaps == []


def test_secret_is_encrypted_at_rest(world):
    endpoint = WebhookEndpointFactory(tenant=world.tenant)
    row = WebhookEndpoint.objects.filter(pk=endpoint.pk).values().get()
    assert endpoint.secret not in str(row)
    assert webhooks.decrypt_secret(row["secret_encrypted"]) == endpoint.secret
    assert endpoint.secret.startswith("whsec_")
    Webhook(endpoint.secret)  # the verifier takes it as is


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://hooks.example.com/x", True),
        ("http://hooks.example.com/x", False),  # http to a public name
        ("https://127.0.0.1/x", True),  # loopback allowed by the setting
        ("http://127.0.0.1:8000/x", True),
        ("http://[::1]/x", True),
        ("https://10.0.0.5/x", False),
        ("https://192.168.1.1/x", False),
        ("https://169.254.169.254/latest/meta-data", False),
        ("https://[fd00:ec2::254]/x", False),
        ("https://100.100.100.200/x", False),
        ("https://[::ffff:10.0.0.1]/x", False),
        ("https://0.0.0.0/x", False),
        ("https://user:pw@hooks.example.com/x", False),
        ("ftp://hooks.example.com/x", False),
        ("https://hooks.example.com:99999/x", False),
        ("not a url", False),
    ],
)
def test_url_safety(url, ok):
    if ok:
        webhooks.check_url(url)
    else:
        with pytest.raises(webhooks.UnsafeUrl):
            webhooks.check_url(url)


def test_loopback_only_with_the_setting_and_rebinding_checked_at_delivery(world, settings):
    settings.HUB_WEBHOOKS_ALLOW_LOOPBACK = False
    with pytest.raises(webhooks.UnsafeUrl):
        webhooks.check_url("https://127.0.0.1/x")
    with pytest.raises(webhooks.UnsafeUrl):
        webhooks.check_url("https://localhost/x")


def test_dns_rebinding_is_refused_at_delivery(world, monkeypatch):
    answers = {"hooks.example.com": [PUBLIC_ADDRESS]}
    monkeypatch.setattr(webhooks, "resolve_host", lambda host, port: answers[host])
    endpoint = WebhookEndpointFactory(tenant=world.tenant, url="https://hooks.example.com/x")
    answers["hooks.example.com"] = ["10.0.0.7"]  # the name now points inside
    EventFactory(tenant=world.tenant)
    delivery.drain()
    attempt = WebhookAttempt.objects.get(delivery__endpoint=endpoint)
    assert attempt.status_code is None and "private" in attempt.error


def test_claim_skips_rows_another_worker_holds(world):
    endpoint = WebhookEndpointFactory(tenant=world.tenant)
    for _ in range(3):
        EventFactory(tenant=world.tenant, customer_uuid=None)
    delivery.fan_out()
    first = delivery.claim()
    assert sum(len(ids) for ids, _ in first) == 3
    assert delivery.claim() == []  # leased
    # the lease runs out (its worker died): claimed again, and the old lease delivers nothing
    WebhookDelivery.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    again = delivery.claim()
    assert sum(len(ids) for ids, _ in again) == 3
    ids, lease = first[0]
    assert delivery.deliver_claimed(ids, lease) == 0
    assert endpoint.deliveries.filter(attempts=0).count() == 3
    assert connection.vendor in ("sqlite", "postgresql")


def test_figures_for_operations(world):
    """The small functions ops reads for metrics and readiness (docs/webhooks.md)."""
    endpoint = WebhookEndpointFactory(tenant=world.tenant)
    EventFactory(tenant=world.tenant)
    assert delivery.backlog()["events_not_fanned_out"] == 1
    delivery.fan_out()
    figures = delivery.backlog()
    assert figures["pending"] == figures["due"] == 1 and figures["events_not_fanned_out"] == 0
    assert figures["oldest_undelivered_seconds"] >= 0
    WebhookDelivery.objects.filter(endpoint=endpoint).update(status="failed")
    assert delivery.backlog()["pending"] == 0
    assert delivery.attempt_counts(since=timezone.now() - timedelta(hours=1)) == {
        "attempts": 0,
        "failures": 0,
    }
    health = delivery.task_queue_health()
    assert health["oldest_ready_task_seconds"] == 0.0 and health["last_task_finished_at"] is None


def test_an_event_is_resent_to_every_endpoint_that_takes_it(world):
    """The service behind ``POST /api/hub/events/{id}/resend`` (the events API's route)."""
    with receiving() as first, receiving() as second:
        a = endpoint_for(first, world.tenant)
        endpoint_for(second, world.tenant, event_types=["address.*"])
        event = EventFactory(tenant=world.tenant, type="customer.updated")
        delivery.drain()
        assert webhook_event_resend(event=event) == 1
        delivery.drain()
        b = WebhookEndpointFactory(tenant=world.tenant, url=second.url)  # created since
        second.secret = b.secret
        assert webhook_event_resend(event=event) == 2
        delivery.drain()
    assert first.ids() == [str(event.uuid)] * 3
    assert second.ids() == [str(event.uuid)]
    assert a.deliveries.get().attempts == 3


def test_replay_in_chunks_counts_every_delivery(world, monkeypatch):
    from tenants import services

    monkeypatch.setattr(services, "REPLAY_CHUNK", 2)
    endpoint = WebhookEndpointFactory(tenant=world.tenant, event_types=["customer.*"])
    events = [EventFactory(tenant=world.tenant) for _ in range(5)]
    EventFactory(tenant=world.tenant, type="address.created")  # not the endpoint's type
    delivery.fan_out()
    WebhookDelivery.objects.filter(event=events[0]).delete()
    assert webhook_endpoint_replay(endpoint=endpoint, since=events[0].occurred_at) == 5
    assert endpoint.deliveries.filter(status="pending").count() == 5


def test_a_change_through_a_dialect_reaches_the_receiver_as_the_events_api_shows_it(world):
    """The real outbox (tenants/events.py) feeds the pipeline: a customer created through the
    b2b dialect and changed through the data dialect arrives, in order, as the events API
    shows each event."""
    from tests.conftest import bearer_client

    with receiving() as receiver:
        endpoint_for(receiver, world.tenant, event_types=["customer.*"])
        created = bearer_client(world.agent).post(
            "/api/customers", {"name": "Hooked Corp", "email": "hooked@example.com"}, format="json"
        )
        assert created.status_code == 201
        customer_id = created.json()["data"]["id"]
        changed = bearer_client(world.agent, **{"x-tenant-id": "acme"}).patch(
            f"/api/data/customer/{customer_id}", {"notes": "hooked"}, format="json"
        )
        assert changed.status_code == 200, changed.content
        delivery.drain()
    mine = [p for p in receiver.received if p["customer_id"] == customer_id]
    assert [p["type"] for p in mine][:1] == ["customer.created"]
    assert mine[-1]["type"] == "customer.updated"
    assert mine[-1]["previous_attributes"]["notes"] == ""
    for payload in mine:
        shown = bearer_client(world.admin).get(f"/api/hub/events/{payload['id']}").json()["data"]
        assert shown == payload


def test_metrics_and_readiness_see_the_webhooks(world):
    """/metrics shows the backlog (tenants/metrics.py's scrape gauges); /readyz fails when
    queued tasks are not taken (no worker)."""
    from django.test import Client
    from django_tasks_db.models import DBTaskResult

    from tenants import metrics
    from tenants.tasks import deliver_batch

    assert {g.name for g in metrics.registered_gauges()} >= {
        "hub_webhook_deliveries",
        "hub_webhook_oldest_undelivered_seconds",
        "hub_webhook_events_not_fanned_out",
    }
    WebhookEndpointFactory(tenant=world.tenant)
    EventFactory(tenant=world.tenant)
    delivery.fan_out()
    assert delivery.deliveries_gauge() == [(("pending",), 1), (("due",), 1)]
    assert delivery.events_not_fanned_out() == 0
    assert delivery.tasks_taken_check() is None
    deliver_batch.enqueue([1], "lease")
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=10))
    assert "is a hub_worker running" in delivery.tasks_taken_check()
    response = Client().get("/readyz")
    assert response.status_code == 503 and "webhook_tasks" in response.json()["failing"]


def test_a_change_through_each_dialect_reaches_a_verifying_receiver(world):
    """The README's promise: a customer changed through the data, store, peppered and b2b
    dialects reaches a local receiver, verified with standardwebhooks, as ``customer.updated``
    with the changed field's earlier value, in the order of the changes."""
    from tests.test_round_trip import Dialects

    dialects = Dialects(world)
    customer = dialects.make("b2b")
    with receiving() as receiver:
        endpoint_for(receiver, world.tenant, event_types=["customer.updated"])
        r = dialects.data.patch(
            f"/api/data/customer/{customer.uuid}", {"notes": "via data"}, format="json"
        )
        assert r.status_code == 200, r.content
        r = dialects.store.put(
            f"/customers/{customer.uuid}/price-list",
            {"priceListId": str(world.price_list.id), "name": "Renamed In Store"},
            format="json",
        )
        assert r.status_code == 200, r.content
        shown = dialects.read("peppered", customer)
        r = dialects.pep.put(
            f"/v1/{world.tenant.slug}/peppered/customer/{customer.pk}",
            {**shown, "customerFirstName": "Peppered"},
            format="json",
        )
        assert r.status_code == 200, r.content
        r = dialects.b2b.put(
            f"/api/customers/{customer.uuid}", {"name": "Renamed In B2B"}, format="json"
        )
        assert r.status_code == 200, r.content
        delivery.drain()
    mine = [p for p in receiver.received if p["customer_id"] == str(customer.uuid)]
    assert [p["type"] for p in mine] == ["customer.updated"] * 4
    changed = [set(p["previous_attributes"]) for p in mine]
    assert "notes" in changed[0]
    assert "name" in changed[1]
    assert "first_name" in changed[2]
    assert "name" in changed[3]
    assert mine[1]["previous_attributes"]["name"] != "Renamed In Store"
    assert mine[3]["previous_attributes"]["name"] == "Renamed In Store"


def test_readiness_names_a_missing_worker(world):
    """/readyz's ``worker`` check: ready while a pump was seen within a minute, or before any
    worker has run while no event has waited a minute for one; not ready otherwise."""
    from datetime import timedelta

    from django.test import Client

    from tenants.models import Event

    now = timezone.now()
    Event.objects.all().delete()
    WebhookFanout.objects.all().delete()  # a fresh install: no worker has run
    assert delivery.worker_seen_check(now) is None  # nothing waits
    EventFactory(tenant=world.tenant, occurred_at=now - timedelta(seconds=30))
    assert delivery.worker_seen_check(now) is None
    EventFactory(tenant=world.tenant, occurred_at=now - timedelta(seconds=90))
    assert "no hub_worker has run" in delivery.worker_seen_check(now)
    delivery.fan_out()  # what every pump round does: it stamps the fan-out's row
    assert delivery.worker_seen_check(timezone.now()) is None
    WebhookFanout.objects.update(updated_at=now - timedelta(minutes=5))
    assert "no hub_worker seen for" in delivery.worker_seen_check(now)
    response = Client().get("/readyz")
    assert response.status_code == 503 and "worker" in response.json()["failing"]
    WebhookFanout.objects.update(updated_at=timezone.now())
    assert delivery.worker_seen_check() is None
