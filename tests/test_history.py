"""History a person can read (issue 18, item 6): the author of every change, whatever made
it; one timeline per customer across what belongs to it, with labels; the admin's pages."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from b2b.services import account_update, contact_create, contact_update
from customers.history import Position, customer_timeline
from customers.models import Address, Customer
from customers.services import (
    address_add,
    address_remove,
    address_set,
    customer_create,
    customer_update,
    default_address_set,
)
from stores.models import CustomerStore
from stores.services import customer_store_link, store_customer_price_list_set
from tenants.history import history_context
from tenants.services import api_key_issue
from tests.admin_support import admin_client, make_staff
from tests.conftest import api_key_client, bearer_client
from tests.factories import CustomerFactory, PriceListFactory
from tests.reliability_support import create_case

pytestmark = pytest.mark.django_db


def last_version(model, **lookup):
    return model.history.filter(**lookup).order_by("-history_id").first()


# --- who made a change ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "credential"),
    [
        ("data", "user"),
        ("store", "user"),
        ("peppered", "api_key"),
        ("b2b", "api_key"),
        ("b2b", "user"),
    ],
)
def test_every_dialect_records_who_made_the_change(world, dialect, credential):
    client = None
    if credential == "api_key" and dialect == "b2b":
        client = api_key_client(world.api_key)
    case = create_case(dialect, world, client=client)
    response = case.client.post(case.path, case.body(1), format="json")
    assert response.status_code == case.created_status, response.content
    customer = Customer.objects.filter(tenant=world.tenant).latest("pk")
    actor = last_version(Customer, id=customer.pk).history_actor
    assert actor.origin == f"api:{dialect}"
    if credential == "user":
        assert (actor.kind, actor.name, actor.label) == ("user", "acme-agent", "acme-agent")
    else:
        key = world.api_key
        assert (actor.kind, actor.name, actor.id) == ("api_key", key.name, str(key.pk))
        assert actor.label == f"API key '{key.name}'"
    if dialect == "store":  # the link created with it has the same author
        link = CustomerStore.objects.get(customer=customer)
        assert last_version(CustomerStore, id=link.pk).history_actor == actor


def test_an_api_keys_name_is_kept_as_it_was(world):
    key, secret = api_key_issue(tenant=world.tenant, name="Shop sync")
    customer = CustomerFactory(tenant=world.tenant)
    client = bearer_client(secret)
    response = client.put(f"/api/customers/{customer.uuid}", {"name": "New"}, format="json")
    assert response.status_code == 200
    key_id = key.pk
    key.name = "Renamed later"
    key.save(update_fields=["name"])
    key.delete()
    actor = last_version(Customer, id=customer.pk).history_actor
    assert actor.label == "API key 'Shop sync'" and actor.id == str(key_id)


def test_bulk_removal_from_a_store_records_the_api_key(world):
    customer = CustomerFactory(tenant=world.tenant)
    link = customer_store_link(customer=customer, store=world.store)
    client = api_key_client(world.api_key, **{"x-store-id": str(world.store.id)})
    response = client.delete("/customers/bulk", {"ids": [str(customer.uuid)]}, format="json")
    assert response.status_code == 200 and response.json()["deletedCount"] == 1
    record = last_version(CustomerStore, id=link.pk)
    assert record.history_type == "-"
    assert record.history_actor.label == f"API key '{world.api_key.name}'"
    assert record.history_origin == "api:store"


def test_admin_changes_are_the_staff_users(world):
    customer = CustomerFactory(tenant=world.tenant, is_active=True)
    client = admin_client(make_staff(world.admin))
    response = client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "deactivate", "_selected_action": [customer.pk]},
    )
    assert response.status_code == 302
    record = last_version(Customer, id=customer.pk)
    assert record.history_actor.label == "acme-admin"
    assert record.history_actor.via == "the admin"


def test_changes_outside_a_request_are_the_systems(world, tmp_path):
    customer = customer_create(tenant=world.tenant, name="Quiet")
    assert last_version(Customer, id=customer.pk).history_actor.label == "system"
    with history_context(origin="nightly cleanup"):
        customer_update(customer=customer, name="Quieter")
    assert last_version(Customer, id=customer.pk).history_author == "system (nightly cleanup)"

    path = tmp_path / "c.csv"
    path.write_text(f"id,name\n{customer.uuid},Imported\n", encoding="utf-8")
    call_command(
        "import_customers", str(path), tenant="acme", no_progress=True, stdout=io.StringIO()
    )
    record = last_version(Customer, id=customer.pk)
    assert record.name == "Imported"
    assert record.history_author == "system (manage.py import_customers)"
    assert record.history_change_reason == "CSV import"


# --- the timeline ------------------------------------------------------------------------------


def summaries(page) -> list[str]:
    return [entry.summary for entry in page.entries]


def changes_of(entry) -> dict:
    return {change.label: (change.old, change.new) for change in entry.changes}


def test_one_timeline_across_the_customer_and_what_belongs_to_it(world):
    retail = PriceListFactory(tenant=world.tenant, name="Retail", currency="EUR")
    customer = customer_create(tenant=world.tenant, name="Ada Lovelace")
    address_add(
        customer=customer, key="billing", line1="Main St", house_number="1", city="Springfield"
    )
    default_address_set(customer=customer, key="billing")
    link = customer_store_link(customer=customer, store=world.store)
    store_customer_price_list_set(
        store=world.store, customer_id=customer.uuid, price_list_id=retail.pk
    )
    account_update(customer=customer, payment_terms="net_60")
    contact = contact_create(customer=customer, name="Grace", is_primary=False)
    contact_update(contact=contact, is_primary=True)
    address_remove(customer=customer, key="billing")

    page = customer_timeline(customer=customer, limit=50)
    assert page.next is None
    assert summaries(page) == [
        "Address 'billing' (Main St, 1, Springfield) deleted",
        "Customer 'Ada Lovelace' changed",  # its default address cleared with it
        "Contact 'Grace' changed",
        "Contact 'Grace' created",
        "B2B account changed",
        "B2B account created",
        f"Link to store '{world.store.name}' changed",
        f"Link to store '{world.store.name}' created",
        "Customer 'Ada Lovelace' changed",
        "Address 'billing' (Main St, 1, Springfield) created",
        "Customer 'Ada Lovelace' created",
    ]
    by_summary = {entry.summary: entry for entry in page.entries}
    assert changes_of(page.entries[1]) == {
        "Default address": ("Main St, 1, Springfield (deleted)", None)
    }
    assert changes_of(page.entries[8]) == {
        "Default address": (None, "Main St, 1, Springfield (deleted)")
    }
    assert changes_of(by_summary["Contact 'Grace' changed"]) == {"Is primary": ("No", "Yes")}
    assert changes_of(by_summary["B2B account changed"]) == {"Payment terms": ("Net 30", "Net 60")}
    assert changes_of(by_summary[f"Link to store '{world.store.name}' changed"]) == {
        "Price list": (None, "Retail (EUR)")
    }
    assert {entry.object_type for entry in page.entries} == {
        "customer",
        "address",
        "store_link",
        "account",
        "contact",
    }
    assert page.entries[-1].object_id == str(customer.uuid)
    assert page.entries[6].object_id == str(link.pk)
    assert all(entry.actor.label == "system" for entry in page.entries)


def test_a_save_that_changes_nothing_is_not_an_entry(world):
    customer = customer_create(tenant=world.tenant, name="Same")
    for _ in range(30):
        customer_update(customer=customer)  # what the admin's form does when only inlines change
    address_set(customer=customer, key="home", city="Utrecht")
    page = customer_timeline(customer=customer, limit=5)
    assert summaries(page) == ["Address 'home' (Utrecht) created", "Customer 'Same' created"]
    assert page.next is None


def test_pages_follow_each_other_without_gaps_or_repeats(world):
    customer = customer_create(tenant=world.tenant, name="Paged")
    same_instant = timezone.now() + timedelta(seconds=5)
    for n in range(12):
        customer_update(customer=customer, notes=f"note {n}")
        address = address_set(customer=customer, key=f"a{n % 3}", city=f"City {n}")
    # rows of several sources at one instant: ordered by source, then by history id
    for n in range(4):
        customer._history_date = same_instant
        customer_update(customer=customer, credit=n + 1)
        address._history_date = same_instant
        address_set(customer=customer, key=address.key, city=f"Tied {n}")
    everything = customer_timeline(customer=customer, limit=100)
    assert everything.next is None and len(everything.entries) == 1 + 12 + 12 + 8
    positions = [entry.position for entry in everything.entries]
    assert positions == sorted(positions, reverse=True)

    seen, after = [], None
    while True:
        page = customer_timeline(customer=customer, limit=7, after=after)
        assert len(page.entries) == 7 or page.next is None
        seen.extend(entry.id for entry in page.entries)
        if page.next is None:
            break
        after = page.next
    assert seen == [entry.id for entry in everything.entries]


def test_a_timeline_page_costs_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    retail = PriceListFactory(tenant=world.tenant, name="Retail")

    def busy_customer(changes: int) -> Customer:
        customer = customer_create(tenant=world.tenant, name=f"Busy {changes}")
        customer_store_link(customer=customer, store=world.store)
        contact = contact_create(customer=customer, name="C")
        for n in range(changes):
            customer_update(customer=customer, notes=f"{n}")
            address_set(customer=customer, key=f"k{n % 4}", city=f"C{n}")
            default_address_set(customer=customer, key=f"k{n % 4}")
            account_update(customer=customer, credit_limit=n, price_list=retail if n % 2 else None)
            contact_update(contact=contact, title=f"T{n}")
        return customer

    small, large = busy_customer(1), busy_customer(30)
    for customer in (small, large):
        # per source: a page and the previous versions; then the labels of users, addresses
        # (with a deleted one's history), stores and price lists
        with django_assert_max_num_queries(6 * 2 + 5):
            page = customer_timeline(customer=customer, limit=50)
        assert page.entries


def test_position_round_trip_and_refusals():
    position = Position(timezone.now(), "address", 12)
    assert Position.from_values(position.as_values()) == position
    for bad in (
        [],
        ["x", "a", 1],
        ["2026-01-01T00:00:00", "a", 1],
        [position.at.isoformat(), 1, 1],
    ):
        with pytest.raises(ValueError):
            Position.from_values(bad)


# --- the admin ----------------------------------------------------------------------------------


def test_the_360_page_shows_the_timeline_with_authors_and_labels(world):
    _key, secret = api_key_issue(tenant=world.tenant, name="Shop sync")
    customer = customer_create(tenant=world.tenant, name="Ada", email="ada@example.com")
    address_add(customer=customer, key="home", line1="Elm St", city="Haarlem")
    response = bearer_client(secret).put(
        f"/api/customers/{customer.uuid}", {"email": "ada@lovelace.example"}, format="json"
    )
    assert response.status_code == 200
    address_remove(customer=customer, key="home")
    client = admin_client(make_staff(world.admin))
    html = client.get(reverse("admin:customers_customer_360", args=[customer.pk])).content.decode()
    section = html[html.index('id="c360-history"') :]
    assert "API key &#x27;Shop sync&#x27;" in section and "via the b2b API" in section
    assert "ada@example.com &rarr; ada@lovelace.example" in section
    assert "Address &#x27;home&#x27; (Elm St, Haarlem) deleted" in section
    assert "UTC" in section
    assert "None" not in section

    for _ in range(25):
        customer_update(customer=customer, notes=f"{_}")
    html = client.get(reverse("admin:customers_customer_360", args=[customer.pk])).content.decode()
    assert html.count('class="c360-history-entry"') == 20
    assert 'id="c360-history-older"' in html
    link = html.split('<a href="?history=', 1)[1].split("#", 1)[0]
    html = client.get(
        reverse("admin:customers_customer_360", args=[customer.pk]) + "?history=" + link
    ).content.decode()
    # created: customer, address, B2B account (by the b2b PUT); changed: email, 25 notes;
    # deleted: address
    assert html.count('class="c360-history-entry"') == 30 - 20
    assert 'id="c360-history-older"' not in html


def test_the_admins_history_page_names_authors_and_labels(world):
    _key, secret = api_key_issue(tenant=world.tenant, name="Shop sync")
    customer = customer_create(tenant=world.tenant, name="Ada")
    address = address_add(customer=customer, key="home", line1="Elm St", city="Haarlem")
    default_address_set(customer=customer, key="home")
    bearer_client(secret).put(f"/api/customers/{customer.uuid}", {"name": "Ada L"}, format="json")
    client = admin_client(make_staff(world.admin))
    html = client.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    html = html.content.decode()
    table = html[html.index('id="change-history"') :]
    assert "None" not in table
    assert "API key &#x27;Shop sync&#x27;" in table and "system" in table
    assert re.search(r"Default address:</strong>\s*—", table)
    assert "Elm St, Haarlem" in table
    assert "pk=" not in table
    html = client.get(reverse("admin:customers_address_history", args=[address.pk]))
    assert "None" not in html.content.decode().split('id="change-history"')[1]
    assert Address.objects.filter(pk=address.pk).exists()
