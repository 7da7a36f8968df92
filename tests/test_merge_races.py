"""Merges racing each other and the writers of the merged customer, with real threads released
together (issue 20, "Bad input and races"): one winner, a clear 4xx for the others, never a
500, nothing half-moved, no write lost on a tombstone."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from customers.models import Address, Customer, Identifier, Merge
from tests.conftest import bearer_client
from tests.factories import AddressFactory, CustomerFactory, SalesOrderFactory
from tests.openapi import openapi

pytestmark = pytest.mark.django_db(transaction=True)

MERGES = "/api/hub/merges"


def together(calls) -> list:
    """Run every ``call()`` in its own thread, released together; their results (responses,
    or the exception a thread raised)."""
    openapi()  # built once, before the threads check their responses against it
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = calls[index]()
        except BaseException as exc:  # reported below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, failed[:3]
    return results


def merge_call(client, survivor, merged):
    payload = {"survivor_id": str(survivor.uuid), "merged_id": str(merged.uuid)}
    return lambda: client.post(MERGES, payload, format="json")


def test_two_merges_of_the_same_customer_one_wins(world):
    merged = CustomerFactory(tenant=world.tenant)
    for key in ("home", "work"):
        AddressFactory(customer=merged, key=key)
    SalesOrderFactory(customer=merged)
    survivors = [CustomerFactory(tenant=world.tenant) for _ in range(4)]
    for survivor in survivors:
        AddressFactory(customer=survivor, key="home")
    clients = [bearer_client(world.agent) for _ in survivors]
    results = together([merge_call(c, s, merged) for c, s in zip(clients, survivors, strict=True)])
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: 1, 409: 3}, statuses
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {
        "customer_merged"
    }
    merge = Merge.objects.get()
    winner = merge.survivor
    assert Customer.objects.get(pk=merged.pk).merged_into_id == winner.pk
    # everything moved to the winner, nothing to a loser
    assert set(Address.objects.filter(customer=winner).values_list("key", flat=True)) == {
        "home",
        "home-merged",
        "work",
    }
    assert winner.orders.count() == 1
    for loser in survivors:
        if loser.pk != winner.pk:
            assert list(Address.objects.filter(customer=loser).values_list("key", flat=True)) == [
                "home"
            ]


def test_crossing_merges_never_deadlock(world):
    a, b = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    calls = [
        merge_call(bearer_client(world.agent), a, b),
        merge_call(bearer_client(world.admin), b, a),
    ]
    results = together(calls)
    assert sorted(r.status_code for r in results) == [201, 409]
    merge = Merge.objects.get()
    assert Customer.objects.filter(merged_into__isnull=False).get().pk == merge.merged_id


def test_writes_to_the_merged_customer_during_the_merge(world):
    survivor, merged = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    writers = 8
    calls = [merge_call(bearer_client(world.agent), survivor, merged)]
    for i in range(writers):
        client = bearer_client(world.agent)
        calls.append(
            lambda client=client, i=i: client.put(
                f"/api/customers/{merged.uuid}", {"notes": f"write {i}"}, format="json"
            )
        )
    results = together(calls)
    assert results[0].status_code == 201
    statuses = Counter(r.status_code for r in results[1:])
    assert set(statuses) <= {200, 409}, statuses
    for response in results[1:]:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "customer_merged"
    # the tombstone was last written by the merge: no write landed on it afterwards
    last = Customer.history.filter(id=merged.pk).order_by("-history_date", "-history_id").first()
    assert last.merged_into_id == survivor.pk
    # a write answered with the survivor's id is on the survivor
    survivor.refresh_from_db()
    on_survivor = [
        r.json()["data"]["notes"]
        for r in results[1:]
        if r.status_code == 200 and r.json()["data"]["id"] == str(survivor.uuid)
    ]
    if on_survivor:
        assert survivor.notes in on_survivor


def test_find_or_create_by_the_merged_email_while_the_merge_runs(world):
    """Issue 20: 20 threads find-or-create through the data dialect with the merged record's
    email and 20 different Discord ids while the merge runs: no 500, no second customer with
    that email, and every Discord id is either the survivor's (answered 200) or refused with
    a 4xx that says so (never attached to the tombstone, never silently dropped)."""
    survivor = CustomerFactory(tenant=world.tenant, email="stays@example.com", discord_id="")
    merged = CustomerFactory(tenant=world.tenant, email="twin@example.com", discord_id="")
    discord_ids = [str(700000 + i) for i in range(20)]
    finders = [bearer_client(world.agent, **{"x-tenant-id": "acme"}) for _ in discord_ids]
    calls = [
        (
            lambda client=client, discord_id=discord_id: client.post(
                "/api/data/customer",
                {
                    "discordId": discord_id,
                    "discordUsername": f"u{discord_id}",
                    "discordDisplayName": "Twin",
                    "email": "twin@example.com",
                },
                format="json",
            )
        )
        for client, discord_id in zip(finders, discord_ids, strict=True)
    ]
    results = together([merge_call(bearer_client(world.agent), survivor, merged), *calls])
    assert results[0].status_code == 201, results[0].content
    statuses = Counter(r.status_code for r in results[1:])
    assert set(statuses) <= {200, 400, 409}, statuses  # 201 would be a duplicate

    live = Customer.objects.filter(tenant=world.tenant, merged_into__isnull=True)
    assert live.filter(email__iexact="twin@example.com").count() <= 1
    assert (
        Identifier.objects.get(
            tenant=world.tenant, kind="email", value="twin@example.com"
        ).customer_id
        == survivor.pk
    )
    held = dict(
        Identifier.objects.filter(
            tenant=world.tenant, kind="discord", value__in=discord_ids
        ).values_list("value", "customer_id")
    )
    answered_200 = {
        d for d, r in zip(discord_ids, results[1:], strict=True) if r.status_code == 200
    }
    # each 200 attached its Discord id, and it now belongs to the survivor
    assert set(held) == answered_200
    assert set(held.values()) <= {survivor.pk}
    survivor.refresh_from_db()
    assert len(answered_200) <= 1 and (not answered_200 or survivor.discord_id in answered_200)
