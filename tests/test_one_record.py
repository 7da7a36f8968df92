"""One record, four dialects: a customer created or changed through any dialect is visible,
with the same data, through every other one (every ordered pair of dialects)."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from customers.models import Customer
from stores.services import customer_store_link
from tenants.phones import phone_e164
from tests.conftest import api_key_client, bearer_client, json_of

pytestmark = pytest.mark.django_db

DIALECTS = ["data", "store", "peppered", "b2b"]
PAIRS = list(itertools.permutations(DIALECTS, 2))
PAIR_IDS = [f"{a}-{b}" for a, b in PAIRS]


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(microsecond=0)


class Dialects:
    """Create, read and change a customer through each dialect, normalising what they show."""

    def __init__(self, world):
        self.world = world
        self.data = bearer_client(world.agent, **{"x-tenant-id": "acme"})
        self.store = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
        self.pep = api_key_client(world.api_key, "bare")
        self.b2b = bearer_client(world.agent)
        self.counter = itertools.count(1)

    # --- create ------------------------------------------------------------------------
    def create(self, dialect: str) -> str:
        n = next(self.counter)
        if dialect == "data":
            r = self.data.post(
                "/api/data/customer",
                {
                    "discordId": f"9000{n}",
                    "discordUsername": f"user{n}",
                    "discordDisplayName": f"User {n}",
                    "email": f"data{n}@example.com",
                    "phone": f"0611{n:06d}",
                },
                format="json",
            )
            assert r.status_code == 201, r.content
            return r.json()["id"]
        if dialect == "store":
            r = self.store.post("/customers", {"localName": f"Shop {n}"}, format="json")
            assert r.status_code in (200, 201), r.content
            return r.json()["customer"]["id"]
        if dialect == "peppered":
            r = self.pep.post(
                "/v1/acme/peppered/customer",
                {
                    "email": f"pep{n}@example.com",
                    "customerFirstName": "Pep",
                    "customerLastName": f"Per{n}",
                    "customerPhone": f"0622{n:06d}",
                },
                format="json",
            )
            assert r.status_code == 201, r.content
            return str(Customer.objects.get(pk=r.json()["customerId"]).uuid)
        r = self.b2b.post(
            "/api/customers",
            {"name": f"Corp {n}", "email": f"corp{n}@example.com", "phone": f"+1-555-{n:04d}"},
            format="json",
        )
        assert r.status_code == 201, r.content
        return r.json()["data"]["id"]

    # --- read: the shared fields as each dialect shows them ----------------------------------
    def read(self, dialect: str, uuid: str) -> dict:
        customer = Customer.objects.get(uuid=uuid)
        if dialect == "data":
            b = self.data.get(f"/api/data/customer/{uuid}").json()
            return {
                "id": b["id"],
                "email": b["email"] or "",
                "phone": phone_e164(b["phone"]),
                "is_active": b["isActive"],
                "updated_at": _ts(b["updatedAt"]),
            }
        if dialect == "store":
            customer_store_link(customer=customer, store=self.world.store)
            r = self.store.get("/customers", {"limit": 100})
            found = [c for c in json_of(r)["data"] if c["id"] == uuid]
            assert found, f"{uuid} not listed by the store dialect"
            b = found[0]
            return {
                "id": b["id"],
                "name": b["name"],
                "is_active": b["isActive"],
                "updated_at": _ts(b["updatedAt"]),
            }
        if dialect == "peppered":
            b = self.pep.get(f"/v1/acme/peppered/customer/{customer.pk}").json()
            return {
                "id": str(Customer.objects.get(pk=b["customerId"]).uuid),
                "email": b["email"] or "",
                "phone": phone_e164(b["customerPhone"]),
                "updated_at": _ts(b["lastChanged"]),
            }
        b = self.b2b.get(f"/api/customers/{uuid}").json()["data"]
        return {
            "id": b["id"],
            "name": b["name"],
            "email": b["email"] or "",
            "phone": phone_e164(b["phone"]),  # b2b shows +1-555-0456, the others E.164
            "is_active": b["is_active"],
            "updated_at": _ts(b["updated_at"]),
        }

    # --- change -------------------------------------------------------------------------
    def change(self, dialect: str, uuid: str) -> dict:
        """Change the customer through ``dialect``; the new values, as normalised fields."""
        n = next(self.counter)
        email, phone, name = f"changed{n}@example.com", f"+31612{n:06d}", f"Renamed {n}"
        if dialect == "data":
            r = self.data.patch(
                f"/api/data/customer/{uuid}", {"email": email, "phone": phone}, format="json"
            )
            expected = {"email": email, "phone": phone}
        elif dialect == "store":
            r = self.store.put(
                f"/customers/{uuid}/price-list",
                {"priceListId": str(self.world.price_list.id), "name": name},
                format="json",
            )
            expected = {"name": name}
        elif dialect == "peppered":
            pk = Customer.objects.get(uuid=uuid).pk
            r = self.pep.put(
                f"/v1/acme/peppered/customer/{pk}",
                {"email": email, "customerPhone": phone},
                format="json",
            )
            expected = {"email": email, "phone": phone}
        else:
            r = self.b2b.put(
                f"/api/customers/{uuid}",
                {"name": name, "email": email, "phone": phone},
                format="json",
            )
            expected = {"name": name, "email": email, "phone": phone}
        assert r.status_code == 200, r.content
        return expected


def _same(a: dict, b: dict) -> dict:
    shared = sorted(set(a) & set(b))
    return {k: (a[k], b[k]) for k in shared if a[k] != b[k]}


@pytest.mark.parametrize(("origin", "other"), PAIRS, ids=PAIR_IDS)
def test_created_in_one_dialect_is_the_same_record_in_another(world, origin, other):
    dialects = Dialects(world)
    uuid = dialects.create(origin)
    seen_by_origin, seen_by_other = dialects.read(origin, uuid), dialects.read(other, uuid)
    assert seen_by_other["id"] == uuid
    assert _same(seen_by_origin, seen_by_other) == {}


@pytest.mark.parametrize(("origin", "other"), PAIRS, ids=PAIR_IDS)
def test_changed_in_another_dialect_is_seen_by_the_first(world, origin, other):
    dialects = Dialects(world)
    uuid = dialects.create(origin)
    dialects.read(other, uuid)  # the store dialect sees only customers linked to its store
    before = dialects.read(origin, uuid)
    expected = dialects.change(other, uuid)
    after_origin, after_other = dialects.read(origin, uuid), dialects.read(other, uuid)
    assert _same(after_origin, after_other) == {}
    assert {k: after_origin[k] for k in expected if k in after_origin} == {
        k: v for k, v in expected.items() if k in after_origin
    }
    assert after_origin["updated_at"] >= before["updated_at"]
    assert Customer.objects.filter(uuid=uuid).count() == 1
