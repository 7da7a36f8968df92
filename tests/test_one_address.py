"""One address, read the same everywhere (issue 17, docs/decisions/one-address.md): the
customer's default address is *the* address; peppered's address fields are it, the data
dialect marks it with ``defaultAddressId``, and b2b shows it as the ``billing_address``
unless the account links a billing address of its own."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from b2b.models import Account
from customers.models import Address, Customer
from tests.conftest import api_key_client, bearer_client, json_of
from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db

SEED_BILLING = {
    "line1": "456 Customer Blvd",
    "line2": "Floor 3",
    "city": "Customer City",
    "state": "NY",
    "postal_code": "10001",
    "country": "US",
}


class Views:
    def __init__(self, world):
        self.data = bearer_client(world.agent, **{"x-tenant-id": "acme"})
        self.pep = api_key_client(world.api_key, "bare")
        self.b2b = bearer_client(world.agent)

    def peppered(self, customer) -> dict:
        body = json_of(self.pep.get(f"/v1/acme/peppered/customer/{customer.pk}"))
        return {k: body[k] for k in ("customerAddress", "customerZip", "customerCity")}

    def data_default(self, customer) -> str | None:
        return json_of(self.data.get(f"/api/data/customer/{customer.uuid}"))["defaultAddressId"]

    def billing(self, customer) -> dict | None:
        record = json_of(self.b2b.get(f"/api/customers/{customer.uuid}"))["data"]
        listed = [
            c
            for c in json_of(self.b2b.get("/api/customers", {"limit": 100}))["data"]
            if c["id"] == str(customer.uuid)
        ]
        assert listed[0]["billing_address"] == record["billing_address"]  # list and record
        return record["billing_address"]


def test_a_b2b_billing_address_is_the_address_every_dialect_shows(world):
    views = Views(world)
    r = views.b2b.post(
        "/api/customers", {"name": "Customer XYZ", "billing_address": SEED_BILLING}, format="json"
    )
    customer = Customer.objects.get(uuid=json_of(r)["data"]["id"])
    assert views.peppered(customer) == {
        "customerAddress": "456 Customer Blvd",
        "customerZip": "10001",
        "customerCity": "Customer City",
    }
    assert views.data_default(customer) == "billing"
    assert views.billing(customer) == SEED_BILLING


def test_a_peppered_address_is_the_b2b_billing_address(world):
    views = Views(world)
    r = views.pep.post(
        "/v1/acme/peppered/customer",
        {
            "email": "jan@example.nl",
            "customerAddress": "Keizersgracht 12",
            "customerZip": "1015 CS",
            "customerCity": "Amsterdam",
            "customerCountry": "NL",
        },
        format="json",
    )
    customer = Customer.objects.get(pk=r.json()["customerId"])
    assert views.billing(customer) == {
        "line1": "Keizersgracht 12",
        "city": "Amsterdam",
        "postal_code": "1015 CS",
        "country": "NL",
    }
    assert views.data_default(customer) == "default"


def test_writing_the_billing_address_changes_the_one_address(world):
    views = Views(world)
    customer = CustomerFactory(tenant=world.tenant)
    AddressFactory(customer=customer, key="home", line1="Damrak 1", city="Amsterdam")
    views.data.patch(
        f"/api/data/customer/{customer.uuid}/default-address", {"addressId": "home"}, format="json"
    )
    r = views.b2b.put(
        f"/api/customers/{customer.uuid}", {"billing_address": {"city": "Haarlem"}}, format="json"
    )
    assert r.status_code == 200
    assert json_of(r)["data"]["billing_address"]["city"] == "Haarlem"
    assert list(Address.objects.filter(customer=customer).values_list("key", "city")) == [
        ("home", "Haarlem")
    ]
    assert views.peppered(customer)["customerCity"] == "Haarlem"
    assert Account.objects.get(customer=customer).billing_address.key == "home"
    # an account's own billing address wins over another default address
    AddressFactory(customer=customer, key="work", city="Utrecht")
    views.data.patch(
        f"/api/data/customer/{customer.uuid}/default-address", {"addressId": "work"}, format="json"
    )
    assert views.peppered(customer)["customerCity"] == "Utrecht"
    assert views.billing(customer)["city"] == "Haarlem"


def test_no_billing_address_is_no_address_anywhere(world):
    views = Views(world)
    r = views.pep.post(
        "/v1/acme/peppered/customer",
        {"email": "jan@example.nl", "customerAddress": "Keizersgracht 12"},
        format="json",
    )
    customer = Customer.objects.get(pk=r.json()["customerId"])
    r = views.b2b.put(f"/api/customers/{customer.uuid}", {"billing_address": None}, format="json")
    assert json_of(r)["data"]["billing_address"] is None
    assert views.billing(customer) is None
    assert views.data_default(customer) is None
    assert views.peppered(customer) == {
        "customerAddress": "",
        "customerZip": "",
        "customerCity": "",
    }
    assert Address.objects.filter(customer=customer, key="default").exists()  # kept, unlinked


def test_the_migration_makes_billing_addresses_the_default(world):
    customer = CustomerFactory(tenant=world.tenant)
    billing = AddressFactory(customer=customer, key="billing")
    Account.objects.create(customer=customer, billing_address=billing)
    kept = CustomerFactory(tenant=world.tenant)
    home, other = AddressFactory(customer=kept), AddressFactory(customer=kept)
    kept.default_address = home
    kept.save(update_fields=["default_address"])
    Account.objects.create(customer=kept, billing_address=other)

    sql = importlib.import_module("b2b.migrations.0008_billing_address_is_the_default").SQL
    with connection.cursor() as cursor:
        cursor.execute(sql)

    assert Customer.objects.get(pk=customer.pk).default_address_id == billing.pk
    assert Customer.objects.get(pk=kept.pk).default_address_id == home.pk
