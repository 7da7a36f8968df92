"""Webhook faults with real processes (issue 21): ``manage.py hub_worker`` in a subprocess
delivers to a real local receiver that verifies with standardwebhooks; the worker is killed
with SIGKILL in the middle of a delivery (delivered again, none lost); PostgreSQL drops the
worker's connections (it reconnects on its own)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from tests.factories import EventFactory, WebhookEndpointFactory
from tests.live_servers import ROOT, live_database_url, production_env
from tests.webhook_support import Receiver, skip_existing_events

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _outbox_after_the_fixtures(world):
    """The world's own events (its members' customers) are not these tests' deliveries."""
    skip_existing_events()


ENCRYPTION_KEY = "webhook-process-tests-" + "k" * 30


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def webhook_settings(settings):
    settings.HUB_WEBHOOKS_ALLOW_LOOPBACK = True
    settings.HUB_WEBHOOKS_ENCRYPTION_KEY = ENCRYPTION_KEY  # the worker must decrypt the secret
    return settings


class WorkerProcess:
    def __init__(self, env: dict, log_path):
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "hub_worker", "--threads", "2", "--interval", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, sig=signal.SIGKILL):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self.process.wait(30)
        self.log.close()

    def stop(self):
        self.kill(signal.SIGTERM)


def worker_env(tmp_path, **extra) -> dict:
    return production_env(
        live_database_url(tmp_path),
        HUB_WEBHOOKS_ALLOW_LOOPBACK="1",
        HUB_WEBHOOKS_ENCRYPTION_KEY=ENCRYPTION_KEY,
        HUB_WEBHOOKS_POLL_SECONDS="0.1",
        **extra,
    )


def test_a_real_worker_delivers_in_order(world, receiver, webhook_settings, tmp_path):
    endpoint = WebhookEndpointFactory(tenant=world.tenant, url=receiver.url)
    receiver.secret = endpoint.secret
    customer = EventFactory.build().customer_uuid
    events = [
        EventFactory(tenant=world.tenant, customer_uuid=customer, data={"n": n}) for n in range(20)
    ]
    worker = WorkerProcess(worker_env(tmp_path), tmp_path / "worker.log")
    try:
        assert receiver.wait_for(20), (tmp_path / "worker.log").read_text()[-2000:]
    finally:
        worker.stop()
    assert receiver.ids() == [str(e.uuid) for e in events]
    assert receiver.rejected == 0


def test_worker_killed_mid_delivery_delivers_again(world, receiver, webhook_settings, tmp_path):
    """Fault 2: SIGKILL while the receiver holds the request; a new worker delivers it again
    once the claim expires, and every event arrives."""
    endpoint = WebhookEndpointFactory(tenant=world.tenant, url=receiver.url)
    receiver.secret = endpoint.secret
    events = [EventFactory(tenant=world.tenant, customer_uuid=None) for _ in range(5)]
    receiver.hang = threading.Event()
    # one delivery per batch, one request at a time: the claim is short (timeout + 5 s)
    env = worker_env(
        tmp_path,
        HUB_WEBHOOKS_TIMEOUT_SECONDS="3",
        HUB_WEBHOOKS_BATCH="1",
        HUB_WEBHOOKS_CONCURRENCY="1",
        HUB_WEBHOOKS_LEASE_SECONDS="1",
    )
    first = WorkerProcess(env, tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 30
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.requests, (tmp_path / "first.log").read_text()[-2000:]
    finally:
        first.kill()  # SIGKILL: no cleanup, the claims stay taken
    held = len(receiver.requests)
    receiver.hang.set()
    receiver.hang = None
    assert receiver.received == []
    second = WorkerProcess(env, tmp_path / "second.log")
    try:
        assert receiver.wait_for(5, seconds=60), (tmp_path / "second.log").read_text()[-2000:]
    finally:
        second.stop()
    assert sorted(receiver.ids()) == sorted(str(e.uuid) for e in events)
    # the requests that were held when the worker died were sent again
    assert len(receiver.requests) >= 5 + held


def test_worker_reconnects_after_its_connections_are_dropped(
    world, receiver, webhook_settings, tmp_path
):
    """Fault 3, without restarting the shared PostgreSQL cluster: every backend of the
    worker is terminated (what a restart does to it); it reconnects and goes on."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite has no server to lose)")
    endpoint = WebhookEndpointFactory(tenant=world.tenant, url=receiver.url)
    receiver.secret = endpoint.secret
    EventFactory(tenant=world.tenant)
    worker = WorkerProcess(worker_env(tmp_path), tmp_path / "worker.log")
    try:
        assert receiver.wait_for(1)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert cursor.fetchone()[0] >= 1
        later = EventFactory(tenant=world.tenant)
        assert receiver.wait_for(2, seconds=60), (tmp_path / "worker.log").read_text()[-3000:]
        assert worker.process.poll() is None  # still running
    finally:
        worker.stop()
    assert receiver.ids()[-1] == str(later.uuid)
    assert os.path.exists(tmp_path / "worker.log")


def test_a_slow_receiver_does_not_hold_back_another(world, webhook_settings, tmp_path):
    """One receiver holds every request (until the worker's timeout); the other endpoint's
    events all arrive meanwhile: the slow one occupies its own batch, not the worker."""
    slow, fast = Receiver(), Receiver()
    slow.hang = threading.Event()
    try:
        slow_endpoint = WebhookEndpointFactory(tenant=world.tenant, url=slow.url)
        fast_endpoint = WebhookEndpointFactory(tenant=world.tenant, url=fast.url)
        slow.secret, fast.secret = slow_endpoint.secret, fast_endpoint.secret
        events = [EventFactory(tenant=world.tenant) for _ in range(10)]
        env = worker_env(tmp_path, HUB_WEBHOOKS_TIMEOUT_SECONDS="60")
        worker = WorkerProcess(env, tmp_path / "worker.log")
        try:
            assert fast.wait_for(10, seconds=50), (tmp_path / "worker.log").read_text()[-2000:]
            # the slow receiver holds its requests still: none of them has an answer
            assert slow.requests and slow.received == []
        finally:
            worker.kill()
        assert sorted(fast.ids()) == sorted(str(e.uuid) for e in events)
    finally:
        slow.close()
        fast.close()
