"""Helpers of the back-office tests: tenant staff users and logged-in admin clients."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.test import Client

from stores.management.commands.demo import staff_group


def make_staff(user):
    """``user`` (an admin member of its tenant) as tenant staff: is_staff, in "Tenant staff"."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    group = Group.objects.filter(name="Tenant staff").first() or staff_group()
    user.groups.add(group)
    return user


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def changelist_pks(response) -> set:
    assert response.status_code == 200, response.status_code
    return {obj.pk for obj in response.context["cl"].result_list}
