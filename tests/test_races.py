"""Races on both databases: real threads released together by a barrier (issue 8, guarantee
3; the lost updates of issue 17).

Every request of every race gets a documented answer (the clients validate each response
against the OpenAPI document) and never a 500; the database ends in the one state the
contract allows.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from unittest import mock

import pytest
from django.db import connection

from b2b.models import Contact, SalesOrder
from customers.models import ClientType, Customer
from stores.models import CustomerStore
from tenants.models import IdempotencyRecord
from tenants.services import user_token_issue
from tests.conftest import api_key_client, bearer_client, json_of
from tests.factories import (
    AccountFactory,
    AddressFactory,
    ClientTypeFactory,
    ContactFactory,
    CustomerFactory,
    CustomerStoreFactory,
)
from tests.openapi import openapi
from tests.reliability_support import record_figure, route_exists

pytestmark = pytest.mark.django_db(transaction=True)

#: threads per race (docs/reliability.md reports these)
THREADS = {
    "find_or_create_by_discord_id": 50,
    "duplicate_peppered_email": 20,
    "primary_contacts": 20,
    "order_numbers": 20,
    "bulk_removal_vs_creation": 20,
    "idempotency_key": 10,
}


def race(n: int, prepare, act, *, strict: bool = True) -> list:
    """Run ``act(i, prepared)`` in ``n`` threads released together; returns the results
    (responses, or the exception a thread raised). ``strict``: fail on an exception or a 5xx
    (``race_rounds`` counts them instead)."""
    openapi()  # build the document once, before the threads validate against it
    prepared = [prepare(i) for i in range(n)]
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = act(index, prepared[index])
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    if not strict:
        return results
    record_figure("race", test=os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0], threads=n)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, f"{len(errors)} thread(s) failed: {errors[:3]!r}"
    statuses = [r.status_code for r in results]
    assert all(s < 500 for s in statuses), Counter(statuses)
    return results


def _require(path: str, method: str):
    if not route_exists(path, method):
        pytest.skip(f"{method} {path} does not exist yet")


def test_find_or_create_by_discord_id(world):
    _require("/api/data/customer", "POST")
    n = THREADS["find_or_create_by_discord_id"]
    token = user_token_issue(user=world.agent)[1]
    body = {"discordId": "424242", "discordUsername": "racer", "discordDisplayName": "Racer"}
    results = race(
        n,
        lambda i: bearer_client(token, **{"x-tenant-id": "acme"}),
        lambda i, client: client.post("/api/data/customer", body, format="json"),
    )
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: 1, 200: n - 1}, statuses
    assert Customer.objects.filter(tenant=world.tenant, discord_id="424242").count() == 1
    assert len({json_of(r)["id"] for r in results}) == 1


def test_duplicate_peppered_email(world):
    path = f"/v1/{world.tenant.slug}/peppered/customer"
    _require(path, "POST")
    n = THREADS["duplicate_peppered_email"]
    body = {"email": "race@example.com", "customerFirstName": "Race"}
    results = race(
        n,
        lambda i: api_key_client(world.api_key, "bare"),
        lambda i, client: client.post(path, body, format="json"),
    )
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: 1, 422: n - 1}, statuses
    for response in results:
        if response.status_code == 422:
            assert "email" in json_of(response)["errors"]
    assert Customer.objects.filter(email__iexact="race@example.com").count() == 1


def test_primary_contacts(world):
    customer = CustomerFactory(tenant=world.tenant)
    AccountFactory(customer=customer)
    path = f"/api/customers/{customer.uuid}/contacts"
    _require(path, "POST")
    n = THREADS["primary_contacts"]
    token = user_token_issue(user=world.agent)[1]
    results = race(
        n,
        lambda i: bearer_client(token),
        lambda i, client: client.post(
            path,
            {"name": f"Contact {i}", "email": f"c{i}@example.com", "is_primary": True},
            format="json",
        ),
    )
    statuses = Counter(r.status_code for r in results)
    assert set(statuses) <= {201, 409}, statuses
    assert statuses[201] >= 1
    assert Contact.objects.filter(customer=customer, is_primary=True).count() == 1
    assert Contact.objects.filter(customer=customer).count() == statuses[201]


def test_order_numbers(world):
    _require("/api/orders", "POST")
    customer = CustomerFactory(tenant=world.tenant)
    AccountFactory(customer=customer)
    n = THREADS["order_numbers"]
    token = user_token_issue(user=world.agent)[1]
    body = {
        "customer_id": str(customer.uuid),
        "lines": [{"product_id": str(world.products[0].id), "quantity": 2}],
    }
    results = race(
        n,
        lambda i: bearer_client(token),
        lambda i, client: client.post("/api/orders", body, format="json"),
    )
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: n}, statuses
    numbers = [json_of(r)["data"]["order_number"] for r in results]
    assert len(set(numbers)) == n
    assert SalesOrder.objects.filter(tenant=world.tenant).count() == n


def test_bulk_removal_racing_creation(world):
    _require("/customers/bulk", "DELETE")
    _require("/customers", "POST")
    linked = [CustomerStoreFactory(store=world.store).customer for _ in range(30)]
    ids = [str(c.uuid) for c in linked]
    n = THREADS["bulk_removal_vs_creation"]
    token = user_token_issue(user=world.agent)[1]

    def act(i, client):
        if i % 2:
            return client.post("/customers", {"localName": f"Racing shop {i}"}, format="json")
        # Overlapping removals: each remover sends a third of the ids, shifted.
        chunk = ids[(i * 3) % 30 :] + ids[: (i * 3) % 30]
        return client.delete("/customers/bulk", {"ids": chunk[:10]}, format="json")

    results = race(n, lambda i: bearer_client(token, **{"x-store-id": str(world.store.id)}), act)
    removals = [r for i, r in enumerate(results) if i % 2 == 0]
    creations = [r for i, r in enumerate(results) if i % 2]
    assert {r.status_code for r in removals} == {200}
    assert {r.status_code for r in creations} == {200}
    removed = sum(json_of(r)["deletedCount"] for r in removals)
    remaining = CustomerStore.objects.filter(store=world.store, customer__in=linked).count()
    # Every link was removed at most once, and the counts add up.
    assert removed + remaining == len(linked)
    # Every created customer exists and is linked to the store.
    for response in creations:
        created_id = json_of(response)["customer"]["id"]
        assert CustomerStore.objects.filter(store=world.store, customer__uuid=created_id).exists()
    # The customers themselves are never deleted.
    assert Customer.objects.filter(pk__in=[c.pk for c in linked]).count() == len(linked)


def test_concurrent_requests_with_one_idempotency_key(world):
    _require("/api/data/customer", "POST")
    n = THREADS["idempotency_key"]
    token = user_token_issue(user=world.agent)[1]
    body = {"discordId": "idem", "discordUsername": "idem", "discordDisplayName": "Idem"}
    from customers import services

    original = services.customer_find_or_create_by_discord

    def slow(*args, **kwargs):
        time.sleep(0.5)  # the first request is still running when the others arrive
        return original(*args, **kwargs)

    with mock.patch.object(services, "customer_find_or_create_by_discord", side_effect=slow) as m:
        results = race(
            n,
            lambda i: bearer_client(token, **{"x-tenant-id": "acme"}),
            lambda i, client: client.post(
                "/api/data/customer", body, format="json", HTTP_IDEMPOTENCY_KEY="same-key"
            ),
        )
    assert m.call_count == 1, "the view ran more than once"
    statuses = Counter(r.status_code for r in results)
    assert statuses[201] >= 1 and set(statuses) <= {201, 409}, statuses
    originals = [
        r for r in results if r.status_code == 201 and not r.has_header("Idempotent-Replayed")
    ]
    assert len(originals) == 1
    assert statuses[409] >= 1
    assert Customer.objects.filter(discord_id="idem").count() == 1
    assert IdempotencyRecord.objects.get(key="same-key").state == "completed"


# --- lost updates (issue 17): writers of one record, round after round ----------------------

#: rounds per lost-update race of two or three writers (docs/reliability.md reports them)
ROUNDS = 25


def race_rounds(clients, acts, *, setup, lost, rounds: int = ROUNDS) -> None:
    """``rounds`` rounds of one race: ``setup(r)`` makes fresh rows, then ``acts[i](client,
    state, r)`` run together, each in its own thread with its own client (``clients[i]``),
    and ``lost(state, r, responses)`` names every change that did not survive. A round
    fails when a thread raised (the clients check each answer against the OpenAPI document),
    something answered 5xx, or something was lost; the test fails after the last round with
    the number of rounds that failed."""
    failed = []
    for r in range(rounds):
        state = setup(r)
        results = race(
            len(acts),
            lambda i: clients[i],
            lambda i, client, state=state, r=r: acts[i](client, state, r),
            strict=False,
        )
        problems = [repr(x)[:300] for x in results if isinstance(x, BaseException)]
        problems += [
            f"{x.status_code} {x.content[:200]!r}"
            for x in results
            if not isinstance(x, BaseException) and x.status_code >= 500
        ]
        if not problems:
            problems = lost(state, r, results)
        if problems:
            failed.append((r, problems))
    record_figure(
        "race_rounds",
        test=os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0],
        database=connection.vendor,
        threads=len(acts),
        rounds=rounds,
        failed=len(failed),
    )
    assert not failed, f"{len(failed)} of {rounds} rounds failed; first: {failed[:3]}"


def _statuses(results, expected: set[int]) -> list[str]:
    return [f"answered {r.status_code}" for r in results if r.status_code not in expected]


def _data_clients(world, n=2):
    token = user_token_issue(user=world.agent)[1]
    return [bearer_client(token, **{"x-tenant-id": world.tenant.slug}) for _ in range(n)]


def _peppered(world):
    return api_key_client(world.api_key, "bare")


def _data_patch(body):
    return lambda client, c, r: client.patch(f"/api/data/customer/{c.uuid}", body(r), format="json")


def _peppered_put(world, body):
    return lambda client, c, r: client.put(
        f"/v1/{world.tenant.slug}/peppered/customer/{c.pk}", body(r), format="json"
    )


def _phone(r: int) -> str:
    return f"+3161234{r:04d}"  # E.164 already: stays the same under any normalisation


def test_data_patch_notes_racing_data_patch_phone(world):
    def lost(c, r, results):
        c.refresh_from_db()
        return _statuses(results, {200}) + [
            what
            for what, ok in (("notes", c.notes == f"note {r}"), ("phone", c.phone == _phone(r)))
            if not ok
        ]

    race_rounds(
        _data_clients(world),
        [
            _data_patch(lambda r: {"notes": f"note {r}"}),
            _data_patch(lambda r: {"phone": _phone(r)}),
        ],
        setup=lambda r: CustomerFactory(tenant=world.tenant),
        lost=lost,
    )


def test_peppered_put_first_name_racing_peppered_put_last_name(world):
    def lost(c, r, results):
        c.refresh_from_db()
        return _statuses(results, {200}) + [
            f"{what}={value!r}"
            for what, value, want in (
                ("first_name", c.first_name, f"Ann{r}"),
                ("last_name", c.last_name, f"Lee{r}"),
                ("name", c.name, f"Ann{r} Lee{r}"),  # the name follows the names
            )
            if value != want
        ]

    race_rounds(
        [_peppered(world), _peppered(world)],
        [
            _peppered_put(world, lambda r: {"customerFirstName": f"Ann{r}"}),
            _peppered_put(world, lambda r: {"customerLastName": f"Lee{r}"}),
        ],
        setup=lambda r: CustomerFactory(
            tenant=world.tenant, first_name="Old", last_name="Name", name="Old Name"
        ),
        lost=lost,
    )


def test_data_patch_racing_peppered_put(world):
    def lost(c, r, results):
        c.refresh_from_db()
        return _statuses(results, {200}) + [
            what
            for what, ok in (
                ("notes", c.notes == f"note {r}"),
                ("first_name", c.first_name == f"Ann{r}"),
            )
            if not ok
        ]

    race_rounds(
        [_data_clients(world, 1)[0], _peppered(world)],
        [
            _data_patch(lambda r: {"notes": f"note {r}"}),
            _peppered_put(world, lambda r: {"customerFirstName": f"Ann{r}"}),
        ],
        setup=lambda r: CustomerFactory(tenant=world.tenant),
        lost=lost,
    )


def _with_addresses(world, *keys):
    customer = CustomerFactory(tenant=world.tenant)
    addresses = [AddressFactory(customer=customer, key=key) for key in keys]
    customer.default_address = addresses[0]
    customer.save(update_fields=["default_address"])
    return customer


def test_default_address_change_racing_data_patch(world):
    def lost(c, r, results):
        c.refresh_from_db()
        return _statuses(results, {200}) + [
            what
            for what, ok in (
                ("default address", c.default_address.key == "second"),
                ("notes", c.notes == f"note {r}"),
            )
            if not ok
        ]

    race_rounds(
        _data_clients(world),
        [
            lambda client, c, r: client.patch(
                f"/api/data/customer/{c.uuid}/default-address",
                {"addressId": "second"},
                format="json",
            ),
            _data_patch(lambda r: {"notes": f"note {r}"}),
        ],
        setup=lambda r: _with_addresses(world, "first", "second"),
        lost=lost,
    )


def test_removing_the_default_address_racing_data_patch(world):
    def lost(c, r, results):
        c.refresh_from_db()
        return _statuses(results, {200}) + [
            what
            for what, ok in (
                ("address removed", not c.addresses.filter(key="first").exists()),
                ("default cleared", c.default_address_id is None),
                ("notes", c.notes == f"note {r}"),
            )
            if not ok
        ]

    race_rounds(
        _data_clients(world),
        [
            lambda client, c, r: client.delete(f"/api/data/customer/{c.uuid}/address/first"),
            _data_patch(lambda r: {"notes": f"note {r}"}),
        ],
        setup=lambda r: _with_addresses(world, "first"),
        lost=lost,
    )


def test_two_client_type_lists_one_wins_whole(world):
    lists = [["donor", "friend"], ["partner", "vip"]]
    for name in ("donor", "friend", "partner", "vip", "old"):
        ClientTypeFactory(tenant=world.tenant, name=name)
    old = [ClientType.objects.get(tenant=world.tenant, name="old")]

    def lost(c, r, results):
        tags = sorted(c.tags.values_list("name", flat=True))
        answers = [json_of(x) for x in results]
        problems = _statuses(results, {200})
        if tags not in lists:
            problems.append(f"tags {tags}: neither list")
        if answers != lists:
            problems.append(f"answers {answers}")
        return problems

    path = f"/v1/{world.tenant.slug}/peppered/customer/{{}}/clienttypes"
    race_rounds(
        [_peppered(world), _peppered(world)],
        [
            lambda client, c, r, names=names: client.post(
                path.format(c.pk), {"clienttypes": names}, format="json"
            )
            for names in lists
        ],
        setup=lambda r: CustomerFactory(tenant=world.tenant, tags=old),
        lost=lost,
    )


def test_store_price_list_put_racing_data_patch(world):
    token = user_token_issue(user=world.agent)[1]
    store_client = bearer_client(token, **{"x-store-id": str(world.store.id)})

    def lost(c, r, results):
        c.refresh_from_db()
        link = CustomerStore.objects.get(customer=c, store=world.store)
        return _statuses(results, {200}) + [
            what
            for what, ok in (
                ("price list", link.price_list_id == world.price_list.id),
                ("name", c.name == f"Shop {r}"),
                ("notes", c.notes == f"note {r}"),
            )
            if not ok
        ]

    race_rounds(
        [store_client, _data_clients(world, 1)[0]],
        [
            lambda client, c, r: client.put(
                f"/customers/{c.uuid}/price-list",
                {"priceListId": str(world.price_list.id), "name": f"Shop {r}"},
                format="json",
            ),
            _data_patch(lambda r: {"notes": f"note {r}"}),
        ],
        setup=lambda r: CustomerStoreFactory(store=world.store).customer,
        lost=lost,
    )


def test_b2b_put_racing_peppered_put(world):
    token = user_token_issue(user=world.agent)[1]

    def setup(r):
        customer = CustomerFactory(tenant=world.tenant)
        AccountFactory(customer=customer, payment_terms="net_30")
        return customer

    def lost(c, r, results):
        c.refresh_from_db()
        return _statuses(results, {200}) + [
            what
            for what, ok in (
                ("notes", c.notes == f"note {r}"),
                ("payment terms", c.account.payment_terms == "net_60"),
                ("first_name", c.first_name == f"Ann{r}"),
            )
            if not ok
        ]

    race_rounds(
        [bearer_client(token), _peppered(world)],
        [
            lambda client, c, r: client.put(
                f"/api/customers/{c.uuid}",
                {"notes": f"note {r}", "payment_terms": "net_60"},
                format="json",
            ),
            _peppered_put(world, lambda r: {"customerFirstName": f"Ann{r}"}),
        ],
        setup=setup,
        lost=lost,
    )


def test_address_add_racing_address_add(world):
    def add(key):
        return lambda client, c, r: client.post(
            f"/api/data/customer/{c.uuid}/address",
            {
                "addressId": key,
                "name": key,
                "line1": "Main 1",
                "city": "Utrecht",
                "state": "UT",
                "postalCode": "3511AA",
                "country": "NL",
            },
            format="json",
        )

    def lost(c, r, results):
        keys = sorted(c.addresses.values_list("key", flat=True))
        return _statuses(results, {200}) + ([f"addresses {keys}"] if keys != ["a", "b"] else [])

    race_rounds(
        _data_clients(world),
        [add("a"), add("b")],
        setup=lambda r: CustomerFactory(tenant=world.tenant),
        lost=lost,
    )


def test_b2b_contact_updates_racing_account_update(world):
    token = user_token_issue(user=world.agent)[1]

    def setup(r):
        customer = CustomerFactory(tenant=world.tenant)
        AccountFactory(customer=customer, payment_terms="net_30")
        customer.contact = ContactFactory(customer=customer, title="Buyer", phone="+15550100")
        return customer

    def lost(c, r, results):
        contact = Contact.objects.get(pk=c.contact.pk)
        c.refresh_from_db()
        return _statuses(results, {200}) + [
            what
            for what, ok in (
                ("contact title", contact.title == f"Chief {r}"),
                ("contact phone", contact.phone == _phone(r)),
                ("payment terms", c.account.payment_terms == "net_60"),
                ("notes", c.notes == f"note {r}"),
            )
            if not ok
        ]

    def contact_put(body):
        return lambda client, c, r: client.put(
            f"/api/customers/{c.uuid}/contacts/{c.contact.id}", body(r), format="json"
        )

    race_rounds(
        [bearer_client(token) for _ in range(3)],
        [
            contact_put(lambda r: {"title": f"Chief {r}"}),
            contact_put(lambda r: {"phone": _phone(r)}),
            lambda client, c, r: client.put(
                f"/api/customers/{c.uuid}",
                {"notes": f"note {r}", "payment_terms": "net_60"},
                format="json",
            ),
        ],
        setup=setup,
        lost=lost,
    )
