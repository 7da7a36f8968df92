"""Phone numbers (issue 18 item 4): one rule (tenants/phones.py) on every write path, one
stored form (E.164, with the tenant's default region for national numbers), each dialect
rendering what its seed allows, and the migration of phones stored before the rule."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from b2b.models import Contact
from customers import csv_io
from customers.models import Address, Customer
from customers.services import address_add, customer_create, customer_update, customers_import
from tenants import errors
from tenants.models import Tenant
from tenants.phones import phone_dashed, phone_e164, phone_normalize
from tenants.services import tenant_create
from tests.admin_support import admin_client, make_staff
from tests.conftest import api_key_client, bearer_client, json_of
from tests.factories import AddressFactory, ContactFactory, CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db

BAD = "call me maybe!!"


# --- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "region", "stored"),
    [
        ("0612345678", "NL", "+31612345678"),
        ("06-12345678", "NL", "+31612345678"),
        ("+31 6 1234 5678", "", "+31612345678"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("+1 201 555 0123", "NL", "+12015550123"),
        ("+44 20 7946 0000", "US", "+442079460000"),
        # seed 003's own examples: a US number without its area code
        ("+1-555-0456", "", "+15550456"),
        ("", "NL", ""),
        ("  ", "", ""),
    ],
)
def test_a_phone_is_stored_in_e164(raw, region, stored):
    assert phone_e164(raw, region=region) == stored


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        (BAD, "NL"),
        ("111", "US"),
        ("0612345678", ""),  # a national number needs the tenant's region
        ("+31 6 1234", ""),  # a Dutch mobile number is 9 digits after +31
        ("+31 699999999", ""),  # not a range of the Dutch plan
        ("1" * 65, "NL"),
    ],
)
def test_what_is_not_a_phone_number_is_refused(raw, region):
    assert phone_e164(raw, region=region) is None
    tenant = Tenant(slug="t", name="T", default_region=region)
    with pytest.raises(errors.ValidationError) as caught:
        phone_normalize(raw, tenant=tenant, field="customerPhone")
    assert list(caught.value.fields) == ["customerPhone"]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+15550456", "+1-555-0456"),
        ("+12015550123", "+1-201-555-0123"),
        ("+31612345678", "+31-6-12345678"),
        ("", ""),
        ("call me maybe!!", "call me maybe!!"),  # stored before the rule: shown as it is
    ],
)
def test_b2b_shows_phones_as_its_seed_does(stored, shown):
    assert phone_dashed(stored) == shown


def test_the_services_store_e164_and_refuse_what_is_not_a_phone(world):
    customer = customer_create(tenant=world.tenant, name="Ada", phone="06 12345678")
    assert customer.phone == "+31612345678"
    with pytest.raises(errors.ValidationError):
        customer_update(customer=customer, phone=BAD)
    customer.refresh_from_db()
    assert customer.phone == "+31612345678"
    address = address_add(customer=customer, key="home", city="Delft", phone="015 215 9111")
    assert address.phone == "+31152159111"
    with pytest.raises(errors.ValidationError):
        address_add(customer=customer, key="work", phone=BAD)
    assert not Address.objects.filter(key="work").exists()


def test_the_default_region_is_the_tenants(db):
    us = TenantFactory(slug="us-shop", default_region="US")
    nowhere = TenantFactory(slug="nowhere", default_region="")
    assert customer_create(tenant=us, name="A", phone="(201) 555-0123").phone == "+12015550123"
    with pytest.raises(errors.ValidationError):
        customer_create(tenant=nowhere, name="B", phone="0612345678")
    assert customer_create(tenant=nowhere, name="C", phone="+31612345678").phone == ("+31612345678")


# --- every dialect: stored in E.164, a 4xx in its own format naming the field ------------


def test_data_dialect(world):
    client = bearer_client(world.agent, **{"x-tenant-id": "acme"})
    body = {"discordId": "1", "discordUsername": "u", "discordDisplayName": "U"}
    r = client.post("/api/data/customer", {**body, "phone": BAD}, format="json")
    assert r.status_code == 400 and list(r.json()["errors"]) == ["phone"]
    assert not Customer.objects.filter(discord_id="1").exists()
    r = client.post("/api/data/customer", {**body, "phone": "06 12345678"}, format="json")
    assert r.status_code == 201 and r.json()["phone"] == "+31612345678"
    url = f"/api/data/customer/{r.json()['id']}"
    r = client.patch(url, {"phone": BAD}, format="json")
    assert r.status_code == 400 and list(r.json()["errors"]) == ["phone"]
    address = {
        "addressId": "home",
        "name": "U",
        "line1": "Damrak 1",
        "city": "Amsterdam",
        "state": "NH",
        "postalCode": "1012 LG",
        "country": "NL",
    }
    r = client.post(f"{url}/address", {**address, "phone": BAD}, format="json")
    assert r.status_code == 400 and list(r.json()["errors"]) == ["phone"]
    r = client.post(f"{url}/address", {**address, "phone": "020 123 4567"}, format="json")
    assert r.status_code == 200 and r.json()["addresses"][0]["phone"] == "+31201234567"


def test_peppered_dialect_accepts_what_it_renders(world):
    client = api_key_client(world.api_key, "bare")
    base = "/v1/acme/peppered/customer"
    # digits only, as its seed says, yet not a phone number: 422 in Laravel's form
    r = client.post(base, {"email": "p@example.com", "customerPhone": "0612"}, format="json")
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "customerPhone": ["The customer phone field must be a valid phone number."]
    }
    assert r.json()["message"] == "The customer phone field must be a valid phone number."
    r = client.post(base, {"email": "p@example.com", "customerPhone": "0612345678"}, format="json")
    assert r.status_code == 201
    shown = r.json()["customerPhone"]
    assert shown == "+31612345678"
    # a phone written through the b2b dialect: peppered shows it in E.164, which its own
    # "numeric" rule (digits, an optional leading +) accepts back
    b2b = bearer_client(world.agent).post(
        "/api/customers", {"name": "Corp", "phone": "+1-555-0456"}, format="json"
    )
    pk = Customer.objects.get(uuid=json_of(b2b)["data"]["id"]).pk
    r = client.get(f"{base}/{pk}")
    assert r.json()["customerPhone"] == "+15550456"
    r = client.put(f"{base}/{pk}", {"customerPhone": "+15550457"}, format="json")
    assert r.status_code == 200 and r.json()["customerPhone"] == "+15550457"


def test_b2b_dialect(world):
    client = bearer_client(world.agent)
    r = client.post("/api/customers", {"name": "Corp", "phone": BAD}, format="json")
    assert r.status_code == 400 and list(json_of(r)["error"]["details"]) == ["phone"]
    r = client.post(
        "/api/customers",
        {"name": "Corp", "contacts": [{"name": "Bob", "phone": BAD}]},
        format="json",
    )
    assert r.status_code == 400
    assert list(json_of(r)["error"]["details"]) == ["contacts.0.phone"]
    assert not Customer.objects.filter(name="Corp").exists()
    r = client.post(
        "/api/customers",
        {"name": "Corp", "phone": "+1 (201) 555-0123", "contacts": [{"name": "Bob"}]},
        format="json",
    )
    assert r.status_code == 201
    data = json_of(r)["data"]
    assert data["phone"] == "+1-201-555-0123"
    assert Customer.objects.get(uuid=data["id"]).phone == "+12015550123"
    url = f"/api/customers/{data['id']}/contacts/{data['contacts'][0]['id']}"
    r = client.put(url, {"phone": BAD}, format="json")
    assert r.status_code == 400 and list(json_of(r)["error"]["details"]) == ["phone"]
    r = client.put(url, {"phone": "0612345678"}, format="json")
    assert r.status_code == 200 and json_of(r)["data"]["phone"] == "+31-6-12345678"


def test_csv_import_names_the_line_and_the_field(world):
    text = "name,phone\nGood,0612345678\nBad,call me maybe!!\n"
    report = customers_import(
        tenant=world.tenant, rows=csv_io.read_rows(io.StringIO(text)), dry_run=False
    )
    assert [(line, message.split(":")[0]) for line, message in report.errors] == [(3, "phone")]
    assert not Customer.objects.filter(name__in=["Good", "Bad"]).exists()


def test_admin_forms_apply_the_same_rule(world):
    staff = make_staff(world.admin)
    client = admin_client(staff)
    customer = CustomerFactory(tenant=world.tenant, phone="+31611111111")
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "tags"}
    for prefix in ("addresses", "store_links", "account", "contacts"):
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
    response = client.post(url, {**data, "phone": BAD})
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.phone == "+31611111111"
    response = client.post(url, {**data, "phone": "06 22222222"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.phone == "+31622222222"


# --- the tenant's default region -----------------------------------------------------------


def test_create_tenant_sets_the_default_region(db):
    call_command("create_tenant", "dutch", "Dutch Co", "--region", "nl", stdout=io.StringIO())
    assert Tenant.objects.get(slug="dutch").default_region == "NL"
    with pytest.raises(CommandError):
        call_command("create_tenant", "nowhere", "Nowhere", "--region", "XX", stdout=io.StringIO())
    assert not Tenant.objects.filter(slug="nowhere").exists()
    with pytest.raises(errors.ValidationError):
        tenant_create(slug="zz", name="ZZ", default_region="ZZ")


def test_the_admin_sets_the_default_region(world, admin_user):
    client = admin_client(admin_user)
    url = reverse("admin:tenants_tenant_change", args=[world.tenant.pk])
    data = {
        "slug": world.tenant.slug,
        "name": world.tenant.name,
        "is_active": "on",
        "default_region": "us",
    }
    for prefix in ("memberships", "api_keys"):
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
    response = client.post(url, {**data, "default_region": "XX"})
    assert response.status_code == 200
    assert "default_region" in response.context["adminform"].form.errors
    response = client.post(url, data)
    assert response.status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.default_region == "US"


# --- phones stored before the rule ---------------------------------------------------------


def test_the_migration_normalises_stored_phones_it_can_parse(world):
    us = TenantFactory(slug="us-shop", default_region="US")
    nowhere = TenantFactory(slug="nowhere", default_region="")
    # written around the services, as before the rule
    dutch = CustomerFactory(tenant=world.tenant, phone="06 12345678")
    american = CustomerFactory(tenant=us, phone="(201) 555-0123")
    national = CustomerFactory(tenant=nowhere, phone="0612345678")  # no region: left
    junk = CustomerFactory(tenant=world.tenant, phone=BAD)  # not a phone: left
    address = AddressFactory(customer=dutch, phone="020-1234567")
    contact = ContactFactory(customer=american, phone="+1 201 555 0199")

    importlib.import_module("customers.migrations.0005_phones_in_e164").forwards(apps, None)
    importlib.import_module("b2b.migrations.0007_contact_phones_in_e164").forwards(apps, None)

    def phone(obj):
        return type(obj).objects.get(pk=obj.pk).phone

    assert phone(dutch) == "+31612345678"
    assert phone(american) == "+12015550123"
    assert phone(national) == "0612345678"
    assert phone(junk) == BAD
    assert phone(address) == "+31201234567"
    assert phone(contact) == "+12015550199"
    assert Contact.objects.get(pk=contact.pk).customer_id == american.pk
