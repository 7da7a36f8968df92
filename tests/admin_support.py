"""Helpers of the back-office tests: tenant staff users and logged-in admin clients."""

from __future__ import annotations

from django.test import Client


def make_staff(user):
    """``user``, a member of its tenant, as the back-office sees it: the membership
    services made it staff, in its role's group (tenants/roles.py); nothing is set here."""
    user.refresh_from_db()
    assert user.is_staff, f"{user} has no active membership"
    return user


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def changelist_pks(response) -> set:
    assert response.status_code == 200, response.status_code
    return {obj.pk for obj in response.context["cl"].result_list}
