"""Merge then unmerge puts both records back as they were (issue 20 item 5), as a property:
random pairs of customers with every kind of relation (addresses with clashing keys, tags,
store links in shared and distinct stores, accounts, contacts, orders, credit, notes,
identifiers) and random field choices; a snapshot of both records and everything of theirs is
the same before the merge and after its undo. Two accounts in different currencies block the
merge: then nothing changes at all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b2b.models import Account, Contact, CreditCheck, OrderLine, SalesOrder
from customers.merging import MERGE_FIELDS, customer_merge, merge_undo
from customers.models import Address, Customer, Identifier
from stores.models import CustomerStore
from tenants import errors
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

KEYS = ["home", "work", "billing", "home-merged"]
TAGS = ["vip", "new", "wholesale"]

side = st.fixed_dictionaries(
    {
        "email": st.booleans(),
        "salutation": st.sampled_from(["", "Mr", "Ms"]),
        "phone": st.booleans(),
        "discord": st.booleans(),
        "external_id": st.sampled_from(["", "ext-1", "ext-2"]),
        "notes": st.sampled_from(["", "VIP", "Prefers mail"]),
        "credit": st.decimals(min_value=0, max_value=500, places=2),
        "is_active": st.booleans(),
        "addresses": st.lists(st.sampled_from(KEYS), unique=True, max_size=3),
        "default": st.booleans(),
        "tags": st.lists(st.sampled_from(TAGS), unique=True),
        "stores": st.lists(st.sampled_from([0, 1]), unique=True),
        "price_list": st.booleans(),
        "account": st.sampled_from([None, "USD", "EUR"]),
        "contacts": st.integers(0, 2),
        "primary": st.booleans(),
        "orders": st.integers(0, 2),
        "credit_checks": st.integers(0, 1),
    }
)
choices = st.dictionaries(st.sampled_from(MERGE_FIELDS), st.sampled_from(["survivor", "merged"]))


def build(world, spec) -> Customer:
    fields = {
        "salutation": spec["salutation"],
        "external_id": spec["external_id"],
        "notes": spec["notes"],
        "credit": spec["credit"],
        "is_active": spec["is_active"],
    }
    if not spec["email"]:
        fields["email"] = ""
    if not spec["phone"]:
        fields["phone"] = ""
    if not spec["discord"]:
        fields["discord_id"] = ""
    customer = CustomerFactory(tenant=world.tenant, **fields)  # with its identifiers
    addresses = [AddressFactory(customer=customer, key=key) for key in spec["addresses"]]
    if addresses and spec["default"]:
        Customer.objects.filter(pk=customer.pk).update(default_address=addresses[0])
    customer.tags.set([ClientTypeFactory(tenant=world.tenant, name=n) for n in spec["tags"]])
    for index in spec["stores"]:
        CustomerStore.objects.create(
            customer=customer,
            store=(world.store, world.store2)[index],
            price_list=world.price_list if spec["price_list"] else None,
            customer_created_at=customer.created_at,
        )
    if spec["account"]:
        AccountFactory(customer=customer, currency=spec["account"])
    for n in range(spec["contacts"]):
        ContactFactory(customer=customer, is_primary=spec["primary"] and n == 0)
    for _ in range(spec["orders"]):
        OrderLineFactory(order=SalesOrderFactory(customer=customer), product=world.products[0])
    for _ in range(spec["credit_checks"]):
        CreditCheckFactory(customer=customer)
    customer.refresh_from_db()
    return customer


def rows(qs, *, without=("updated_at",)) -> list[dict]:
    return sorted(
        ({k: v for k, v in row.items() if k not in without} for row in qs.values()),
        key=lambda row: str(row.get("id", row.get("customer_id"))),
    )


def snapshot(customer: Customer) -> dict:
    return {
        "customer": rows(Customer.objects.filter(pk=customer.pk)),
        "addresses": rows(Address.objects.filter(customer=customer)),
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "identifiers": rows(Identifier.objects.filter(customer=customer)),
        "store_links": rows(CustomerStore.objects.filter(customer=customer)),
        "account": rows(Account.objects.filter(customer=customer)),
        "contacts": rows(Contact.objects.filter(customer=customer)),
        "orders": rows(SalesOrder.objects.filter(customer=customer)),
        "lines": rows(OrderLine.objects.filter(order__customer=customer)),
        "credit_checks": rows(CreditCheck.objects.filter(customer=customer)),
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ours=side, theirs=side, fields=choices)
def test_merge_then_undo_restores_both_records(world, ours, theirs, fields):
    with transaction.atomic():
        survivor, merged = build(world, ours), build(world, theirs)
        before = (snapshot(survivor), snapshot(merged))
        try:
            merge = customer_merge(survivor=survivor, merged=merged, fields=fields)
        except errors.Conflict as exc:
            assert exc.code == "merge_blocked"
            assert {ours["account"], theirs["account"]} == {"USD", "EUR"}
        else:
            survivor.refresh_from_db()
            assert survivor.credit == Decimal(ours["credit"]) + Decimal(theirs["credit"])
            undone = merge_undo(merge=merge)
            assert undone.problems == []
        survivor.refresh_from_db()
        merged.refresh_from_db()
        assert (snapshot(survivor), snapshot(merged)) == before
        transaction.set_rollback(True)
