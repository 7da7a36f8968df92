"""The worker's periodic chores (tenants/housekeeping.py): expired change events and
Idempotency-Key records are deleted by every pumping hub_worker, with no cron job."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from tenants import delivery, housekeeping
from tenants.management.commands.hub_worker import Command
from tenants.models import Event, IdempotencyRecord
from tests.factories import EventFactory, TenantFactory


def _record(*, expires_in: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        scope="test",
        key=f"k{IdempotencyRecord.objects.count()}",
        method="POST",
        path="/api/customers",
        request_fingerprint="f",
        expires_at=timezone.now() + expires_in,
    )


def _aged_world(settings):
    settings.HUB_EVENTS_RETENTION_DAYS = 30
    tenant = TenantFactory()
    old = EventFactory(tenant=tenant, occurred_at=timezone.now() - timedelta(days=31))
    fresh = EventFactory(tenant=tenant, occurred_at=timezone.now() - timedelta(days=29))
    expired = _record(expires_in=timedelta(hours=-1))
    live = _record(expires_in=timedelta(hours=1))
    return old, fresh, expired, live


def test_housekeeping_deletes_what_outlived_its_retention_and_nothing_else(db, settings):
    _old, fresh, _expired, live = _aged_world(settings)
    assert housekeeping.housekeeping() == {
        "events": 1,
        "idempotency_records": 1,
        "privacy_retention": 0,
    }
    assert list(Event.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [live.pk]
    assert housekeeping.housekeeping() == {
        "events": 0,
        "idempotency_records": 0,
        "privacy_retention": 0,
    }


def test_the_schedule_is_due_at_once_then_every_period():
    now = [1000.0]
    schedule = housekeeping.Schedule(period=3600, clock=lambda: now[0])
    assert schedule.due()
    assert not schedule.due()
    now[0] += 3599
    assert not schedule.due()
    now[0] += 1
    assert schedule.due()
    assert not schedule.due()


@pytest.mark.django_db(transaction=True)
def test_the_worker_pump_runs_the_chores(settings, monkeypatch):
    """hub_worker's pump thread, as `make run` and the systemd unit start it: its first round
    purges; the rounds after it within the period do not."""
    old, fresh, expired, live = _aged_world(settings)
    stop = threading.Event()
    rounds = []
    later = []

    def one_tick(**kwargs):
        rounds.append(Event.objects.filter(pk=old.pk).exists())
        if len(rounds) == 1:  # an event that expired since: kept until the next period
            later.append(EventFactory(occurred_at=timezone.now() - timedelta(days=40)))
        else:
            stop.set()
        return 1  # busy: no wait between rounds

    monkeypatch.setattr(delivery, "tick", one_tick)
    Command().pump(stop, interval=0)
    assert rounds == [False, False]  # purged before the first round's delivery work
    assert not IdempotencyRecord.objects.filter(pk=expired.pk).exists()
    assert Event.objects.filter(pk=fresh.pk).exists()
    assert Event.objects.filter(pk=later[0].pk).exists()
    assert IdempotencyRecord.objects.filter(pk=live.pk).exists()
