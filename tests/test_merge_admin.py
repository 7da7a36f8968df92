"""The back-office's merge screen and merge history (customers/admin_merge.py): agents and
admins merge and undo, viewers do not; another tenant's customers are out of reach."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Customer, Merge
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_agent_merges_from_the_360_page_and_undoes(world):
    customer = CustomerFactory(tenant=world.tenant, name="Ada Lovelace", salutation="")
    other = CustomerFactory(tenant=world.tenant, name="Ada L.", salutation="Ms")
    client = logged_in(world.agent)
    page = client.get(reverse("admin:customers_customer_360", args=[customer.pk]))
    start = reverse("admin:customers_merge_start", args=[customer.pk])
    assert start in page.content.decode()

    screen = client.get(start, {"other": "Ada L."})
    assert screen.status_code == 200
    body = screen.content.decode()
    assert "merge-fields" in body and "only the merged record has a value" in body

    done = client.post(
        start,
        {"other": str(other.uuid), "keep": "this", "field_name": "merged", "action": "merge"},
    )
    merge = Merge.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("admin:customers_merge_change", args=[merge.pk])
    assert (merge.survivor_id, merge.merged_id) == (customer.pk, other.pk)
    assert merge.fields == {"name": "merged"}
    assert merge.actor["name"] == world.agent.username and merge.actor["origin"] == "admin"
    customer.refresh_from_db()
    assert customer.name == "Ada L." and customer.salutation == "Ms"

    history = client.get(reverse("admin:customers_merge_changelist"))
    assert history.status_code == 200 and "Ada L." in history.content.decode()
    undo = reverse("admin:customers_merge_undo", args=[merge.pk])
    assert "Yes, undo the merge" in client.get(undo).content.decode()
    assert client.post(undo).status_code == 302
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by["name"] == world.agent.username
    assert Customer.objects.get(pk=other.pk).merged_into_id is None


def test_a_viewer_may_not_merge_nor_undo(world):
    customer, other = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    viewer = logged_in(world.viewer)
    page = viewer.get(reverse("admin:customers_customer_360", args=[customer.pk]))
    start = reverse("admin:customers_merge_start", args=[customer.pk])
    assert page.status_code == 200 and start not in page.content.decode()
    assert viewer.get(start, {"other": str(other.uuid)}).status_code == 403
    assert viewer.post(start, {"other": str(other.uuid), "action": "merge"}).status_code == 403
    assert not Merge.objects.exists()
    assert viewer.get(reverse("admin:customers_merge_changelist")).status_code == 403


def test_another_tenants_customers_are_out_of_reach(world, other):
    theirs = CustomerFactory(tenant=other.tenant)
    ours = CustomerFactory(tenant=world.tenant)
    client = logged_in(world.agent)
    assert client.get(reverse("admin:customers_merge_start", args=[theirs.pk])).status_code == 404
    screen = client.get(
        reverse("admin:customers_merge_start", args=[ours.pk]), {"other": str(theirs.uuid)}
    )
    assert "merge-fields" not in screen.content.decode()
    assert "merge-none" in screen.content.decode()


def test_the_customer_list_and_its_export_leave_tombstones_out(world):
    survivor, merged = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    client = logged_in(world.admin)
    changelist = reverse("admin:customers_customer_changelist")
    before = client.get(changelist).context["cl"].result_count
    client.post(
        reverse("admin:customers_merge_start", args=[survivor.pk]),
        {"other": str(merged.uuid), "action": "merge"},
    )
    assert Merge.objects.filter(merged=merged).exists()
    listed = client.get(changelist).context["cl"]
    assert listed.result_count == before - 1
    assert merged.pk not in {c.pk for c in listed.result_list}
    export = client.get(reverse("admin:customers_customer_export"))
    body = b"".join(export.streaming_content).decode()
    assert str(merged.uuid) not in body and str(survivor.uuid) in body
    # the tombstone's own 360° page stays reachable (from the merge history)
    page = client.get(reverse("admin:customers_customer_360", args=[merged.pk]))
    assert page.status_code == 200 and 'id="c360-merged"' in page.content.decode()
    assert reverse("admin:customers_merge_start", args=[merged.pk]) not in page.content.decode()
