"""No data lost (issue 8, guarantee 7): multi-row writes are one transaction (a failure injected
half-way leaves nothing behind), soft-deleted customers can be restored, every migration can
be reversed. (``check --deploy`` is proved in test_foundation.py; CI also migrates every app
to zero and back on PostgreSQL, see .ci/run.)"""

from unittest import mock

import pytest
from django.apps import apps
from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from customers.models import Address, Customer
from customers.services import customer_reactivate
from tests.conftest import api_key_client, bearer_client, json_of
from tests.reliability_support import route_exists

pytestmark = pytest.mark.django_db

PROJECT_APPS = ("tenants", "customers", "pricelists", "stores", "b2b")


def _snapshot(tenant) -> dict:
    """Row counts of every model (and history table) of the project's apps."""
    counts = {}
    for app in PROJECT_APPS:
        for model in apps.get_app_config(app).get_models():
            counts[model._meta.label] = model._default_manager.count()
    return counts


def _fail_on_call(target: str, n: int):
    """Patch ``target`` so that its n-th call raises (the earlier calls run for real)."""
    module_name, _, attr = target.rpartition(".")
    module = __import__(module_name, fromlist=[attr])
    original = getattr(module, attr)
    calls = {"count": 0}

    def wrapper(*args, **kwargs):
        calls["count"] += 1
        if calls["count"] >= n:
            raise RuntimeError("injected failure half-way")
        return original(*args, **kwargs)

    return mock.patch(target, side_effect=wrapper), calls


def test_b2b_customer_with_contacts_is_all_or_nothing(world):
    if not route_exists("/api/customers", "POST"):
        pytest.skip("POST /api/customers does not exist yet")
    client = bearer_client(world.agent)
    client.raise_request_exception = False
    body = {
        "name": "Half Way Corp",
        "email": "half@example.com",
        "billing_address": {
            "line1": "1 Main St",
            "city": "Town",
            "state": "CA",
            "postal_code": "90210",
            "country": "US",
        },
        "shipping_address": {
            "line1": "2 Dock St",
            "city": "Town",
            "state": "CA",
            "postal_code": "90211",
            "country": "US",
        },
        "contacts": [
            {"name": "First", "email": "first@example.com", "is_primary": True},
            {"name": "Second", "email": "second@example.com", "is_primary": False},
        ],
        "payment_terms": "net_30",
        "currency": "USD",
        "credit_limit": 5000,
    }
    before = _snapshot(world.tenant)
    patcher, calls = _fail_on_call("b2b.services.contact_create", 2)
    with patcher:
        response = client.post("/api/customers", body, format="json")
    assert calls["count"] == 2, "the failure was not injected after the first contact"
    assert response.status_code == 500
    assert _snapshot(world.tenant) == before
    # The same request without the failure writes everything.
    assert client.post("/api/customers", body, format="json").status_code == 201


def test_store_customer_with_its_link_is_all_or_nothing(world):
    if not route_exists("/customers", "POST"):
        pytest.skip("POST /customers does not exist yet")
    client = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
    client.raise_request_exception = False
    before = _snapshot(world.tenant)
    patcher, calls = _fail_on_call("stores.services.customer_store_link", 1)
    with patcher:
        response = client.post(
            "/customers",
            {"localName": "Half shop", "defaultPriceListId": str(world.price_list.id)},
            format="json",
        )
    assert calls["count"] == 1
    assert response.status_code == 500
    assert _snapshot(world.tenant) == before


def test_peppered_customer_with_its_address_is_all_or_nothing(world):
    path = f"/v1/{world.tenant.slug}/peppered/customer"
    if not route_exists(path, "POST"):
        pytest.skip(f"POST {path} does not exist yet")
    client = api_key_client(world.api_key, "bare")
    client.raise_request_exception = False
    before = _snapshot(world.tenant)
    # The address is written, then making it the default fails.
    patcher, calls = _fail_on_call("customers.services.default_address_set", 1)
    with patcher:
        response = client.post(
            path,
            {
                "email": "half@example.com",
                "customerFirstName": "Half",
                "customerAddress": "Dorpsstraat 1",
                "customerHouseNr": "1",
                "customerZip": "1234AB",
                "customerCity": "Utrecht",
                "customerCountry": "NL",
            },
            format="json",
        )
    assert calls["count"] == 1
    assert response.status_code == 500
    assert _snapshot(world.tenant) == before
    assert not Address.objects.exists()


def test_soft_deleted_customer_is_restored_with_its_data(world):
    if not route_exists("/api/data/customer/x", "DELETE"):
        pytest.skip("DELETE /api/data/customer/{id} does not exist yet")
    client = bearer_client(world.agent, **{"x-tenant-id": "acme"})
    created = client.post(
        "/api/data/customer",
        {
            "discordId": "restore-me",
            "discordUsername": "r",
            "discordDisplayName": "Restore Me",
            "email": "restore@example.com",
        },
        format="json",
    )
    customer_id = json_of(created)["id"]
    client.post(
        f"/api/data/customer/{customer_id}/address",
        {
            "addressId": "home",
            "name": "Home",
            "line1": "1 Main St",
            "city": "Town",
            "state": "ST",
            "postalCode": "1234",
            "country": "NL",
        },
        format="json",
    )
    before = json_of(client.get(f"/api/data/customer/{customer_id}"))

    deleted = client.delete(f"/api/data/customer/{customer_id}")
    assert deleted.status_code == 200
    assert json_of(deleted)["isActive"] is False
    customer = Customer.objects.get(uuid=customer_id)
    assert customer.is_active is False
    assert Address.objects.filter(customer=customer).count() == 1  # nothing is deleted

    customer_reactivate(customer=customer)
    after = json_of(client.get(f"/api/data/customer/{customer_id}"))
    assert after["isActive"] is True
    ignore = {"updatedAt", "isActive"}
    assert {k: v for k, v in after.items() if k not in ignore} == {
        k: v for k, v in before.items() if k not in ignore
    }
    # The history keeps the deactivation and the restoration.
    flags = list(customer.history.order_by("history_id").values_list("is_active", flat=True))
    assert flags[-2:] == [False, True]


def test_every_migration_operation_is_reversible():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    checked = 0
    for (app_label, name), migration in loader.disk_migrations.items():
        if app_label not in PROJECT_APPS:
            continue
        for operation in migration.operations:
            checked += 1
            assert operation.reversible, f"{app_label}.{name}: {operation.describe()}"
            if isinstance(operation, migrations.RunPython):
                assert operation.reverse_code is not None, f"{app_label}.{name}"
            if isinstance(operation, migrations.RunSQL):
                assert operation.reverse_sql is not None, f"{app_label}.{name}"
    assert checked > 0
