"""The 360 page's privacy actions (customers/admin_privacy.py): who sees and may use them,
the export download (recorded), the erasure's confirmation page."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from customers.models import Customer, CustomerExport, ErasureReceipt
from tests.admin_support import admin_client, make_staff
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def urls(customer) -> tuple[str, str, str]:
    return (
        reverse("admin:customers_customer_360", args=[customer.pk]),
        reverse("admin:customers_customer_privacy_export", args=[customer.pk]),
        reverse("admin:customers_customer_privacy_erase", args=[customer.pk]),
    )


def test_each_role_sees_what_it_may_do(world):
    customer = CustomerFactory(tenant=world.tenant)
    page, export, erase = urls(customer)
    for user, sees_export, sees_erase in (
        (world.admin, True, True),
        (world.agent, True, False),
        (world.viewer, False, False),
    ):
        client = admin_client(make_staff(user))
        html = client.get(page).content.decode()
        assert ('id="c360-privacy-export"' in html) is sees_export, user
        assert ('id="c360-privacy-erase"' in html) is sees_erase, user
        assert (client.post(export).status_code == 200) is sees_export, user
        assert (client.get(erase).status_code == 200) is sees_erase, user
        if not sees_erase:  # (the admin's erasure: test_erasure_asks_for_confirmation…)
            assert client.post(erase, {"confirm": "yes"}).status_code == 403
            customer.refresh_from_db()
            assert customer.erased_at is None


def test_another_tenants_customer_is_not_found(world, other):
    theirs = CustomerFactory(tenant=other.tenant)
    client = admin_client(make_staff(world.admin))
    _, export, erase = urls(theirs)
    assert client.post(export).status_code == 404
    assert client.post(erase, {"confirm": "yes"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.erased_at is None


def test_the_admin_export_is_the_bundle_and_is_recorded(world):
    customer = CustomerFactory(tenant=world.tenant, email="adminexport@example.org")
    client = admin_client(make_staff(world.agent))
    _, export, _ = urls(customer)
    assert client.get(export).status_code == 403  # a POST (CSRF-protected), not a link
    response = client.post(export)
    assert response["Content-Type"] == "application/zip"
    raw = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        data = json.loads(archive.read("customer.json"))
    assert data["record"]["email"] == "adminexport@example.org"
    record = CustomerExport.objects.get()
    assert (record.via, record.actor["name"], record.bundle) == (
        "admin",
        world.agent.username,
        None,
    )


def test_erasure_asks_for_confirmation_then_erases(world):
    customer = CustomerFactory(tenant=world.tenant, email="adminerase@example.org")
    client = admin_client(make_staff(world.admin))
    _, _, erase = urls(customer)
    page = client.get(erase)
    assert b"This cannot be undone" in page.content
    # a POST without the confirmation shows the page again
    assert client.post(erase, {}).status_code == 200
    customer.refresh_from_db()
    assert customer.erased_at is None
    response = client.post(erase, {"confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:customers_customer_changelist")
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.erased_at is not None and customer.email == ""
    assert ErasureReceipt.objects.get().actor["name"] == world.admin.username
    # a tombstone offers nothing more
    assert client.get(erase).status_code == 403
    html = client.get(urls(customer)[0]).content.decode()
    assert 'id="c360-privacy-erased"' in html and "c360-privacy-export" not in html
