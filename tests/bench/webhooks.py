"""Webhook delivery throughput (docs/performance.md, "Webhook delivery").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_webhooks_bench \
        python -m tests.bench.webhooks [--events 5000] [--threads 4] [--processes 1]
        python -m tests.bench.webhooks --rate 100 --duration 60     # latency under a write rate

``make bench-webhooks`` runs it on the benchmark's database. Migrates the database, writes ``--events`` outbox rows for one tenant with one endpoint (a
local receiver in this process that answers 200 and verifies one request in 100 with
standardwebhooks; every other endpoint of that database is disabled, so that only this run's
deliveries are made), then starts ``manage.py hub_worker`` (``--processes`` of them) and times
how long until every event is delivered: fan-out, claims, the task queue, signing, HTTP and
the attempt log, end to end. Loopback only; bounded by ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Server(ThreadingHTTPServer):
    # the default listen backlog (5) drops concurrent connections' SYNs: a 1 s retry each
    request_queue_size = 128
    daemon_threads = True


ROOT = Path(__file__).resolve().parent.parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="Latency mode: write events one per transaction at this rate (events/s) while "
        "the worker runs, for --duration seconds, and report commit-to-receipt latencies.",
    )
    parser.add_argument("--duration", type=float, default=60)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["HUB_WEBHOOKS_ALLOW_LOOPBACK"] = "1"
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-webhooks-" + "k" * 40)
    import django

    django.setup()
    from django.core.management import call_command
    from standardwebhooks.webhooks import Webhook

    from tenants.models import Event, Tenant, WebhookDelivery, WebhookEndpoint, WebhookFanout
    from tenants.services import tenant_create, webhook_endpoint_create

    call_command("migrate", verbosity=0)
    received = {"count": 0, "verified": 0}
    latencies: list[float] = []
    lock = threading.Lock()
    secret_box: dict = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            arrived = time.time()
            if args.rate:
                occurred = json.loads(body)["occurred_at"].replace("Z", "+00:00")
                with lock:
                    latencies.append(arrived - datetime.fromisoformat(occurred).timestamp())
            with lock:
                received["count"] += 1
                check = received["count"] % 100 == 1
            if check:
                Webhook(secret_box["secret"]).verify(body, dict(self.headers))
                with lock:
                    received["verified"] += 1
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *a):
            pass

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()

    # a fresh tenant and endpoint; earlier runs' deliveries are left to their endpoints
    WebhookEndpoint.objects.filter(tenant__slug="bench-webhooks").delete()
    tenant = Tenant.objects.filter(slug="bench-webhooks").first() or tenant_create(
        slug="bench-webhooks", name="Bench webhooks"
    )
    WebhookEndpoint.objects.update(enabled=False, disabled_at=django.utils.timezone.now())
    endpoint, secret = webhook_endpoint_create(
        tenant=tenant, url=f"http://127.0.0.1:{server.server_address[1]}/hook"
    )
    secret_box["secret"] = secret
    import uuid

    customers = [uuid.uuid4() for _ in range(max(1, args.events // 5))]
    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if args.rate:
        latency_run(args, tenant, endpoint, before, customers, latencies, lock)
        return
    Event.objects.bulk_create(
        [
            Event(
                tenant=tenant,
                type="customer.updated",
                customer_uuid=customers[n % len(customers)],
                actor={"type": "system", "id": None, "name": "bench", "origin": "system"},
                data={"id": str(customers[n % len(customers)]), "name": f"Customer {n}"},
                previous_attributes={"name": "before"},
            )
            for n in range(args.events)
        ],
        batch_size=1000,
    )
    # the fan-out starts at the newest events (older runs' backlog is not this run's)
    WebhookFanout.objects.update_or_create(pk=1, defaults={"position": before, "gaps": []})

    env = {**os.environ, "HUB_WEBHOOKS_POLL_SECONDS": "0.05"}
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "hub_worker", "--threads", str(args.threads)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.processes)
    ]
    try:
        delivered = 0
        while time.monotonic() - started < args.timeout:
            delivered = WebhookDelivery.objects.filter(
                endpoint=endpoint, status="delivered"
            ).count()
            if delivered >= args.events:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(60)
    from django.db.models import Max, Min

    span = WebhookDelivery.objects.filter(endpoint=endpoint, status="delivered").aggregate(
        first=Min("delivered_at"), last=Max("delivered_at")
    )
    steady = (span["last"] - span["first"]).total_seconds() if span["first"] else 0
    print(
        f"steady rate={delivered / steady if steady else 0:.0f}/s "
        f"(first to last delivery, {steady:.1f} s)"
    )
    print(
        f"events={args.events} delivered={delivered} processes={args.processes} "
        f"threads={args.threads} seconds={elapsed:.1f} rate={delivered / elapsed:.0f}/s "
        f"verified={received['verified']} requests={received['count']} "
        f"(worker start-up included)"
    )


def start_workers(args) -> list:
    env = {**os.environ, "HUB_WEBHOOKS_POLL_SECONDS": "0.05"}
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "hub_worker", "--threads", str(args.threads)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.processes)
    ]


def latency_run(args, tenant, endpoint, before, customers, latencies, lock) -> None:
    """Events written one per transaction at ``--rate`` for ``--duration`` seconds while the
    worker runs; each one's receipt time minus its ``occurred_at`` (set just before its
    commit)."""
    from django.db import transaction

    from tenants.models import Event, WebhookDelivery, WebhookFanout

    WebhookFanout.objects.update_or_create(pk=1, defaults={"position": before, "gaps": []})
    workers = start_workers(args)
    time.sleep(5)  # the workers' start-up is not the pipeline's latency
    written = 0
    try:
        started = time.monotonic()
        while time.monotonic() - started < args.duration:
            time.sleep(max(0.0, started + written / args.rate - time.monotonic()))
            customer = customers[written % len(customers)]
            with transaction.atomic():
                Event.objects.create(
                    tenant=tenant,
                    type="customer.updated",
                    customer_uuid=customer,
                    actor={"type": "system", "id": None, "name": "bench", "origin": "system"},
                    data={"id": str(customer), "n": written},
                )
            written += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                WebhookDelivery.objects.filter(endpoint=endpoint, status="delivered").count()
                >= written
            ):
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(60)
    with lock:
        values = sorted(latencies)
    n = len(values)

    def pct(p: float) -> float:
        return values[min(n - 1, int(p * n))] if n else float("nan")

    within = sum(1 for v in values if v <= 2.0)
    print(
        f"rate={args.rate:g}/s for {args.duration:g} s: written={written} received={n} "
        f"p50={pct(0.5) * 1000:.0f} ms p99={pct(0.99) * 1000:.0f} ms max={values[-1] * 1000 if n else 0:.0f} ms "
        f"within 2 s={100 * within / max(1, written):.1f} %"
    )


if __name__ == "__main__":
    main()
