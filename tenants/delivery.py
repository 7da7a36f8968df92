"""The webhook pipeline: outbox -> deliveries -> signed HTTP attempts (docs/webhooks.md).

1. ``fan_out`` reads the outbox (tenants.Event) after a stored position and writes one
   ``WebhookDelivery`` per (matching enabled endpoint, event). Writers do nothing more than
   insert their event; ids that were not committed when the fan-out passed them are kept as
   gaps and looked for again (a long transaction commits them later; a rolled-back one never).
2. ``claim`` takes due deliveries (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; a
   compare-and-set on the lease everywhere), never one whose customer has an earlier delivery
   still pending to the same endpoint, at most ``HUB_WEBHOOKS_MAX_IN_FLIGHT`` per endpoint,
   and groups them per endpoint into batches with a lease.
3. ``deliver_claimed`` (the ``deliver_batch`` task, run by any worker) signs and POSTs a
   batch concurrently, logs every attempt and settles each delivery: delivered, retried on
   the schedule, or given up; a 410 or failures for ``HUB_WEBHOOKS_DISABLE_AFTER_HOURS``
   disable the endpoint.

``tick`` runs 1 and 2 and enqueues the batches; ``manage.py hub_worker`` calls it in a loop
beside the task workers. A worker that dies mid-batch leaves its lease to expire: the next
claim takes the deliveries again (at least once).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q
from django.utils import timezone

from tenants import webhooks
from tenants.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookFanout

logger = logging.getLogger(__name__)

#: seconds before each retry (Svix's schedule): then every 10 hours until the retry window
#: (HUB_WEBHOOKS_RETRY_HOURS) closes
SCHEDULE = (5, 60, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
JITTER = 0.2
FANOUT_BATCH = 1000
MAX_GAPS = 10_000


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt, with ±20 % jitter (so that
    the deliveries that failed together do not come back together)."""
    base = SCHEDULE[min(attempts, len(SCHEDULE)) - 1]
    return base * random.uniform(1 - JITTER, 1 + JITTER)


def lease_seconds() -> float:
    """How long a claim holds: HUB_WEBHOOKS_LEASE_SECONDS, and never less than a batch can
    take (its rounds of concurrent requests, each up to the timeout), so that a live worker's
    claim is never taken over."""
    rounds = -(-settings.HUB_WEBHOOKS_BATCH // max(1, settings.HUB_WEBHOOKS_CONCURRENCY))
    floor = rounds * settings.HUB_WEBHOOKS_TIMEOUT_SECONDS + 5
    return max(settings.HUB_WEBHOOKS_LEASE_SECONDS, floor)


def retry_window() -> timedelta:
    return timedelta(hours=settings.HUB_WEBHOOKS_RETRY_HOURS)


# --- 1. fan-out -------------------------------------------------------------------------------


def matches(endpoint: WebhookEndpoint, event_type: str) -> bool:
    if not endpoint.event_types:
        return True
    for pattern in endpoint.event_types:
        if pattern == event_type or (
            pattern.endswith(".*") and event_type.startswith(pattern[:-1])
        ):
            return True
    return False


def deliveries_for(events, now) -> list[WebhookDelivery]:
    """Unsaved deliveries of ``events`` to their tenants' enabled, matching endpoints."""
    tenant_ids = {e.tenant_id for e in events}
    endpoints: dict = {}
    for endpoint in WebhookEndpoint.objects.filter(tenant_id__in=tenant_ids, enabled=True):
        endpoints.setdefault(endpoint.tenant_id, []).append(endpoint)
    until = now + retry_window()
    return [
        WebhookDelivery(
            endpoint=endpoint,
            event_id=event.pk,
            customer_uuid=event.customer_uuid,
            next_attempt_at=now,
            retry_until=until,
            created_at=now,
        )
        for event in events
        for endpoint in endpoints.get(event.tenant_id, ())
        if matches(endpoint, event.type)
    ]


EVENT_FIELDS = ("id", "tenant_id", "type", "customer_uuid")


def fan_out(*, limit: int = FANOUT_BATCH) -> int:
    """Write the deliveries of the events after the stored position (and of the gaps that
    have since committed); the number of events read. One fan-out at a time: the others skip."""
    now = timezone.now()
    with transaction.atomic():
        WebhookFanout.objects.get_or_create(pk=1)
        state = WebhookFanout.objects.select_for_update(**skip_locked()).filter(pk=1).first()
        if state is None:
            return 0  # another worker is fanning out
        events = list(
            Event.objects.filter(id__gt=state.position).order_by("id").only(*EVENT_FIELDS)[:limit]
        )
        gaps = [g for g in state.gaps if g[2] > time.time() - settings.HUB_WEBHOOKS_GAP_SECONDS]
        late = []
        if gaps:
            in_gaps = Q()
            for first, last, _ in gaps:
                in_gaps |= Q(id__gte=first, id__lte=last)
            late = list(Event.objects.filter(in_gaps).order_by("id").only(*EVENT_FIELDS)[:limit])
            gaps = remove_found(gaps, [e.pk for e in late])
        previous = state.position
        for event in events:
            # (from the start, the ids below the first event are no gap: none were written)
            if event.pk > previous + 1 and previous > 0:
                gaps.append([previous + 1, event.pk - 1, time.time()])
            previous = event.pk
        WebhookDelivery.objects.bulk_create(
            deliveries_for(late + events, now), ignore_conflicts=True, batch_size=500
        )
        if len(gaps) > MAX_GAPS:
            logger.warning("webhook fan-out: %d gaps, dropping the oldest", len(gaps))
            gaps = gaps[-MAX_GAPS:]
        state.position = previous
        state.gaps = gaps
        state.save(update_fields=["position", "gaps", "updated_at"])
    return len(events) + len(late)


def remove_found(gaps: list, found: list[int]) -> list:
    """``gaps`` without the ids ``found`` (which split a range in two)."""
    out = []
    found_set = sorted(found)
    for first, last, seen in gaps:
        start = first
        for pk in (p for p in found_set if first <= p <= last):
            if pk > start:
                out.append([start, pk - 1, seen])
            start = pk + 1
        if start <= last:
            out.append([start, last, seen])
    return out


def skip_locked() -> dict:
    return {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}


# --- 2. claim ---------------------------------------------------------------------------------


def claim(*, limit: int | None = None) -> list[tuple[list[int], str]]:
    """Take due deliveries for a worker: ``[(delivery ids of one endpoint, lease), ...]``."""
    now = timezone.now()
    limit = limit or settings.HUB_WEBHOOKS_BATCH * 10
    lease_until = now + timedelta(seconds=lease_seconds())
    earlier_pending = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        customer_uuid=OuterRef("customer_uuid"),
        status=WebhookDelivery.Status.PENDING,
        event_id__lt=OuterRef("event_id"),
    )
    in_flight = dict(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, locked_until__gt=now)
        .values("endpoint_id")
        .annotate(n=Count("id"))
        .values_list("endpoint_id", "n")
    )
    batches: dict = {}
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.filter(
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now,
                endpoint__enabled=True,
            )
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
            .exclude(Exists(earlier_pending))
            .order_by("next_attempt_at", "id")
            .select_for_update(of=("self",), **skip_locked())
            .values_list("id", "endpoint_id")[:limit]
        )
        for pk, endpoint_id in rows:
            room = settings.HUB_WEBHOOKS_MAX_IN_FLIGHT - in_flight.get(endpoint_id, 0)
            if room <= 0:
                continue
            in_flight[endpoint_id] = in_flight.get(endpoint_id, 0) + 1
            batches.setdefault(endpoint_id, []).append(pk)
        out = []
        claimable = Q(locked_until__isnull=True) | Q(locked_until__lte=now)
        for pks in batches.values():
            for start in range(0, len(pks), settings.HUB_WEBHOOKS_BATCH):
                chunk = pks[start : start + settings.HUB_WEBHOOKS_BATCH]
                lease = uuid.uuid4().hex
                # the rows are locked (PostgreSQL) or the database is (SQLite's IMMEDIATE
                # transaction); the condition is a compare-and-set besides
                WebhookDelivery.objects.filter(
                    claimable, pk__in=chunk, status=WebhookDelivery.Status.PENDING
                ).update(lease=lease, locked_until=lease_until)
                taken = list(
                    WebhookDelivery.objects.filter(pk__in=chunk, lease=lease)
                    .order_by("pk")
                    .values_list("pk", flat=True)
                )
                if taken:
                    out.append((taken, lease))
    return out


# --- 3. deliver -------------------------------------------------------------------------------


def signing_secrets(endpoint: WebhookEndpoint, now) -> list[str]:
    out = [webhooks.decrypt_secret(endpoint.secret_encrypted)]
    if endpoint.previous_secret_encrypted and endpoint.previous_secret_expires_at > now:
        out.append(webhooks.decrypt_secret(endpoint.previous_secret_encrypted))
    return out


def request_for(delivery: WebhookDelivery, now) -> tuple[str, bytes, dict]:
    event = delivery.event
    body = webhooks.payload_bytes(webhooks.event_payload(event, delivery.endpoint.tenant))
    msg_id = str(event.uuid)
    signed_at = datetime.now(UTC)  # the wall clock at sending: the receiver checks it
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": webhooks.signature_header(
            signing_secrets(delivery.endpoint, now), msg_id, signed_at, body
        ),
    }
    return delivery.endpoint.url, body, headers


def deliver_claimed(delivery_ids: list[int], lease: str) -> int:
    """Deliver the batch claimed under ``lease``: only the deliveries still held by it (a
    late duplicate of the task, whose lease was taken over, does nothing). The number sent."""
    now = timezone.now()
    renewed = WebhookDelivery.objects.filter(
        pk__in=delivery_ids, lease=lease, status=WebhookDelivery.Status.PENDING
    ).update(locked_until=now + timedelta(seconds=lease_seconds()))
    if not renewed:
        return 0
    deliveries = list(
        WebhookDelivery.objects.filter(pk__in=delivery_ids, lease=lease)
        .select_related("event", "endpoint", "endpoint__tenant")
        .order_by("id")
    )
    requests = []
    for delivery in deliveries:
        try:
            requests.append((delivery, request_for(delivery, now)))
        except webhooks.errors.DomainError as exc:  # an unreadable secret
            requests.append((delivery, exc))
    timeout = settings.HUB_WEBHOOKS_TIMEOUT_SECONDS

    def send(item):
        _, request = item
        if isinstance(request, Exception):
            return webhooks.Outcome(None, 0, error=str(request)[:255])
        url, body, headers = request
        return webhooks.post(url, body, headers, timeout=timeout)

    workers = max(1, min(len(requests), settings.HUB_WEBHOOKS_CONCURRENCY))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(send, requests))
    settle([(d, o) for (d, _), o in zip(requests, outcomes, strict=True)], lease)
    return len(deliveries)


def settle(results: list[tuple[WebhookDelivery, webhooks.Outcome]], lease: str) -> None:
    """Log the attempts of one endpoint's batch and move its deliveries on, in one
    transaction and a few statements (not a few per delivery); the endpoint's failure run
    too. Deliveries no longer held by ``lease`` (taken over after it ran out) are left to
    the worker that holds them."""
    if not results:
        return
    now = timezone.now()
    Status = WebhookDelivery.Status
    endpoint_id = results[0][0].endpoint_id
    with transaction.atomic():
        owned = set(
            WebhookDelivery.objects.filter(
                pk__in=[d.pk for d, _ in results], lease=lease, status=Status.PENDING
            )
            .select_for_update()
            .values_list("pk", flat=True)
        )
        results = [(d, o) for d, o in results if d.pk in owned]
        released = {"locked_until": None, "lease": ""}
        by_code: dict = {}
        for delivery, outcome in results:
            if outcome.succeeded:
                by_code.setdefault(outcome.status_code, []).append(delivery.pk)
        for code, pks in by_code.items():
            WebhookDelivery.objects.filter(pk__in=pks).update(
                status=Status.DELIVERED,
                delivered_at=now,
                attempts=F("attempts") + 1,
                last_status_code=code,
                **released,
            )
        failures = [(d, o) for d, o in results if not o.succeeded]
        for delivery, outcome in failures:
            fields = {"attempts": delivery.attempts + 1, "last_status_code": outcome.status_code}
            if outcome.status_code == 410 or now >= delivery.retry_until:
                fields["status"] = Status.FAILED
            else:
                # the last attempt is at the window's end, whatever the schedule says
                next_at = now + timedelta(seconds=retry_delay(delivery.attempts + 1))
                fields["next_attempt_at"] = min(next_at, delivery.retry_until)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields, **released)
        WebhookAttempt.objects.bulk_create(
            [
                WebhookAttempt(
                    delivery_id=delivery.pk,
                    attempted_at=now,
                    succeeded=outcome.succeeded,
                    status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms,
                    response_excerpt=outcome.excerpt[: WebhookAttempt.EXCERPT_CHARS],
                    error=outcome.error[:255],
                )
                for delivery, outcome in results
            ]
        )
        endpoints = WebhookEndpoint.objects.filter(pk=endpoint_id)
        if by_code:
            endpoints.filter(failing_since__isnull=False).update(failing_since=None)
        if failures:
            note_failures(endpoints, failures, now, failing_since=None if by_code else now)


def note_failures(endpoints, failures, now, *, failing_since) -> None:
    """The endpoint's failure run goes on (``failing_since`` None: a success in the same
    batch ended it); a 410, or failures for HUB_WEBHOOKS_DISABLE_AFTER_HOURS, disable it."""
    if failing_since is not None:
        endpoints.filter(failing_since__isnull=True).update(failing_since=failing_since)
    last = failures[-1][1]
    if any(o.status_code == 410 for _, o in failures):
        reason = "The endpoint answered 410 Gone."
    else:
        limit = now - timedelta(hours=settings.HUB_WEBHOOKS_DISABLE_AFTER_HOURS)
        endpoints = endpoints.filter(failing_since__lte=limit)
        reason = (
            f"Every attempt failed for {settings.HUB_WEBHOOKS_DISABLE_AFTER_HOURS:g} hours "
            f"(last: {last.status_code or last.error})."
        )
    if endpoints.filter(enabled=True).update(
        enabled=False, disabled_at=now, disabled_reason=reason[:255]
    ):
        logger.warning("webhook endpoint disabled: %s", reason)


# --- the loop ---------------------------------------------------------------------------------


def tick(*, enqueue: bool = True) -> int:
    """One round: fan out, claim, and hand the batches to the task queue (``enqueue``) or
    deliver them here. The number of batches."""
    from tenants.tasks import deliver_batch

    fan_out()
    batches = claim()
    for ids, lease in batches:
        if enqueue:
            deliver_batch.enqueue(ids, lease)
        else:
            deliver_claimed(ids, lease)
    return len(batches)


def drain(*, rounds: int = 100) -> None:
    """Tick until nothing is due (tests, and the throughput measure)."""
    for _ in range(rounds):
        if not tick(enqueue=False):
            return


# --- figures for ops (metrics and readiness; docs/webhooks.md) -------------------------------


def backlog() -> dict:
    """Pending deliveries, how many are due, and the oldest undelivered one's age in seconds."""
    now = timezone.now()
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
    figures = pending.aggregate(
        pending=Count("id"),
        due=Count("id", filter=Q(next_attempt_at__lte=now)),
        oldest=Min("created_at"),
    )
    oldest = figures.pop("oldest")
    figures["oldest_undelivered_seconds"] = (now - oldest).total_seconds() if oldest else 0.0
    figures["events_not_fanned_out"] = events_not_fanned_out()
    return figures


def events_not_fanned_out() -> int:
    """Outbox events after the fan-out's position (the fan-out's lag)."""
    state = WebhookFanout.objects.filter(pk=1).first()
    return Event.objects.filter(id__gt=state.position if state else 0).count()


def attempt_counts(*, since) -> dict:
    """Attempts since ``since``: total and failed."""
    return WebhookAttempt.objects.filter(attempted_at__gte=since).aggregate(
        attempts=Count("id"), failures=Count("id", filter=Q(succeeded=False))
    )


def task_queue_health() -> dict:
    """The task queue's readiness: the oldest ready task's age and the last finished task's
    time (a worker heartbeat: while work is due, a live worker finishes tasks)."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    ready = DBTaskResult.objects.filter(status="READY").aggregate(oldest=Min("enqueued_at"))
    last = DBTaskResult.objects.aggregate(last=Max("finished_at"))["last"]
    return {
        "oldest_ready_task_seconds": (now - ready["oldest"]).total_seconds()
        if ready["oldest"]
        else 0.0,
        "last_task_finished_at": last,
    }


#: a task queued longer than this makes the process not ready (no worker is taking tasks)
TASK_WAIT_LIMIT_SECONDS = 300
#: a pump unseen for longer than this (or outbox events waiting that long for a first one)
#: makes the process not ready
WORKER_SEEN_SECONDS = 60


def worker_seen_check(now=None) -> str | None:
    """Readiness (tenants/readiness.py): None while a ``hub_worker`` pump was seen in the last
    minute. Every pump round stamps the fan-out's row (``WebhookFanout.updated_at``), busy or
    idle, so its age is the time since a worker was last seen. Before any worker has run (a
    fresh install, a process that serves only the API in development) the process is ready
    until an outbox event has waited a minute for one."""
    from django.db import Error as DatabaseError

    now = now or timezone.now()
    limit = timedelta(seconds=WORKER_SEEN_SECONDS)
    try:
        state = WebhookFanout.objects.filter(pk=1).values_list("updated_at", flat=True).first()
        if state is None:
            oldest = Event.objects.aggregate(oldest=Min("occurred_at"))["oldest"]  # indexed
            if oldest is not None and now - oldest > limit:
                waited = (now - oldest).total_seconds()
                return f"no hub_worker has run, and change events have waited {waited:.0f} s"
            return None
    except DatabaseError:
        return None  # the database check's failure, not this one's
    if now - state > limit:
        return f"no hub_worker seen for {(now - state).total_seconds():.0f} s"
    return None


def tasks_taken_check() -> str | None:
    """Readiness (tenants/readiness.py): None while queued tasks are taken in time. A
    database that cannot be read is the ``database`` check's failure, not this one's."""
    from django.db import Error as DatabaseError

    try:
        waited = task_queue_health()["oldest_ready_task_seconds"]
    except DatabaseError:
        return None
    if waited > TASK_WAIT_LIMIT_SECONDS:
        return f"the oldest queued task has waited {waited:.0f} s: is a hub_worker running?"
    return None


def deliveries_gauge() -> list[tuple[tuple[str], int]]:
    """Metrics (tenants/metrics.py): deliveries not yet delivered, pending and due now."""
    figures = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).aggregate(
        pending=Count("id"), due=Count("id", filter=Q(next_attempt_at__lte=timezone.now()))
    )
    return [(("pending",), figures["pending"]), (("due",), figures["due"])]


def oldest_undelivered_gauge() -> float:
    oldest = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return (timezone.now() - oldest).total_seconds() if oldest else 0.0


def register_operations() -> None:
    """The webhook figures in /metrics and the task queue in /readyz (AppConfig.ready)."""
    from tenants import metrics, readiness

    metrics.register_gauge(
        "hub_webhook_deliveries",
        "Webhook deliveries not delivered yet: pending (all), due (to be tried now).",
        deliveries_gauge,
        labels=["state"],
    )
    metrics.register_gauge(
        "hub_webhook_oldest_undelivered_seconds",
        "Age of the oldest webhook delivery not delivered yet (0: none).",
        oldest_undelivered_gauge,
    )
    metrics.register_gauge(
        "hub_webhook_events_not_fanned_out",
        "Outbox events the webhook fan-out has not read yet.",
        events_not_fanned_out,
    )
    readiness.register_check("webhook_tasks", tasks_taken_check)
    readiness.register_check("worker", worker_seen_check)
