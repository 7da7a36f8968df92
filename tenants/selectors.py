"""Reads of the shared kernel."""

from __future__ import annotations

from tenants.models import Membership


def memberships_for_user(*, user):
    return (
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__slug")
    )
