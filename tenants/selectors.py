"""Reads of the shared kernel."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Q

from tenants.models import Membership, Role


def memberships_for_user(*, user):
    return (
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__slug")
    )


def stores_reachable(*, memberships=(), user=None, api_key=None) -> list:
    """The active stores a caller reaches: every store of an API key's tenant or of a tenant
    the user administers, and the stores of the user's active store relations."""
    Store = apps.get_model("stores", "Store")  # stores depends on tenants, not the reverse
    if api_key is not None:
        return list(Store.objects.filter(tenant=api_key.tenant, is_active=True).order_by("name"))
    admin_tenants = [m.tenant_id for m in memberships if m.role == Role.ADMIN]
    return list(
        Store.objects.filter(is_active=True, tenant__in=[m.tenant_id for m in memberships])
        .filter(
            Q(tenant__in=admin_tenants) | Q(memberships__user=user, memberships__is_active=True)
        )
        .distinct()
        .order_by("name")
    )


def store_ids_reached(*, access) -> frozenset | None:
    """The stores a caller reaches in its tenant, for store-owned rows read outside the store
    dialect (a store link on a customer's timeline): ``None`` means every store (an API key,
    a tenant admin), else the stores of the user's active store relations."""
    if access.api_key is not None or access.role == Role.ADMIN:
        return None
    StoreMembership = apps.get_model("stores", "StoreMembership")
    return frozenset(
        StoreMembership.objects.filter(
            user=access.user, is_active=True, store__is_active=True, store__tenant=access.tenant
        ).values_list("store_id", flat=True)
    )


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
