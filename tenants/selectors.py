"""Reads of the shared kernel."""

from __future__ import annotations

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
