"""Change events: the one place that writes the outbox (``tenants.models.Event``).

Services call ``emit`` (or ``emit_many`` for a bulk operation) inside their transaction, with
the record after the change as ``payload(kind, record)`` builds it and, for an update,
``previous_attributes`` as ``changed(before, after)`` computes it. Nothing is written at
``emit``: the events of one service call (nested calls included) wait in the call's batch and
are written when the outermost service call ends, still inside its transaction, with one
``bulk_create`` (``service_atomic`` opens and writes the batch, tenants/transactions.py). So

- a rolled-back write leaves no event (the batch is discarded with it, and what was written is
  rolled back), a committed one always has its events;
- writing events costs one INSERT per service call whatever the number of events (batches of
  ``INSERT_BATCH`` rows for a bulk operation);
- a nested service call that fails (its savepoint rolled back, the caller carrying on) takes
  its events with it.

``collect()`` opens a batch around several service calls (the CSV import: one INSERT for the
whole file, ``flush(min_size=...)`` at row boundaries to bound the memory).

The payloads are built by the app that owns the b2b dialect's shape (``b2b/events.py``),
registered at start-up (``payload_register``): the shared kernel does not import it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from tenants.models import Event


class EventType(StrEnum):
    """Every event type, as it is written and filtered on (docs/events.md)."""

    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_DEACTIVATED = "customer.deactivated"
    CUSTOMER_REACTIVATED = "customer.reactivated"
    CUSTOMER_DELETED = "customer.deleted"
    CUSTOMER_TAGS_UPDATED = "customer.tags_updated"
    ADDRESS_CREATED = "address.created"
    ADDRESS_UPDATED = "address.updated"
    ADDRESS_DELETED = "address.deleted"
    STORE_LINK_CREATED = "store_link.created"
    STORE_LINK_DELETED = "store_link.deleted"
    STORE_LINK_PRICE_LIST_CHANGED = "store_link.price_list_changed"
    ACCOUNT_UPDATED = "account.updated"
    CONTACT_CREATED = "contact.created"
    CONTACT_UPDATED = "contact.updated"
    CONTACT_DELETED = "contact.deleted"
    ORDER_CREATED = "order.created"
    ORDER_UPDATED = "order.updated"
    ORDER_STATUS_CHANGED = "order.status_changed"
    # a merge and its undo (customers/merging.py): about the survivor, ``data`` the merge
    CUSTOMER_MERGED = "customer.merged"
    CUSTOMER_UNMERGED = "customer.unmerged"
    # An erasure (customers/privacy.py): its data carries ids only (docs/privacy.md)
    CUSTOMER_REDACTED = "customer.redacted"


#: the kind of record each type's ``data`` is (its payload builder): the type's prefix, but
#: for the tags, whose data is the customer's tag names
KIND_OF: dict[str, str] = {
    **{t.value: t.value.partition(".")[0] for t in EventType},
    EventType.CUSTOMER_TAGS_UPDATED.value: "customer_tags",
    EventType.CUSTOMER_REDACTED.value: "customer_redacted",
    EventType.CUSTOMER_MERGED.value: "merge",
    EventType.CUSTOMER_UNMERGED.value: "merge",
}

#: rows per INSERT of a bulk write (one statement per event would be the alternative)
INSERT_BATCH = 1000


# --- payloads ------------------------------------------------------------------------------------

_builders: dict[str, Callable[..., dict]] = {}
_schemas: dict[str, type] = {}


def payload_register(kind: str, builder: Callable[..., dict], *, schema: type) -> None:
    """Register the builder of the ``data`` of a record kind (``builder(record, **context)``
    returns a JSON-ready dict; it must not query the database) and the serializer that
    declares it (the events API's OpenAPI document)."""
    _builders[kind] = builder
    _schemas[kind] = schema


def payload_schema(kind: str) -> type:
    """The serializer that declares the ``data`` of ``kind``'s events."""
    return _schemas[kind]


def payload(kind: str, record, **context) -> dict:
    """The record as an event carries it (``data``)."""
    return _builders[kind](record, **context)


#: fields that move with every change and say nothing about what changed
NOT_A_CHANGE = frozenset({"updated_at"})


def changed(before: dict, after: dict, *, ignore: Iterable[str] = ()) -> dict:
    """``previous_attributes``: the earlier value of every field whose value differs (not
    ``updated_at``, nor ``ignore``); empty when nothing changed."""
    skip = NOT_A_CHANGE | set(ignore)
    return {
        name: before.get(name)
        for name, value in after.items()
        if name not in skip and before.get(name) != value
    }


# --- who made the change -------------------------------------------------------------------------


def current_actor() -> dict:
    """Who is making the change, as tenants.history records the author of a history row:
    ``{"type": "user"|"api_key"|"system", "id", "name", "origin"}``."""
    from simple_history.models import HistoricalRecords

    from tenants.history import author_fields, history_user

    author = author_fields()
    origin = author.get("history_origin") or "system"
    request = getattr(HistoricalRecords.context, "request", None)
    user = history_user(request=request)
    if user is not None:
        return {"type": "user", "id": str(user.pk), "name": user.get_username(), "origin": origin}
    if author["history_api_key_id"] is not None:
        return {
            "type": "api_key",
            "id": str(author["history_api_key_id"]),
            "name": author["history_api_key_name"],
            "origin": origin,
        }
    return {"type": "system", "id": None, "name": origin, "origin": origin}


def current_request_id() -> str:
    from simple_history.models import HistoricalRecords

    request = getattr(HistoricalRecords.context, "request", None)
    return (getattr(request, "request_id", "") or "")[:128]


# --- the batch of the running service call -------------------------------------------------------

_local = threading.local()


class Batch:
    """The events waiting to be written by the service call (or ``collect``) that owns it."""

    def __init__(self):
        self.events: list[Event] = []

    def mark(self) -> int:
        return len(self.events)

    def discard_from(self, mark: int) -> None:
        """Forget the events emitted since ``mark`` (their writes were rolled back)."""
        del self.events[mark:]

    def flush(self, *, min_size: int = 0) -> int:
        """Write the waiting events (one INSERT per ``INSERT_BATCH``), if at least
        ``min_size`` wait; returns how many were written."""
        if not self.events or len(self.events) < min_size:
            return 0
        events, self.events = coalesce(self.events), []
        actor, request_id = current_actor(), current_request_id()
        for event in events:
            event.actor = actor
            event.request_id = request_id
        Event.objects.bulk_create(events, batch_size=INSERT_BATCH)
        return len(events)


def _record_key(event: Event) -> tuple:
    data = event.data or {}
    return KIND_OF[event.type], data.get("id") or data.get("customer_id")


def coalesce(events: list[Event]) -> list[Event]:
    """One change of a record in one transaction is one event: an ``.updated`` that follows
    the same record's ``.created`` or ``.updated`` in the batch (nothing else about the
    record in between) is folded into it, which takes its ``data``; two updates keep the
    earliest value of each field that still differs (none left: the update is dropped)."""
    out: list[Event | None] = []
    open_: dict[tuple, int] = {}  # record -> position in out of its foldable event
    for event in events:
        key = _record_key(event)
        prior_at = open_.get(key)
        if event.type.endswith(".updated") and prior_at is not None:
            prior = out[prior_at]
            prior.data = event.data
            if prior.type.endswith(".updated"):
                earliest = {
                    **(event.previous_attributes or {}),
                    **(prior.previous_attributes or {}),
                }
                still = {k: v for k, v in earliest.items() if event.data.get(k) != v}
                prior.previous_attributes = still
                if not still:
                    out[prior_at] = None
                    del open_[key]
            continue
        out.append(event)
        if event.type.endswith((".created", ".updated")):
            open_[key] = len(out) - 1
        else:
            open_.pop(key, None)
    return [event for event in out if event is not None]


def current_batch() -> Batch | None:
    return getattr(_local, "batch", None)


@contextlib.contextmanager
def collect():
    """The events emitted inside wait in one batch, written at the end (inside the caller's
    transaction) with one INSERT; on an exception they are discarded. Inside another batch,
    this is that batch (its owner writes it). Yields the batch."""
    outer = current_batch()
    if outer is not None:
        mark = outer.mark()
        try:
            yield outer
        except BaseException:
            outer.discard_from(mark)
            raise
        return
    batch = _local.batch = Batch()
    try:
        yield batch
        batch.flush()
    finally:
        _local.batch = None


def event(*, tenant, type, customer_uuid=None, data, previous_attributes=None) -> Event:
    """An unsaved event (for ``emit_many``)."""
    type = EventType(type)
    return Event(
        tenant_id=getattr(tenant, "pk", tenant),
        type=type.value,
        customer_uuid=customer_uuid,
        occurred_at=timezone.now(),
        data=data,
        previous_attributes=previous_attributes,
    )


def emit(*, tenant, type, customer_uuid=None, data, previous_attributes=None) -> None:
    """Record one event of ``tenant`` (a Tenant or its id). Inside a service call it is
    written with the call's other events when the call ends; outside one, at once."""
    emit_many(
        [
            event(
                tenant=tenant,
                type=type,
                customer_uuid=customer_uuid,
                data=data,
                previous_attributes=previous_attributes,
            )
        ]
    )


def emit_about(customer, type, data: dict, previous_attributes=None) -> None:
    """``emit`` an event about ``customer`` (a customer's own record, or something of it:
    its address, account, contact or order), of the customer's tenant."""
    emit(
        tenant=customer.tenant_id,
        type=type,
        customer_uuid=customer.uuid,
        data=data,
        previous_attributes=previous_attributes,
    )


def emit_many(events: Iterable[Event]) -> None:
    """Record many events (made by ``event``): with the running call's batch, else at once
    with one INSERT per ``INSERT_BATCH``."""
    with collect() as batch:
        batch.events.extend(events)


# --- retention -----------------------------------------------------------------------------------

#: rows deleted per statement by ``events_purge``
PURGE_BATCH = 5000


def retention_days() -> int:
    return int(getattr(settings, "HUB_EVENTS_RETENTION_DAYS", 30))


def events_purge(*, now=None, days: int | None = None, batch_size: int = PURGE_BATCH) -> int:
    """Delete the events older than the retention (``HUB_EVENTS_RETENTION_DAYS``) in batches
    of ``batch_size`` (each its own short statement: no long lock on the outbox); returns how
    many were deleted. A plain function: the periodic task and ``manage.py purge_events``
    call it."""
    cutoff = (now or timezone.now()) - timedelta(days=retention_days() if days is None else days)
    deleted = 0
    while True:
        ids = list(
            Event.objects.filter(occurred_at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        # delete(), not a raw DELETE: rows that refer to an event (deliveries) go with it
        _, per_model = Event.objects.filter(id__in=ids).delete()
        deleted += per_model.get(Event._meta.label, 0)
        if len(ids) < batch_size:
            return deleted
