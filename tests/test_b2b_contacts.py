"""b2b dialect (seed 003): contacts of a customer, one primary at most (also concurrently)."""

import threading

import pytest
from django.db import connection

from b2b import services
from b2b.models import Contact
from tenants import errors
from tests.b2b_support import account_customer, contains
from tests.conftest import bearer_client, json_of
from tests.factories import ContactFactory, CustomerFactory
from tests.openapi import openapi

pytestmark = pytest.mark.django_db

SEED_CONTACT = {
    "name": "Sarah Davis",
    "title": "Finance Manager",
    "email": "sarah.davis@customer.com",
    "phone": "+1-555-1100",
    "is_primary": False,
}


def test_seed_add_contact(world, django_assert_max_num_queries):
    customer = account_customer(world.tenant)
    client = bearer_client(world.agent)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    # 14: the customer's lock, so that a contact never joins an erased customer (privacy)
    with django_assert_max_num_queries(14):
        response = client.post(
            f"/api/customers/{customer.uuid}/contacts", SEED_CONTACT, format="json"
        )
    assert response.status_code == 201
    data = json_of(response)["data"]
    contact = Contact.objects.get(customer=customer)
    contains(
        data,
        {
            "id": str(contact.pk),
            **SEED_CONTACT,
            "customer_id": str(customer.uuid),
        },
    )
    assert data["created_at"].endswith("Z")


def test_seed_update_contact_makes_it_primary_and_demotes_the_previous(
    world, django_assert_max_num_queries
):
    customer = account_customer(world.tenant)
    alice = ContactFactory(customer=customer, name="Alice Johnson", is_primary=True)
    sarah = ContactFactory(customer=customer, name="Sarah Davis", title="Finance Manager")
    client = bearer_client(world.agent)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(19):
        response = client.put(
            f"/api/customers/{customer.uuid}/contacts/{sarah.pk}",
            {"title": "Senior Finance Manager", "phone": "+1-555-1101", "is_primary": True},
            format="json",
        )
    assert response.status_code == 200
    contains(
        json_of(response)["data"],
        {
            "id": str(sarah.pk),
            "name": "Sarah Davis",
            "title": "Senior Finance Manager",
            "phone": "+1-555-1101",
            "is_primary": True,
            "customer_id": str(customer.uuid),
        },
    )
    alice.refresh_from_db()
    assert alice.is_primary is False
    detail = json_of(client.get(f"/api/customers/{customer.uuid}"))["data"]
    assert [c["name"] for c in detail["contacts"]] == ["Sarah Davis", "Alice Johnson"]
    assert [c["is_primary"] for c in detail["contacts"]] == [True, False]


def test_seed_delete_contact(world, django_assert_max_num_queries):
    customer = account_customer(world.tenant)
    contact = ContactFactory(customer=customer)
    client = bearer_client(world.agent)
    with django_assert_max_num_queries(12):
        response = client.delete(f"/api/customers/{customer.uuid}/contacts/{contact.pk}")
    assert response.status_code == 200
    assert json_of(response) == {"data": {"message": "Contact successfully removed"}}
    assert not Contact.objects.filter(pk=contact.pk).exists()
    again = client.delete(f"/api/customers/{customer.uuid}/contacts/{contact.pk}")
    assert again.status_code == 404
    assert json_of(again)["error"]["code"] == "contact_not_found"


def test_new_primary_contact_demotes_the_previous(world):
    customer = CustomerFactory(tenant=world.tenant)  # no account yet: contacts still work
    first = ContactFactory(customer=customer, is_primary=True)
    response = bearer_client(world.agent).post(
        f"/api/customers/{customer.uuid}/contacts",
        {"name": "New Boss", "is_primary": True},
        format="json",
    )
    assert response.status_code == 201
    first.refresh_from_db()
    assert not first.is_primary
    assert Contact.objects.filter(customer=customer, is_primary=True).count() == 1


def test_contact_update_changes_only_the_fields_sent(world):
    customer = CustomerFactory(tenant=world.tenant)
    contact = ContactFactory(customer=customer, name="Keep", title="Buyer", is_primary=True)
    response = bearer_client(world.agent).put(
        f"/api/customers/{customer.uuid}/contacts/{contact.pk}",
        {"phone": "+31 6 1234 5678"},
        format="json",
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.name, contact.title, contact.phone, contact.is_primary) == (
        "Keep",
        "Buyer",
        "+31612345678",
        True,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "A", "email": "nope"}, "email"),
        ({"name": "A", "phone": "9" * 33}, "phone"),
        ({"name": "A", "is_primary": "often"}, "is_primary"),
    ],
)
def test_invalid_contact_is_400(world, body, field):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.agent).post(
        f"/api/customers/{customer.uuid}/contacts", body, format="json"
    )
    assert response.status_code == 400
    assert field in json_of(response)["error"]["details"]
    assert not Contact.objects.filter(customer=customer).exists()


def test_contacts_of_another_tenant_are_404(world, other):
    foreign = CustomerFactory(tenant=other.tenant)
    foreign_contact = ContactFactory(customer=foreign)
    own = CustomerFactory(tenant=world.tenant)
    client = bearer_client(world.agent)
    base = f"/api/customers/{foreign.uuid}/contacts"
    assert client.post(base, {"name": "X"}, format="json").status_code == 404
    assert (
        client.put(f"{base}/{foreign_contact.pk}", {"name": "X"}, format="json").status_code == 404
    )
    assert client.delete(f"{base}/{foreign_contact.pk}").status_code == 404
    # another customer's contact through one's own customer is 404 too
    own_path = f"/api/customers/{own.uuid}/contacts/{foreign_contact.pk}"
    assert client.put(own_path, {"name": "X"}, format="json").status_code == 404
    assert client.delete(own_path).status_code == 404
    assert client.delete(f"/api/customers/{own.uuid}/contacts/not-a-uuid").status_code == 404
    foreign_contact.refresh_from_db()
    assert foreign_contact.name != "X"


def test_viewer_cannot_change_contacts(world):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.viewer).post(
        f"/api/customers/{customer.uuid}/contacts", {"name": "X"}, format="json"
    )
    assert response.status_code == 403


def test_constraint_violation_is_a_409_not_a_500(world, monkeypatch):
    """If the demotion is bypassed, the database constraint answers, as a 409."""
    customer = CustomerFactory(tenant=world.tenant)
    ContactFactory(customer=customer, is_primary=True)
    monkeypatch.setattr(Contact.objects, "filter", lambda **kw: Contact.objects.none())
    with pytest.raises(errors.Conflict):
        services.contact_create(customer=customer, name="Second", is_primary=True)


@pytest.mark.django_db(transaction=True)
def test_concurrent_primary_contacts_leave_exactly_one():
    from tests.conftest import make_tenant_world

    world = make_tenant_world("acme")
    customer = CustomerFactory(tenant=world.tenant)
    threads_count = 6
    openapi()  # build the document once, before the threads validate against it
    barrier = threading.Barrier(threads_count)
    statuses = []
    lock = threading.Lock()

    def add(n):
        try:
            client = bearer_client(world.api_key)
            barrier.wait()
            response = client.post(
                f"/api/customers/{customer.uuid}/contacts",
                {"name": f"Primary {n}", "is_primary": True},
                format="json",
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(statuses)) <= [201, 409], statuses
    assert statuses.count(201) >= 1
    assert Contact.objects.filter(customer=customer, is_primary=True).count() == 1
    assert Contact.objects.filter(customer=customer).count() == statuses.count(201)


@pytest.mark.django_db(transaction=True)
def test_concurrent_promotions_leave_exactly_one():
    from tests.conftest import make_tenant_world

    world = make_tenant_world("acme")
    customer = CustomerFactory(tenant=world.tenant)
    contacts = [ContactFactory(customer=customer) for _ in range(5)]
    openapi()  # build the document once, before the threads validate against it
    barrier = threading.Barrier(len(contacts))
    statuses = []

    def promote(contact):
        try:
            client = bearer_client(world.api_key)
            barrier.wait()
            statuses.append(
                client.put(
                    f"/api/customers/{customer.uuid}/contacts/{contact.pk}",
                    {"is_primary": True},
                    format="json",
                ).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=promote, args=(c,)) for c in contacts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {200, 409}, statuses
    assert Contact.objects.filter(customer=customer, is_primary=True).count() == 1


def test_a_create_with_two_primary_contacts_is_refused_by_the_service_and_writes_nothing(world):
    """The rule lives in b2b.services (primary_contacts_check), which the API and the admin
    share; the answer is the seed's validation error naming the field."""
    from customers.models import Customer

    before = Customer.objects.count()
    response = bearer_client(world.agent).post(
        "/api/customers",
        {
            "name": "Two Primaries Ltd",
            "email": "two-primaries@example.com",
            "contacts": [
                {"name": "A", "email": "a@example.com", "is_primary": True},
                {"name": "B", "email": "b@example.com", "is_primary": True},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    body = json_of(response)["error"]
    assert body["code"] == "validation_error"
    assert body["details"] == {"contacts": ["At most one contact can be primary."]}
    assert Customer.objects.count() == before
    assert not Contact.objects.filter(email__in=["a@example.com", "b@example.com"]).exists()
