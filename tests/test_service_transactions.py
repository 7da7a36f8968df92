"""A service's transaction ends in a domain error, never a 500 (issue 17, item 2).

Both databases check foreign keys when the transaction commits, after the service's own code
has run: a write that refers to a row removed meanwhile (the stale ``default_address_id`` of
issue 17) fails there. These tests make a service leave such a reference behind and expect
the dialect's 409, the record unchanged.
"""

from __future__ import annotations

import pytest

from customers import services
from customers.models import Customer
from tenants.errors import Conflict
from tenants.transactions import service_atomic
from tests.conftest import api_key_client, bearer_client, json_of
from tests.factories import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

MISSING = 2**62  # no address has this id


def _leaving_a_dangling_default_address(original):
    """``original``, and then the customer refers to an address that does not exist."""

    def service_step(customer, *args, **kwargs):
        result = original(customer, *args, **kwargs)
        Customer.objects.filter(pk=customer.pk).update(default_address_id=MISSING)
        return result

    return service_step


def test_a_foreign_key_failing_at_commit_is_a_409_in_the_data_format(world, monkeypatch):
    customer = CustomerFactory(tenant=world.tenant, notes="before")
    monkeypatch.setattr(services, "_save", _leaving_a_dangling_default_address(services._save))
    client = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})
    response = client.patch(
        f"/api/data/customer/{customer.uuid}", {"notes": "after"}, format="json"
    )
    assert response.status_code == 409, response.content
    body = json_of(response)
    assert set(body) == {"message", "requestId"}
    customer.refresh_from_db()
    assert (customer.notes, customer.default_address_id) == ("before", None)


def test_a_foreign_key_failing_at_commit_is_a_409_in_the_peppered_format(world, monkeypatch):
    customer = CustomerFactory(tenant=world.tenant)
    AddressFactory(customer=customer, key="a")
    monkeypatch.setattr(services, "_touch", _leaving_a_dangling_default_address(services._touch))
    path = f"/v1/{world.tenant.slug}/peppered/customer/{customer.pk}/clienttypes"
    response = api_key_client(world.api_key, "bare").post(path, {"clienttypes": []}, format="json")
    assert response.status_code == 409, response.content
    assert json_of(response)["message"]
    customer.refresh_from_db()
    assert customer.default_address_id is None


def test_the_outermost_service_translates_what_fails_at_its_commit(world):
    customer = CustomerFactory(tenant=world.tenant)

    @service_atomic()
    def outer():
        inner()

    @service_atomic()
    def inner():  # nested: its end is a savepoint, nothing is checked yet
        Customer.objects.filter(pk=customer.pk).update(default_address_id=MISSING)

    with pytest.raises(Conflict) as raised:
        outer()
    assert raised.value.code == "conflict"
    customer.refresh_from_db()
    assert customer.default_address_id is None
