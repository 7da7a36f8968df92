"""Reads of the shared kernel."""

from __future__ import annotations

from django.db.models import Q

from tenants.error_codes import ErrorCode
from tenants.models import Membership, Role
from tenants.reach import store_reach


def memberships_for_user(*, user):
    return (
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__slug")
    )


def stores_reachable(*, memberships=(), user=None, api_key=None) -> list:
    """The active stores a caller reaches: every store of an API key's tenant or of a tenant
    the user administers, and the stores of the user's active store relations."""
    return store_reach().stores_reachable(memberships=memberships, user=user, api_key=api_key)


def store_ids_reached(*, access) -> frozenset | None:
    """The stores a caller reaches in its tenant, for store-owned rows read outside the store
    dialect (a store link on a customer's timeline): ``None`` means every store (an API key,
    a tenant admin), else the stores of the user's active store relations."""
    if access.api_key is not None or access.role == Role.ADMIN:
        return None
    return store_reach().user_store_ids(user=access.user, tenant=access.tenant)


def member_user_get(*, tenant, user_id):
    """The active user with id ``user_id`` (an int, or a string of digits) who is an active
    member of ``tenant``; ``None`` for anything else (never raises)."""
    from django.contrib.auth import get_user_model

    if isinstance(user_id, bool):
        return None
    if isinstance(user_id, str):
        user_id = user_id.strip()
        if not (user_id.isascii() and user_id.isdigit()) or len(user_id) > 19:
            return None
        user_id = int(user_id)
    if not isinstance(user_id, int) or not 0 < user_id < 2**63:
        return None
    return (
        get_user_model()
        .objects.filter(
            pk=user_id,
            is_active=True,
            memberships__tenant=tenant,
            memberships__is_active=True,
        )
        .first()
    )


# --- change events (tenants.events) --------------------------------------------------------------

#: the type of events about a store's link: a caller that reaches some stores only sees those
STORE_LINK_FAMILY = "store_link."


def events_visible(*, access):
    """The tenant's events the caller may read, newest first: every event for an API key or a
    tenant admin; for another member, every event except the store links of stores it has no
    active relation with (as the store dialect and the customer's history scope them)."""
    from tenants.models import Event

    qs = Event.objects.filter(tenant=access.tenant).order_by("-id")
    store_ids = store_ids_reached(access=access)
    if store_ids is not None:
        qs = qs.filter(
            ~Q(type__startswith=STORE_LINK_FAMILY)
            | Q(data__store_id__in=[str(pk) for pk in store_ids])
        )
    return qs


def events_filter(qs, *, types=(), families=(), customer_uuid=None, after=None, before=None):
    """``qs`` narrowed to ``types`` or ``families`` (prefixes such as ``customer.``), one
    customer (its public id), and ``occurred_at`` strictly after/before the given times."""
    if types or families:
        match = Q(type__in=list(types)) if types else Q()
        for family in families:
            match |= Q(type__startswith=family)
        qs = qs.filter(match)
    if customer_uuid is not None:
        qs = qs.filter(customer_uuid=customer_uuid)
    if after is not None:
        qs = qs.filter(occurred_at__gt=after)
    if before is not None:
        qs = qs.filter(occurred_at__lt=before)
    return qs


def event_get(*, access, event_id):
    """The caller's event with the public id ``event_id``: 404 for anything else (a malformed
    id, another tenant's event, a store link of a store the caller does not reach)."""
    from tenants import errors
    from tenants.ids import parse_uuid

    uid = parse_uuid(event_id)
    event = events_visible(access=access).filter(uuid=uid).first() if uid else None
    if event is None:
        raise errors.NotFound("Event not found.", code=ErrorCode.EVENT_NOT_FOUND)
    return event


# --- webhooks ---------------------------------------------------------------------------------


def webhook_endpoints_for(*, tenant):
    from tenants.models import WebhookEndpoint

    return WebhookEndpoint.objects.filter(tenant=tenant)


def webhook_endpoint_get(*, tenant, endpoint_id):
    """The tenant's endpoint; another tenant's or a malformed id is a 404, as a missing one."""
    from tenants import errors
    from tenants.ids import parse_uuid

    uid = parse_uuid(str(endpoint_id))
    endpoint = webhook_endpoints_for(tenant=tenant).filter(pk=uid).first() if uid else None
    if endpoint is None:
        raise errors.NotFound("No such webhook endpoint.")
    return endpoint


def webhook_deliveries_for(*, endpoint):
    return endpoint.deliveries.select_related("event")


def webhook_delivery_get(*, endpoint, delivery_id):
    from tenants import errors

    try:
        pk = int(str(delivery_id))
    except ValueError:
        pk = None
    delivery = (
        webhook_deliveries_for(endpoint=endpoint).filter(pk=pk).first()
        if pk is not None and 0 < pk < 2**63
        else None
    )
    if delivery is None:
        raise errors.NotFound("No such delivery.")
    return delivery


def webhook_attempts_for(*, delivery):
    return delivery.log.all()
