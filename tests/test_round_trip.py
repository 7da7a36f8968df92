"""Round trips (issue 17): each dialect reads a record made through each dialect (and the
CSV import), sends it back unchanged with its own update call, and gets 200 with nothing
changed: every dialect reads the very same record afterwards, ``updatedAt`` included.

The update calls: data ``PATCH``, store ``PUT …/price-list`` (with the price list and name
the store shows: its only update call), peppered ``PUT``, b2b ``PUT``. The store dialect
sees only the customers linked to its store, so every record is linked to it, with a price
list (its update call needs one).
"""

from __future__ import annotations

import io
import itertools

import pytest

from customers import csv_io
from customers.models import Address, Customer
from customers.services import customers_import
from stores.services import customer_store_link
from tests.conftest import api_key_client, bearer_client, json_of
from tests.factories import ClientTypeFactory

pytestmark = pytest.mark.django_db

DIALECTS = ["data", "store", "peppered", "b2b"]
ORIGINS = [*DIALECTS, "import"]
CASES = list(itertools.product(ORIGINS, DIALECTS))
CASE_IDS = [f"made-by-{origin}-sent-back-by-{dialect}" for origin, dialect in CASES]


class Dialects:
    def __init__(self, world):
        self.world = world
        self.data = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})
        self.store = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
        self.pep = api_key_client(world.api_key, "bare")
        self.b2b = bearer_client(world.agent)
        self.slug = world.tenant.slug
        self.counter = itertools.count(1)

    # --- made by ... ----------------------------------------------------------------------
    def make(self, origin: str) -> Customer:
        n = next(self.counter)
        customer = getattr(self, f"make_{origin}")(n)
        customer_store_link(customer=customer, store=self.world.store, price_list=None)
        link = customer.store_links.get(store=self.world.store)
        if link.price_list_id is None:
            link.price_list = self.world.price_list
            link.save(update_fields=["price_list"])
        return Customer.objects.get(pk=customer.pk)

    def make_data(self, n: int) -> Customer:
        r = self.data.post(
            "/api/data/customer",
            {
                "discordId": f"4400{n}",
                "discordUsername": f"gamer{n}",
                "discordDisplayName": f"Gamer {n}",
                "email": f"gamer{n}@example.com",
                "phone": "06 12345678",
            },
            format="json",
        )
        assert r.status_code == 201, r.content
        uuid = r.json()["id"]
        r = self.data.post(
            f"/api/data/customer/{uuid}/address",
            {
                "addressId": "home",
                "name": f"Gamer {n}",
                "line1": "Damrak 1",
                "city": "Amsterdam",
                "state": "NH",
                "postalCode": "1012 LG",
                "country": "NL",
                "phone": "+31 20 123 4567",
            },
            format="json",
        )
        assert r.status_code == 200, r.content
        r = self.data.patch(
            f"/api/data/customer/{uuid}/default-address", {"addressId": "home"}, format="json"
        )
        assert r.status_code == 200, r.content
        return Customer.objects.get(uuid=uuid)

    def make_store(self, n: int) -> Customer:
        # a store's customer has no email, no phone and no Discord id
        r = self.store.post(
            "/customers",
            {
                "localName": f"Ali's Boutique {n}",
                "defaultPriceListId": str(self.world.price_list.id),
            },
            format="json",
        )
        assert r.status_code == 200, r.content
        return Customer.objects.get(uuid=r.json()["customer"]["id"])

    def make_peppered(self, n: int) -> Customer:
        r = self.pep.post(
            f"/v1/{self.slug}/peppered/customer",
            {
                "email": f"jan{n}@example.nl",
                "customerSalutation": "M",
                "customerFirstName": "Jan",
                "customerPreposition": "van der",
                "customerLastName": f"Berg{n}",
                "customerAddress": "Keizersgracht 12",
                "customerHouseNr": "12",
                "customerZip": "1015 CS",
                "customerCity": "Amsterdam",
                "customerCountry": "NL",
                "customerPhone": "0612345678",
                "customerCredit": "25.50",
            },
            format="json",
        )
        assert r.status_code == 201, r.content
        return Customer.objects.get(pk=r.json()["customerId"])

    def make_b2b(self, n: int) -> Customer:
        # seed 003's own example, phones in its +1-555-0456 style
        r = self.b2b.post(
            "/api/customers",
            {
                "name": f"New Customer Corp {n}",
                "email": f"orders{n}@newcustomer.com",
                "phone": "+1-555-0999",
                "website": "https://newcustomer.com",
                "tax_id": "12-9876543",
                "billing_address": {
                    "line1": "123 New Customer St",
                    "city": "Business City",
                    "state": "CA",
                    "postal_code": "90210",
                    "country": "US",
                },
                "shipping_address": {
                    "line1": "456 Warehouse Ave",
                    "city": "Distribution City",
                    "state": "CA",
                    "postal_code": "90211",
                    "country": "US",
                },
                "contacts": [
                    {
                        "name": "Bob Wilson",
                        "title": "Operations Manager",
                        "email": "bob.wilson@newcustomer.com",
                        "phone": "+1-555-1000",
                        "is_primary": True,
                    }
                ],
                "payment_terms": "net_30",
                "currency": "USD",
                "credit_limit": 5000.00,
                "discount_rate": 2.5,
                "preferred_shipping": "FEDEX_GROUND",
            },
            format="json",
        )
        assert r.status_code == 201, r.content
        return Customer.objects.get(uuid=r.json()["data"]["id"])

    def make_import(self, n: int) -> Customer:
        # the back-office import takes what the model allows: a two-letter salutation, a
        # phone with spaces, no name (every dialect shows "Piet Jansen", its display name)
        ClientTypeFactory(tenant=self.world.tenant, name="vip")
        text = (
            "name,salutation,first_name,last_name,email,phone,notes,credit,tags\n"
            f",Mr,Piet,Jansen{n},piet{n}@example.nl,+31 20 765 4321,from a CSV,7.30,vip\n"
        )
        report = customers_import(
            tenant=self.world.tenant, rows=csv_io.read_rows(io.StringIO(text)), dry_run=False
        )
        assert report.errors == [] and report.created == 1, report.errors
        return Customer.objects.get(tenant=self.world.tenant, email=f"piet{n}@example.nl")

    # --- read -----------------------------------------------------------------------------
    def read(self, dialect: str, customer: Customer) -> dict:
        if dialect == "data":
            r = self.data.get(f"/api/data/customer/{customer.uuid}")
            assert r.status_code == 200, r.content
            return json_of(r)
        if dialect == "store":
            r = self.store.get("/customers", {"limit": 100})
            assert r.status_code == 200, r.content
            found = [c for c in json_of(r)["data"] if c["id"] == str(customer.uuid)]
            assert len(found) == 1
            return found[0]
        if dialect == "peppered":
            r = self.pep.get(f"/v1/{self.slug}/peppered/customer/{customer.pk}")
            assert r.status_code == 200, r.content
            return json_of(r)
        r = self.b2b.get(f"/api/customers/{customer.uuid}")
        assert r.status_code == 200, r.content
        return json_of(r)["data"]

    def everywhere(self, customer: Customer) -> dict:
        return {dialect: self.read(dialect, customer) for dialect in DIALECTS}

    # --- send back ------------------------------------------------------------------------
    def send_back(self, dialect: str, customer: Customer, shown: dict):
        """The dialect's update call with what it showed; the record it answers with."""
        if dialect == "data":
            r = self.data.patch(f"/api/data/customer/{customer.uuid}", shown, format="json")
            assert r.status_code == 200, r.content
            return json_of(r)
        if dialect == "store":
            body = {"priceListId": shown["defaultPriceListId"], "name": shown["name"]}
            r = self.store.put(f"/customers/{customer.uuid}/price-list", body, format="json")
            assert r.status_code == 200, r.content
            return json_of(r)["customer"]
        if dialect == "peppered":
            r = self.pep.put(
                f"/v1/{self.slug}/peppered/customer/{customer.pk}", shown, format="json"
            )
            assert r.status_code == 200, r.content
            return json_of(r)
        r = self.b2b.put(f"/api/customers/{customer.uuid}", shown, format="json")
        assert r.status_code == 200, r.content
        return json_of(r)["data"]


@pytest.mark.parametrize(("origin", "dialect"), CASES, ids=CASE_IDS)
def test_a_record_sent_back_unchanged_changes_nothing(world, origin, dialect):
    dialects = Dialects(world)
    customer = dialects.make(origin)
    before = dialects.everywhere(customer)
    rows_before = (
        Address.objects.filter(customer=customer).count(),
        Customer.objects.filter(tenant=world.tenant).count(),
    )

    answered = dialects.send_back(dialect, customer, before[dialect])

    shown = before[dialect]
    assert {k: v for k, v in answered.items() if k in shown} == {
        k: v for k, v in shown.items() if k in answered
    }
    assert dialects.everywhere(customer) == before
    assert (
        Address.objects.filter(customer=customer).count(),
        Customer.objects.filter(tenant=world.tenant).count(),
    ) == rows_before
