"""Privacy (issue 22, docs/privacy.md): everything the hub holds about one customer, exported
in one bundle or erased by anonymisation, and the retention of what erased or deactivated
customers leave behind.

``customers`` may not import ``stores`` or ``b2b`` (DESIGN §7), so each app that keeps rows
about a customer joins in with a **participant** registered in its ``AppConfig.ready()``
(``register``): ``export(customer) -> dict`` adds its part to the bundle, ``erase(customer)``
removes or overwrites the personal values of its tables and of their history rows (and may
return counts for the receipt), and an optional ``purge_history(customer_pks, cutoff)``
deletes its history rows for the retention. The customers app's own participant (the record,
addresses, identifiers, tags, history, events, deliveries, idempotency records, admin log) is
the first one.

Erasure rules, the same in every participant:

- rows that only describe the person (addresses, contacts, store links, credit checks,
  identifiers) are deleted, and so are their history rows;
- rows that stay (the customer as a tombstone, the B2B account, orders: accounting keeps
  their amounts, dates, products and status) have their personal columns overwritten, and
  their history rows get the very same values, so the timeline keeps who changed what when
  and nothing personal;
- events about the customer are deleted, with their webhook deliveries and attempt logs;
  only the ``customer.redacted`` event of the erasure remains (ids only).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from rest_framework import serializers

from customers.error_codes import CustomerErrorCode
from customers.models import (
    Address,
    Customer,
    CustomerExport,
    ErasureReceipt,
    Identifier,
)
from tenants import errors, events
from tenants.events import EventType
from tenants.history import history_context
from tenants.models import Event, IdempotencyRecord, WebhookDelivery
from tenants.transactions import service_atomic

# --- the participants -------------------------------------------------------------------------


class Participant(Protocol):
    key: str

    def export(self, customer: Customer) -> dict: ...

    def erase(self, customer: Customer) -> dict[str, int] | None: ...


_PARTICIPANTS: dict[str, Any] = {}


def register(participant) -> None:
    """Add an app's participant (idempotent, by ``participant.key``). Its ``export`` and
    ``erase`` run for every export and erasure, after the customers app's own."""
    _PARTICIPANTS[participant.key] = participant


def participants() -> list:
    return [_PARTICIPANTS[key] for key in sorted(_PARTICIPANTS)]


# --- helpers the participants share -----------------------------------------------------------


def row(instance: models.Model, *, exclude=()) -> dict:
    """Every column of ``instance`` (foreign keys as their ids), JSON-ready: the bundle shows
    what is stored without describing each model's fields again."""
    out = {}
    for f in instance._meta.concrete_fields:
        if f.name in exclude:
            continue
        value = getattr(instance, f.attname)
        if isinstance(value, memoryview | bytes):
            continue
        out[f.attname] = value
    return json.loads(json.dumps(out, cls=DjangoJSONEncoder))


def history_rows(model: type[models.Model], **filters) -> list[dict]:
    """The history rows of ``model`` matching ``filters``, oldest first, as ``row``."""
    history = model.history.model
    return [
        row(record, exclude=("history_user",)) | {"history_user_id": record.history_user_id}
        for record in history.objects.filter(**filters).order_by("history_id")
    ]


def scrub_admin_log(model: type[models.Model], pks) -> int:
    """Overwrite what the admin's log says about these objects (``object_repr`` is the
    object's ``str()``, a person's name; the change message names the fields and inlines)."""
    pks = [str(pk) for pk in pks]
    if not pks:
        return 0
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    return LogEntry.objects.filter(content_type=content_type, object_id__in=pks).update(
        object_repr=f"{model._meta.verbose_name} (erased)"[:200], change_message=""
    )


def anonymise(model: type[models.Model], blank: dict, **filters) -> int:
    """Overwrite ``blank``'s columns of the rows matching ``filters`` and of their history
    rows with the same values; how many live rows."""
    changed = model.objects.filter(**filters).update(**blank)
    model.history.model.objects.filter(**filters).update(**blank)
    return changed


def delete_with_history(model: type[models.Model], **filters) -> int:
    """Delete the rows matching ``filters`` and every history row of them (also the ones
    the deletion itself records); how many live rows."""
    ids = list(model.objects.filter(**filters).values_list("pk", flat=True))
    pk_name = model._meta.pk.attname
    model.objects.filter(pk__in=ids).delete()
    history = model.history.model.objects
    history.filter(Q(**filters) | Q(**{f"{pk_name}__in": ids})).delete()
    scrub_admin_log(model, ids)
    return len(ids)


# --- the customers app's own part -------------------------------------------------------------

#: the customer's personal columns and what an erasure leaves in them
CUSTOMER_BLANK = {
    "name": "",
    "local_name": "",
    "first_name": "",
    "last_name": "",
    "salutation": "",
    "preposition": "",
    "email": "",
    "phone": "",
    "discord_id": "",
    "discord_username": "",
    "discord_display_name": "",
    "notes": "",
    "external_id": "",
    "user": None,
    "default_address": None,
}


def _customer_record(customer: Customer) -> dict:
    from customers.api.data.views import record
    from customers.api.peppered.serializers import UserResourceSerializer
    from customers.selectors import customer_tag_names

    fresh = Customer.objects.select_related("default_address").get(pk=customer.pk)
    return {
        "record": row(fresh),
        "dialects": {
            "data": json.loads(json.dumps(record(fresh), cls=DjangoJSONEncoder)),
            "peppered": json.loads(
                json.dumps(UserResourceSerializer(fresh).data, cls=DjangoJSONEncoder)
            ),
        },
        "tags": customer_tag_names(fresh),
    }


def _timeline(customer: Customer) -> list[dict]:
    from customers.api.hub.serializers import entry_output
    from customers.history import customer_timeline

    out, after = [], None
    while True:
        page = customer_timeline(customer=customer, limit=100, after=after)
        out.extend(entry_output(entry) for entry in page.entries)
        if page.next is None:
            return out
        after = page.next


def _events(customer: Customer) -> tuple[list, list]:
    from tenants.api.events import event_output
    from tenants.api.webhooks import attempt_output, delivery_output

    found = list(
        Event.objects.filter(tenant_id=customer.tenant_id, customer_uuid=customer.uuid)
        .select_related("tenant")
        .order_by("id")
    )
    deliveries = (
        WebhookDelivery.objects.filter(event__in=[e.pk for e in found])
        .select_related("event", "endpoint")
        .prefetch_related("log")
        .order_by("id")
    )
    return (
        [event_output(e, e.tenant) for e in found],
        [
            delivery_output(d)
            | {
                "endpoint_url": d.endpoint.url,
                "attempts_log": [attempt_output(a) for a in d.log.all()],
            }
            for d in deliveries
        ],
    )


class CustomersParticipant:
    key = "customers"

    def export(self, customer: Customer) -> dict:
        history = _timeline(customer)
        event_list, deliveries = _events(customer)
        return {
            **_customer_record(customer),
            "identifiers": [
                {"kind": i.kind, "value": i.value}
                for i in Identifier.objects.filter(customer=customer).order_by("kind", "value")
            ],
            "addresses": [row(a) for a in Address.objects.filter(customer=customer)],
            "history": history,
            "history_rows": {
                "customer": history_rows(Customer, id=customer.pk),
                "address": history_rows(Address, customer_id=customer.pk),
            },
            "events": event_list,
            "webhook_deliveries": deliveries,
        }

    def erase(self, customer: Customer) -> dict[str, int]:
        counts = {
            "identifiers": Identifier.objects.filter(customer=customer).delete()[0],
            "tags": Customer.tags.through.objects.filter(customer_id=customer.pk).delete()[0],
        }
        # the default address first: the customer's row refers to it
        Customer.objects.filter(pk=customer.pk).update(default_address=None)
        counts["addresses"] = delete_with_history(Address, customer_id=customer.pk)
        found = Event.objects.filter(tenant_id=customer.tenant_id, customer_uuid=customer.uuid)
        counts["webhook_deliveries"] = WebhookDelivery.objects.filter(event__in=found).count()
        counts["events"] = found.delete()[1].get(Event._meta.label, 0)
        counts["idempotency_records"] = _erase_idempotency(customer)
        counts["exports"] = CustomerExport.objects.filter(
            tenant_id=customer.tenant_id, customer_pk=customer.pk, bundle__isnull=False
        ).update(bundle=None, status=CustomerExport.Status.EXPIRED)
        return counts


#: Idempotency-Key records scanned per query (they live HUB_IDEMPOTENCY_TTL_HOURS: few)
IDEMPOTENCY_BATCH = 500


def _erase_idempotency(customer: Customer) -> int:
    """Delete the stored responses (Idempotency-Key records) that carry the customer: its
    id in the path or in the body, its email, phone, Discord or external id in the body. A
    record deleted early only lets a retry of its request run again."""
    needles = [str(customer.uuid).encode()]
    needles += [
        value.encode()
        for value in (customer.email, customer.phone, customer.discord_id, customer.external_id)
        if value
    ]
    peppered = re.compile(rb'"customerId":\s*%d\b' % customer.pk)
    in_path = re.compile(rf"/{customer.pk}(/|$)|{customer.uuid}")
    from tenants.idempotency import lock_timeout

    # a record claimed before the customer existed cannot carry it: the request that created
    # the customer claimed its record first, at most a lock timeout before (a request that
    # outlives its claim is rolled back: tenants/idempotency.py)
    since = customer.created_at - lock_timeout()
    doomed, after = [], 0
    while True:
        batch = list(
            IdempotencyRecord.objects.filter(pk__gt=after, created_at__gte=since)
            .order_by("pk")
            .values_list("pk", "path", "response_body")[:IDEMPOTENCY_BATCH]
        )
        for pk, path, body in batch:
            body = bytes(body or b"")
            if (
                in_path.search(path)
                or peppered.search(body)
                or any(needle in body for needle in needles)
            ):
                doomed.append(pk)
        if len(batch) < IDEMPOTENCY_BATCH:
            break
        after = batch[-1][0]
    return IdempotencyRecord.objects.filter(pk__in=doomed).delete()[0] if doomed else 0


register(CustomersParticipant())

# --- export -----------------------------------------------------------------------------------

README = """\
Customer hub: everything held about one customer
================================================

customer.json holds, for the customer {uuid} (customerId {pk}) of the tenant {tenant}:

- customer: the stored record ("record", every column) and the record as each API dialect
  shows it ("dialects": data, peppered, and store / b2b where the customer is there);
- identifiers, addresses, tags;
- store_links (with their price lists), b2b (account, contacts, orders with lines, credit
  checks), where the customer has them;
- history: every recorded change (who, when, what), newest first, and history_rows, the
  stored versions themselves;
- events: the change events about the customer, and webhook_deliveries, the deliveries of
  those events to the tenant's webhook endpoints (with each attempt's answer).

Times are ISO 8601 in UTC. Made {at} (format {format}).
"""

FORMAT = "customer-hub.export/1"


def export_rows(customer: Customer) -> int:
    """A quick measure of a customer's size (rows hanging from it): whether its bundle is
    built in the request or by the worker (``HUB_EXPORT_INLINE_MAX``)."""
    total = 1
    for relation in Customer._meta.related_objects:
        if relation.one_to_many and relation.related_model is not Customer:
            total += relation.related_model._base_manager.filter(
                **{relation.field.name: customer}
            ).count()
    total += Event.objects.filter(tenant_id=customer.tenant_id, customer_uuid=customer.uuid).count()
    return total


def customer_bundle_data(customer: Customer) -> dict:
    """``customer.json``: what every participant exports, merged (dialects side by side)."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "tenant": {"id": str(customer.tenant_id), "slug": customer.tenant.slug},
        "customer": {"id": str(customer.uuid), "customer_id": customer.pk},
    }
    dialects: dict[str, Any] = {}
    for participant in participants():
        part = dict(participant.export(customer))
        dialects.update(part.pop("dialects", {}))
        data.update(part)
    data["dialects"] = dialects
    # the records merged into this one are the same person's (issue 20): each tombstone keeps
    # its own columns, history and events until an unmerge or an erasure
    merged_records = []
    for tombstone in _merged_into(customer):
        event_list, deliveries = _events(tombstone)
        merged_records.append(
            {
                "record": row(tombstone),
                "history_rows": history_rows(Customer, id=tombstone.pk),
                "events": event_list,
                "webhook_deliveries": deliveries,
            }
        )
    data["merged_records"] = merged_records
    return data


def customer_bundle(customer: Customer) -> bytes:
    """The zip: ``customer.json`` and ``README.txt``."""
    data = customer_bundle_data(customer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "customer.json",
            json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        )
        archive.writestr(
            "README.txt",
            README.format(
                uuid=customer.uuid,
                pk=customer.pk,
                tenant=customer.tenant.slug,
                at=data["exported_at"],
                format=FORMAT,
            ),
        )
    return buffer.getvalue()


def inline_max() -> int:
    return int(getattr(settings, "HUB_EXPORT_INLINE_MAX", 2000))


def export_ttl() -> timedelta:
    return timedelta(hours=float(getattr(settings, "HUB_EXPORT_TTL_HOURS", 24)))


@service_atomic()
def customer_export_record(
    *, customer: Customer, via: str, status=CustomerExport.Status.DELIVERED, rows: int = 0
) -> CustomerExport:
    """Record an export (who, when, which customer) without its data."""
    now = timezone.now()
    delivered = status == CustomerExport.Status.DELIVERED
    return CustomerExport.objects.create(
        tenant_id=customer.tenant_id,
        customer_pk=customer.pk,
        customer_uuid=customer.uuid,
        actor=events.current_actor(),
        via=via,
        status=status,
        rows=rows,
        finished_at=now if delivered else None,
        delivered_at=now if delivered else None,
    )


def customer_export(*, customer: Customer, via: str) -> tuple[CustomerExport, bytes | None]:
    """Export ``customer``: small, the bundle now (and a ``delivered`` record); large (more
    than ``HUB_EXPORT_INLINE_MAX`` rows), a ``queued`` record whose bundle the worker builds
    (``export_build``) and no bundle yet."""
    rows = export_rows(customer)
    if rows > inline_max():
        job = customer_export_record(
            customer=customer, via=via, status=CustomerExport.Status.QUEUED, rows=rows
        )
        from customers.tasks import build_export

        build_export.enqueue(str(job.pk))
        return job, None
    bundle = customer_bundle(customer)
    job = customer_export_record(customer=customer, via=via, rows=rows)
    CustomerExport.objects.filter(pk=job.pk).update(size=len(bundle))
    job.size = len(bundle)
    return job, bundle


def export_build(export_id) -> str:
    """Build a queued export's bundle (the worker's task); its new status. The customer may
    have been erased meanwhile: then there is nothing to build (``failed``)."""
    job = CustomerExport.objects.filter(pk=export_id, status=CustomerExport.Status.QUEUED).first()
    if job is None:
        return "gone"
    customer = (
        Customer.objects.filter(pk=job.customer_pk, erased_at__isnull=True)
        .select_related("tenant")
        .first()
    )
    now = timezone.now()
    if customer is None:
        CustomerExport.objects.filter(pk=job.pk).update(
            status=CustomerExport.Status.FAILED, finished_at=now
        )
        return CustomerExport.Status.FAILED
    bundle = customer_bundle(customer)
    # only a still queued job takes its bundle (an erasure in between expired it)
    CustomerExport.objects.filter(pk=job.pk, status=CustomerExport.Status.QUEUED).update(
        status=CustomerExport.Status.READY,
        bundle=bundle,
        size=len(bundle),
        finished_at=now,
        expires_at=now + export_ttl(),
    )
    return CustomerExport.Status.READY


def export_download(*, export: CustomerExport) -> bytes:
    """A ready export's bundle, once: the bundle is deleted as it is handed out."""
    ready = CustomerExport.Status.READY
    bundle = (
        CustomerExport.objects.filter(pk=export.pk, status=ready)
        .values_list("bundle", flat=True)
        .first()
    )
    taken = CustomerExport.objects.filter(pk=export.pk, status=ready).update(
        status=CustomerExport.Status.DELIVERED, bundle=None, delivered_at=timezone.now()
    )
    if bundle is None or not taken:
        raise errors.Conflict(
            f"The export is {export.status}: only a ready export can be downloaded, once.",
            code=CustomerErrorCode.EXPORT_NOT_READY,
        )
    export.status = CustomerExport.Status.DELIVERED
    return bytes(bundle)


def exports_expire(*, now=None) -> int:
    """Delete the bundles of ready exports past ``expires_at`` (housekeeping)."""
    return CustomerExport.objects.filter(
        status=CustomerExport.Status.READY, expires_at__lt=now or timezone.now()
    ).update(status=CustomerExport.Status.EXPIRED, bundle=None)


def export_get(*, tenant, export_id) -> CustomerExport:
    from tenants.ids import parse_uuid

    uid = parse_uuid(export_id)
    export = CustomerExport.objects.filter(tenant=tenant, pk=uid).first() if uid else None
    if export is None:
        raise errors.NotFound("Export not found.", code=CustomerErrorCode.EXPORT_NOT_FOUND)
    return export


# --- erasure ----------------------------------------------------------------------------------


class EventCustomerRedactedSerializer(serializers.Serializer):
    """``customer.redacted``'s data: ids only (the person's values are gone)."""

    id = serializers.UUIDField(help_text="The erased customer's id (now a tombstone).")
    customer_id = serializers.IntegerField(help_text="Its integer id (peppered customerId).")
    erased_at = serializers.DateTimeField()
    receipt_id = serializers.UUIDField(help_text="The erasure receipt's id.")

    class Meta:
        ref_name = "EventCustomerRedacted"


def redacted_data(receipt: ErasureReceipt) -> dict:
    from tenants.api.dialect import iso_timestamp

    return {
        "id": str(receipt.customer_uuid),
        "customer_id": receipt.customer_pk,
        "erased_at": iso_timestamp(receipt.erased_at),
        "receipt_id": str(receipt.pk),
    }


def register_payload() -> None:
    events.payload_register(
        "customer_redacted", redacted_data, schema=EventCustomerRedactedSerializer
    )


def _add(counts: dict, more: dict | None) -> None:
    for name, n in (more or {}).items():
        counts[name] = counts.get(name, 0) + n


def _erase_user(user, *, tenant_id) -> dict:
    """Log the linked user out everywhere (sessions, tokens) and anonymise the account; a
    user who belongs to another tenant (or is a superuser) is someone else's too: refused."""
    from django.contrib.sessions.models import Session
    from knox.models import AuthToken

    from tenants.models import Membership

    if (
        user.is_superuser
        or Membership.objects.filter(user=user).exclude(tenant_id=tenant_id).exists()
    ):
        raise errors.Conflict(
            "The linked user belongs to another tenant too: erase without the user.",
            code=CustomerErrorCode.USER_SHARED,
        )
    tokens = AuthToken.objects.filter(user=user).delete()[0]
    sessions = 0
    if "db" in settings.SESSION_ENGINE:
        doomed = [
            s.pk
            for s in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
            if str(s.get_decoded().get("_auth_user_id")) == str(user.pk)
        ]
        sessions = Session.objects.filter(pk__in=doomed).delete()[0]
    user.username = f"erased-{user.pk}"
    user.email = user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(
        update_fields=["username", "email", "first_name", "last_name", "is_active", "password"]
    )
    scrub_admin_log(type(user), [user.pk])
    return {"user_tokens": tokens, "user_sessions": sessions, "users": 1}


def _erase_one(customer: Customer) -> dict:
    counts: dict[str, int] = {}
    for participant in participants():
        _add(counts, participant.erase(customer))
    return counts


@service_atomic()
def customer_erase(*, customer: Customer, include_user: bool = False) -> ErasureReceipt:
    """Erase ``customer`` by anonymisation (irreversible): every personal value, everywhere
    (docs/privacy.md), under the customer's lock, so that a writer waiting on the lock finds
    a tombstone and answers 404. The customers merged into it go with it (they are the same
    person). Returns the receipt; emits ``customer.redacted``.

    An erased customer is not found (404); refused (409): a merged-away customer (erase
    its survivor), a customer that represents a store (a participant refuses)."""
    from customers.services import customer_lock

    customer_lock(customer, tombstone=True)  # an erased customer is a 404 there
    if customer.merged_into_id is not None:
        raise errors.Conflict(
            "The customer was merged into another: erase its survivor.",
            code=CustomerErrorCode.MERGED_AWAY,
        )
    now = timezone.now()
    user = customer.user
    counts: dict[str, int] = {}
    with history_context(reason="erased"):
        people = [customer, *_merged_into(customer)]
        for person in people:
            _add(counts, _erase_one(person))
            Customer.objects.filter(pk=person.pk).update(**CUSTOMER_BLANK, erased_at=now)
            Customer.history.model.objects.filter(id=person.pk).update(**CUSTOMER_BLANK)
            scrub_admin_log(Customer, [person.pk])
        counts["customers"] = len(people)
        if include_user and user is not None:
            _add(counts, _erase_user(user, tenant_id=customer.tenant_id))
    for name, value in CUSTOMER_BLANK.items():
        setattr(customer, name, value)
    customer.erased_at = now
    receipt = ErasureReceipt.objects.create(
        tenant_id=customer.tenant_id,
        customer_pk=customer.pk,
        customer_uuid=customer.uuid,
        actor=events.current_actor(),
        erased_at=now,
        include_user=include_user and user is not None,
        counts=dict(sorted(counts.items())),
    )
    events.emit_about(customer, EventType.CUSTOMER_REDACTED, redacted_data(receipt))
    return receipt


def _merged_into(customer: Customer) -> list[Customer]:
    """Every tombstone merged into ``customer``, directly or through another tombstone."""
    found, frontier = [], [customer.pk]
    while frontier:
        more = list(Customer.objects.filter(merged_into__in=frontier))
        found.extend(more)
        frontier = [c.pk for c in more]
    return found


def receipt_get(*, tenant, customer_id) -> ErasureReceipt:
    from tenants.ids import parse_uuid

    uid = parse_uuid(customer_id)
    receipt = (
        ErasureReceipt.objects.filter(tenant=tenant, customer_uuid=uid).first() if uid else None
    )
    if receipt is None:
        raise errors.NotFound("Customer not found.", code=CustomerErrorCode.CUSTOMER_NOT_FOUND)
    return receipt


# --- retention --------------------------------------------------------------------------------


def retention_days() -> int:
    return int(getattr(settings, "HUB_ERASED_RETENTION_DAYS", 365))


#: customers handled per round of ``retention_enforce``
RETENTION_BATCH = 500


def retention_enforce(*, now=None, days: int | None = None) -> dict[str, int]:
    """Delete the history rows and events of customers erased, or deactivated (and not
    changed since), more than ``HUB_ERASED_RETENTION_DAYS`` ago, and expired bundles;
    how many rows of each. Rounds of ``RETENTION_BATCH`` customers, each in its own
    transaction (no long lock); safe to run in several processes at once."""
    from django.db import transaction

    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days() if days is None else days)
    done = {"history_rows": 0, "events": 0, "export_bundles": exports_expire(now=now)}
    gone = Q(erased_at__lt=cutoff) | Q(is_active=False, updated_at__lt=cutoff)
    after = 0
    while True:
        batch = list(
            Customer.objects.filter(gone, pk__gt=after)
            .order_by("pk")
            .values_list("pk", "uuid", "tenant_id")[:RETENTION_BATCH]
        )
        if not batch:
            return done
        pks = [pk for pk, _, _ in batch]
        with transaction.atomic():
            purgers: list[Callable] = [_purge_own_history] + [
                p.purge_history for p in participants() if hasattr(p, "purge_history")
            ]
            for purge in purgers:
                done["history_rows"] += purge(pks, cutoff)
            done["events"] += (
                Event.objects.filter(
                    customer_uuid__in=[uuid for _, uuid, _ in batch], occurred_at__lt=cutoff
                )
                .delete()[1]
                .get(Event._meta.label, 0)
            )
        if len(batch) < RETENTION_BATCH:
            return done
        after = pks[-1]


def retention_chore() -> int:
    """``retention_enforce`` as a housekeeping chore (tenants/housekeeping.py): rows deleted."""
    return sum(retention_enforce().values())


def _purge_own_history(pks: list[int], cutoff) -> int:
    n = Customer.history.model.objects.filter(id__in=pks, history_date__lt=cutoff).delete()[0]
    n += Address.history.model.objects.filter(
        customer_id__in=pks, history_date__lt=cutoff
    ).delete()[0]
    return n


def purge_history_of(model, field: str = "customer_id") -> Callable:
    """A participant's ``purge_history`` for a tracked model whose history rows name the
    customer in ``field``."""

    def purge(pks: list[int], cutoff) -> int:
        return model.history.model.objects.filter(
            **{f"{field}__in": pks, "history_date__lt": cutoff}
        ).delete()[0]

    return purge
