"""Races of resolution on write (issue 20, "Bad input and races"; docs/identity.md): real
threads released together, through the data dialect, on both databases.

The rule these tests pin: a customer shows one Discord id. Of concurrent find-or-creates
with one email and different Discord ids, one creates the customer (201) and every other is
refused with a 400 ``identity_conflict`` naming it: its Discord id is never attached as a
silent second one, and never lost without an answer that says so.
"""

from __future__ import annotations

from collections import Counter

import pytest

from customers.identity import DISCORD, EMAIL
from customers.models import Customer, Identifier
from tenants.services import user_token_issue
from tests.conftest import bearer_client, json_of
from tests.factories import CustomerFactory
from tests.test_races import race

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20
URL = "/api/data/customer"


def body(discord_id: str, **extra) -> dict:
    return {
        "discordId": discord_id,
        "discordUsername": f"racer{discord_id}",
        "discordDisplayName": f"Racer {discord_id}",
        **extra,
    }


def test_one_email_many_discord_ids(world):
    token = user_token_issue(user=world.agent)[1]
    discord_ids = [str(900000 + i) for i in range(THREADS)]
    results = race(
        THREADS,
        lambda i: bearer_client(token, **{"x-tenant-id": "acme"}),
        lambda i, client: client.post(
            URL, body(discord_ids[i], email="Race@Example.com"), format="json"
        ),
    )
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: 1, 400: THREADS - 1}, statuses
    customers = Customer.objects.filter(tenant=world.tenant, email__iexact="race@example.com")
    assert customers.count() == 1
    customer = customers.get()
    winner = next(i for i, r in enumerate(results) if r.status_code == 201)
    assert customer.discord_id == discord_ids[winner]
    # every other Discord id was refused, naming the customer: none attached, none lost
    for i, response in enumerate(results):
        if i == winner:
            continue
        error = json_of(response)
        assert list(error["errors"]) == ["discordId"], error
        assert str(customer.uuid) in error["message"]
    held = set(
        Identifier.objects.filter(tenant=world.tenant, kind=DISCORD).values_list("value", flat=True)
    )
    assert held & set(discord_ids) == {discord_ids[winner]}
    assert (
        Identifier.objects.filter(tenant=world.tenant, kind=EMAIL, value="race@example.com").count()
        == 1
    )


def test_one_email_many_discord_ids_of_a_known_customer(world):
    known = CustomerFactory(tenant=world.tenant, email="known@example.com", discord_id="")
    token = user_token_issue(user=world.agent)[1]
    discord_ids = [str(800000 + i) for i in range(THREADS)]
    results = race(
        THREADS,
        lambda i: bearer_client(token, **{"x-tenant-id": "acme"}),
        lambda i, client: client.post(
            URL, body(discord_ids[i], email="known@example.com"), format="json"
        ),
    )
    statuses = Counter(r.status_code for r in results)
    # one attaches its Discord id to the customer, the others are refused
    assert statuses == {200: 1, 400: THREADS - 1}, statuses
    known.refresh_from_db()
    attached = next(i for i, r in enumerate(results) if r.status_code == 200)
    assert known.discord_id == discord_ids[attached]
    assert (
        Customer.objects.filter(tenant=world.tenant, email__iexact="known@example.com").count() == 1
    )
    assert set(
        Identifier.objects.filter(customer=known, kind=DISCORD).values_list("value", flat=True)
    ) == {discord_ids[attached]}


def test_one_new_discord_id(world):
    token = user_token_issue(user=world.agent)[1]
    results = race(
        THREADS,
        lambda i: bearer_client(token, **{"x-tenant-id": "acme"}),
        lambda i, client: client.post(URL, body("777777", email="same@example.com"), format="json"),
    )
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: 1, 200: THREADS - 1}, statuses
    assert len({json_of(r)["id"] for r in results}) == 1
    assert Customer.objects.filter(tenant=world.tenant, discord_id="777777").count() == 1
    assert Identifier.objects.filter(tenant=world.tenant, kind=DISCORD, value="777777").count() == 1
