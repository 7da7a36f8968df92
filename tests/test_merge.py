"""Merging two customers and undoing it (issue 20 items 4 and 5): the services, tombstones
answering as their survivor in every dialect, lists and kept counts without tombstones."""

from __future__ import annotations

from decimal import Decimal

import pytest

from b2b.api.serializers import B2B_CUSTOMER_COLUMNS
from b2b.models import Account, Contact, CreditCheck, OrderLine, SalesOrder
from b2b.selectors import b2b_customers_page
from customers.merging import customer_merge, merge_preview, merge_undo
from customers.models import Address, Customer, Identifier, Merge
from customers.selectors import customers_total
from customers.services import customer_update
from stores.models import CustomerStore
from stores.selectors import store_links_total
from stores.services import customer_store_link
from tenants import errors
from tenants.models import Event
from tests.conftest import api_key_client, json_of
from tests.factories import (
    AccountFactory,
    AddressFactory,
    ClientTypeFactory,
    ContactFactory,
    CreditCheckFactory,
    CustomerFactory,
    OrderLineFactory,
    SalesOrderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(world):
    survivor = CustomerFactory(tenant=world.tenant, notes="VIP", credit=Decimal("10.00"))
    merged = CustomerFactory(
        tenant=world.tenant, salutation="Mr", notes="Prefers mail", credit=Decimal("2.50")
    )
    return survivor, merged


def test_preview_says_which_value_survives_and_why_and_changes_nothing(world, pair):
    survivor, merged = pair
    AddressFactory(customer=survivor, key="home")
    AddressFactory(customer=merged, key="home")
    preview = merge_preview(survivor=survivor, merged=merged, fields={"email": "merged"})
    fields = {row["field"]: row for row in preview["fields"]}
    assert fields["email"]["value"] == merged.email and fields["email"]["reason"] == "chosen"
    assert fields["name"]["value"] == survivor.name
    assert fields["name"]["reason"] == "the survivor's (default)"
    # the survivor has no salutation: the merged record's, as the only value
    assert fields["salutation"] == {
        "field": "salutation",
        "survivor": "",
        "merged": "Mr",
        "value": "Mr",
        "from": "merged",
        "reason": "only the merged record has a value",
    }
    assert preview["moves"]["addresses"][0]["new_key"] == "home-merged"
    assert preview["moves"]["credit"]["total"] == "12.50"
    assert preview["moves"]["notes"] == "VIP\n\nPrefers mail"
    assert preview["can_merge"] and preview["blockers"] == []
    assert not Merge.objects.exists()
    merged.refresh_from_db()
    assert merged.merged_into_id is None


def test_merge_moves_everything_and_leaves_a_tombstone(world, pair):
    survivor, merged = pair
    # the factory writes their identifiers (email, Discord id, phone), as the services do
    identifiers = Identifier.objects.filter(customer__in=[survivor, merged]).count()
    assert identifiers == 6
    vip, new = (
        ClientTypeFactory(tenant=world.tenant, name="vip"),
        ClientTypeFactory(tenant=world.tenant, name="new"),
    )
    survivor.tags.set([vip])
    merged.tags.set([vip, new])
    AddressFactory(customer=survivor, key="home")
    theirs = AddressFactory(customer=merged, key="home")
    customer_store_link(customer=survivor, store=world.store)
    customer_store_link(customer=merged, store=world.store, price_list=world.price_list)
    moved_link = customer_store_link(customer=merged, store=world.store2)
    AccountFactory(customer=merged, currency="EUR")
    contact = ContactFactory(customer=merged, is_primary=True)
    order = SalesOrderFactory(customer=merged)
    line = OrderLineFactory(order=order, product=world.products[0])
    check = CreditCheckFactory(customer=merged)

    merge = customer_merge(survivor=survivor, merged=merged, fields={"email": "merged"})

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert merged.merged_into_id == survivor.pk and merged.merged_at == merge.merged_at
    assert survivor.email == merged.email  # chosen
    assert survivor.salutation == "Mr"  # the only value
    assert survivor.credit == Decimal("12.50") and merged.credit == 0  # summed, never dropped
    assert survivor.notes == "VIP\n\nPrefers mail"
    assert set(survivor.tags.values_list("name", flat=True)) == {"vip", "new"}
    assert Identifier.objects.filter(customer=survivor).count() == identifiers
    theirs.refresh_from_db()
    assert (theirs.customer_id, theirs.key) == (survivor.pk, "home-merged")
    assert merge.record["addresses"] == [
        {"id": str(theirs.pk), "key": "home", "new_key": "home-merged"}
    ]
    # one link per store: the survivor's kept (it takes the price list it lacked)
    links = {link.store_id: link for link in CustomerStore.objects.filter(customer=survivor)}
    assert set(links) == {world.store.pk, world.store2.pk}
    assert links[world.store.pk].price_list_id == world.price_list.pk
    assert links[world.store2.pk].pk == moved_link.pk
    assert Account.objects.get(customer=survivor).currency == "EUR"
    assert Contact.objects.get(pk=contact.pk).customer_id == survivor.pk
    assert SalesOrder.objects.get(pk=order.pk).customer_id == survivor.pk
    assert OrderLine.objects.get(pk=line.pk).order_customer_id == survivor.pk  # the trigger
    assert CreditCheck.objects.get(pk=check.pk).customer_id == survivor.pk
    assert merge.actor["type"] == "system"
    event = Event.objects.get(type="customer.merged")
    assert event.customer_uuid == survivor.uuid
    assert event.data["merged_id"] == str(merged.uuid) and event.data["id"] == str(merge.id)


def test_undo_restores_both_and_keeps_what_the_survivor_gained(world, pair):
    survivor, merged = pair
    before = {c.pk: Customer.objects.filter(pk=c.pk).values().get() for c in pair}
    AddressFactory(customer=merged, key="home")
    order = SalesOrderFactory(customer=merged)
    merge = customer_merge(survivor=survivor, merged=merged, fields={"email": "merged"})
    survivor.refresh_from_db()
    later = SalesOrderFactory(customer=survivor)  # made on the survivor after the merge
    customer_update(customer=survivor, name="Renamed")

    undone = merge_undo(merge=merge)

    assert undone.undone_at is not None and undone.problems == []
    survivor.refresh_from_db()
    merged.refresh_from_db()
    after = {c.pk: Customer.objects.filter(pk=c.pk).values().get() for c in (survivor, merged)}
    for pk, row in before.items():
        changed = {k for k in row if row[k] != after[pk][k]} - {"updated_at"}
        assert changed == ({"name"} if pk == survivor.pk else set())
    assert survivor.name == "Renamed"  # changed after the merge: kept
    assert Address.objects.get(customer=merged).key == "home"
    assert SalesOrder.objects.get(pk=order.pk).customer_id == merged.pk
    assert SalesOrder.objects.get(pk=later.pk).customer_id == survivor.pk
    assert Event.objects.filter(type="customer.unmerged", customer_uuid=survivor.uuid).exists()
    with pytest.raises(errors.Conflict) as second:
        merge_undo(merge=merge)
    assert second.value.code == "merge_already_undone"


def test_undo_reports_what_cannot_be_restored_and_never_drops_it(world, pair):
    survivor, merged = pair
    email = merged.email
    merge = customer_merge(survivor=survivor, merged=merged)
    # the merged record's email is free now (a tombstone's columns are not unique): taken
    taker = CustomerFactory(tenant=world.tenant, email=email.upper())
    undone = merge_undo(merge=merge)
    merged.refresh_from_db()
    assert merged.merged_into_id is None and merged.email == ""
    assert len(undone.problems) == 1
    assert email in undone.problems[0] and str(taker.uuid) in undone.problems[0]
    assert Merge.objects.get(pk=merge.pk).problems == undone.problems


@pytest.mark.parametrize("case", ["itself", "tombstone", "survivor_tombstone", "other_tenant"])
def test_bad_pairs_are_refused(world, other, pair, case):
    survivor, merged = pair
    if case == "itself":
        expected, args = errors.ValidationError, (survivor, survivor)
    elif case == "other_tenant":
        expected, args = errors.NotFound, (survivor, CustomerFactory(tenant=other.tenant))
    else:
        third = CustomerFactory(tenant=world.tenant)
        customer_merge(survivor=third, merged=merged)
        merged.refresh_from_db()
        expected = errors.Conflict
        args = (survivor, merged) if case == "tombstone" else (merged, survivor)
    with pytest.raises(expected):
        merge_preview(survivor=args[0], merged=args[1])
    with pytest.raises(expected):
        customer_merge(survivor=args[0], merged=args[1])
    assert Merge.objects.count() == (0 if case in ("itself", "other_tenant") else 1)


def test_accounts_in_different_currencies_block_the_merge(world, pair):
    survivor, merged = pair
    AccountFactory(customer=survivor, currency="USD")
    AccountFactory(customer=merged, currency="EUR")
    preview = merge_preview(survivor=survivor, merged=merged)
    assert not preview["can_merge"]
    assert preview["blockers"] == [
        "The two B2B accounts are in different currencies (USD and EUR)."
    ]
    with pytest.raises(errors.Conflict) as refused:
        customer_merge(survivor=survivor, merged=merged)
    assert refused.value.code == "merge_blocked"
    merged.refresh_from_db()
    assert merged.merged_into_id is None


def test_a_stores_own_record_cannot_be_merged_away(world):
    survivor = CustomerFactory(tenant=world.tenant)
    with pytest.raises(errors.Conflict):
        customer_merge(survivor=survivor, merged=world.store.customer)


def test_unknown_field_choices_are_a_validation_error(world, pair):
    with pytest.raises(errors.ValidationError) as bad:
        merge_preview(survivor=pair[0], merged=pair[1], fields={"credit": "merged"})
    assert "credit" in bad.value.fields
    with pytest.raises(errors.ValidationError):
        customer_merge(survivor=pair[0], merged=pair[1], fields={"email": "both"})


def test_chains_of_merges_resolve_to_the_last_survivor_and_undo_in_order(world):
    a, b, c = (CustomerFactory(tenant=world.tenant) for _ in range(3))
    first = customer_merge(survivor=b, merged=a)
    b.refresh_from_db()
    second = customer_merge(survivor=c, merged=b)
    client = api_key_client(world.api_key)
    response = client.get(f"/api/customers/{a.uuid}")
    assert response.status_code == 200 and response.json()["data"]["id"] == str(c.uuid)
    with pytest.raises(errors.Conflict) as blocked:
        merge_undo(merge=first)
    assert blocked.value.code == "merge_undo_blocked"
    merge_undo(merge=second)
    merge_undo(merge=first)
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0


# --- the tombstone in every dialect ----------------------------------------------------------


def test_the_old_id_reads_and_writes_the_survivor_in_every_dialect(world, pair):
    survivor, merged = pair
    customer_store_link(customer=merged, store=world.store)
    customer_merge(survivor=survivor, merged=merged)
    key = world.api_key
    # data (Discord bot)
    data = api_key_client(key, **{"x-tenant-id": "acme"})
    response = data.get(f"/api/data/customer/{merged.uuid}")
    assert response.status_code == 200 and response.json()["id"] == str(survivor.uuid)
    # b2b
    b2b = api_key_client(key)
    response = b2b.put(f"/api/customers/{merged.uuid}", {"notes": "via b2b"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["id"] == str(survivor.uuid)
    survivor.refresh_from_db()
    assert survivor.notes == "via b2b"
    # peppered, by the integer id
    peppered = api_key_client(key, "bare")
    response = peppered.get(f"/v1/acme/peppered/customer/{merged.pk}")
    assert response.status_code == 200 and response.json()["customerId"] == survivor.pk
    # store: the merged customer's link moved to the survivor
    store = api_key_client(key, **{"x-store-id": str(world.store.id)})
    response = store.put(
        f"/customers/{merged.uuid}/price-list",
        {"priceListId": str(world.price_list.pk)},
        format="json",
    )
    assert response.status_code == 200
    assert CustomerStore.objects.get(customer=survivor, store=world.store).price_list_id == (
        world.price_list.pk
    )
    # hub
    response = data.get(f"/api/hub/customers/{merged.uuid}/history")
    assert response.status_code == 200


def test_lists_exports_and_kept_counts_leave_tombstones_out(world, pair):
    survivor, merged = pair
    customer_store_link(customer=survivor, store=world.store)
    customer_store_link(customer=merged, store=world.store)
    customer_store_link(customer=merged, store=world.store2)
    total = customers_total(tenant=world.tenant)
    active = customers_total(tenant=world.tenant, is_active=True)
    links = store_links_total(store=world.store), store_links_total(store=world.store2)

    merge = customer_merge(survivor=survivor, merged=merged)

    assert customers_total(tenant=world.tenant) == total - 1
    assert customers_total(tenant=world.tenant, is_active=True) == active - 1
    assert (store_links_total(store=world.store), store_links_total(store=world.store2)) == (
        links[0] - 1,
        links[1],
    )
    rows, listed = b2b_customers_page(
        tenant=world.tenant, offset=0, limit=100, columns=B2B_CUSTOMER_COLUMNS
    )
    assert listed == total - 1 and str(merged.uuid) not in {str(r["uuid"]) for r in rows}
    client = api_key_client(world.api_key, "bare")
    export = json_of(client.post("/v1/acme/peppered/export/customers"))
    assert merged.pk not in {row["customerId"] for row in export}
    store = api_key_client(world.api_key, **{"x-store-id": str(world.store.id)})
    ids = {row["id"] for row in store.get("/customers?limit=100").json()["data"]}
    assert str(merged.uuid) not in ids and str(survivor.uuid) in ids

    merge_undo(merge=merge)
    assert customers_total(tenant=world.tenant) == total
    assert customers_total(tenant=world.tenant, is_active=True) == active
    assert store_links_total(store=world.store) == links[0]
    assert store_links_total(store=world.store2) == links[1]


def test_a_write_holding_the_merged_customer_gets_a_409_not_a_tombstone_write(world, pair):
    survivor, merged = pair
    stale = Customer.objects.get(pk=merged.pk)  # read before the merge, written after
    customer_merge(survivor=survivor, merged=merged)
    with pytest.raises(errors.Conflict) as refused:
        customer_update(customer=stale, name="Lost?")
    assert refused.value.code == "customer_merged"
    assert Customer.objects.get(pk=merged.pk).name == merged.name


def test_the_store_dialects_bulk_removal_by_the_old_id_removes_the_survivors_link(world, pair):
    survivor, merged = pair
    customer_store_link(customer=merged, store=world.store)
    customer_merge(survivor=survivor, merged=merged)
    store = api_key_client(world.api_key, **{"x-store-id": str(world.store.id)})
    response = store.delete("/customers/bulk", {"ids": [str(merged.uuid)]}, format="json")
    assert response.status_code == 200 and response.json()["deletedCount"] == 1
    assert not CustomerStore.objects.filter(customer=survivor, store=world.store).exists()
