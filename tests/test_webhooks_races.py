"""Claims and fan-outs racing in threads (their own connections) on both databases: two
workers never take the same delivery, and two fan-outs never write an event's deliveries
twice."""

from __future__ import annotations

import threading

import pytest

from tenants import delivery
from tenants.models import WebhookDelivery
from tests.factories import EventFactory, WebhookEndpointFactory
from tests.threads import in_background
from tests.webhook_support import skip_existing_events

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _outbox_after_the_fixtures(world):
    """The world's own events (its members' customers) are not these tests' deliveries."""
    skip_existing_events()


def test_concurrent_claims_take_disjoint_deliveries(world):
    WebhookEndpointFactory(tenant=world.tenant)
    WebhookEndpointFactory(tenant=world.tenant)
    for _ in range(60):
        EventFactory(tenant=world.tenant, customer_uuid=None)
    delivery.fan_out()
    assert WebhookDelivery.objects.count() == 120
    start = threading.Barrier(4)
    taken: list[list[int]] = []
    lock = threading.Lock()

    def claimer():
        start.wait()
        for _ in range(3):
            for ids, _lease in delivery.claim(limit=15):
                with lock:
                    taken.append(ids)

    joins = [in_background(claimer) for _ in range(4)]
    assert [e for join in joins for e in join()] == []
    ids = [pk for batch in taken for pk in batch]
    assert len(ids) == len(set(ids))  # no delivery claimed twice
    leased = WebhookDelivery.objects.exclude(lease="")
    assert leased.count() == len(ids)
    # one lease per batch, and every batch is one endpoint's
    for batch in taken:
        rows = WebhookDelivery.objects.filter(pk__in=batch)
        assert rows.values("lease").distinct().count() == 1
        assert rows.values("endpoint").distinct().count() == 1


def test_concurrent_fan_outs_write_each_delivery_once(world):
    WebhookEndpointFactory(tenant=world.tenant)
    events = [EventFactory(tenant=world.tenant) for _ in range(40)]
    start = threading.Barrier(3)

    def fanner():
        start.wait()
        for _ in range(3):
            delivery.fan_out(limit=10)

    joins = [in_background(fanner) for _ in range(3)]
    assert [e for join in joins for e in join()] == []
    delivery.fan_out()
    assert sorted(WebhookDelivery.objects.values_list("event_id", flat=True)) == [
        e.pk for e in events
    ]
