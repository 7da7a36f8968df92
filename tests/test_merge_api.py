"""The hub's merges API (issue 20 item 6): preview, merge, read, list, undo, in the hub
dialect's envelopes (every response checked against the OpenAPI document by the clients)."""

from __future__ import annotations

import uuid

import pytest

from customers.models import Customer, Merge
from tests.conftest import api_key_client, bearer_client
from tests.factories import AccountFactory, AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db

MERGES = "/api/hub/merges"


def agent(world):
    return bearer_client(world.agent)


def body(survivor, merged, **extra):
    return {"survivor_id": str(survivor.uuid), "merged_id": str(merged.uuid), **extra}


def test_dry_run_answers_the_preview_and_changes_nothing(world, django_assert_max_num_queries):
    survivor, merged = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    AddressFactory(customer=merged, key="home")
    client = agent(world)
    with django_assert_max_num_queries(30):
        response = client.post(
            MERGES, body(survivor, merged, dry_run=True, fields={"email": "merged"}), format="json"
        )
    assert response.status_code == 200
    preview = response.json()["data"]
    assert preview["can_merge"] is True
    email = next(row for row in preview["fields"] if row["field"] == "email")
    assert email["value"] == merged.email and email["from"] == "merged"
    assert not Merge.objects.exists()
    assert Customer.objects.get(pk=merged.pk).merged_into_id is None


def test_merge_read_list_and_undo(world, django_assert_max_num_queries):
    survivor, merged = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    client = agent(world)
    with django_assert_max_num_queries(60):
        response = client.post(MERGES, body(survivor, merged), format="json")
    assert response.status_code == 201
    merge = response.json()["data"]
    assert merge["survivor_id"] == str(survivor.uuid) and merge["merged_id"] == str(merged.uuid)
    assert merge["merged_by"]["type"] == "user"
    assert merge["merged_by"]["name"] == world.agent.username
    assert merge["merged_by"]["origin"] == "api:hub"
    assert merge["undone_at"] is None

    viewer = bearer_client(world.viewer)
    assert viewer.get(f"{MERGES}/{merge['id']}").json()["data"]["id"] == merge["id"]
    with django_assert_max_num_queries(10):
        listed = viewer.get(MERGES).json()
    assert [m["id"] for m in listed["data"]] == [merge["id"]]

    with django_assert_max_num_queries(80):
        undone = client.post(f"{MERGES}/{merge['id']}/undo")
    assert undone.status_code == 200
    assert undone.json()["data"]["undone_by"]["name"] == world.agent.username
    again = client.post(f"{MERGES}/{merge['id']}/undo")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "merge_already_undone"


def test_the_list_is_paged_by_cursor_newest_first(world):
    merges = []
    for _ in range(3):
        survivor, merged = (
            CustomerFactory(tenant=world.tenant),
            CustomerFactory(tenant=world.tenant),
        )
        response = agent(world).post(MERGES, body(survivor, merged), format="json")
        merges.append(response.json()["data"]["id"])
    client = agent(world)
    first = client.get(f"{MERGES}?limit=2").json()
    assert [m["id"] for m in first["data"]] == merges[::-1][:2]
    second = client.get(f"{MERGES}?limit=2&cursor={first['meta']['next_cursor']}").json()
    assert [m["id"] for m in second["data"]] == merges[:1]
    assert second["meta"]["next_cursor"] is None


def test_viewers_only_read(world):
    survivor, merged = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    for client in (bearer_client(world.viewer), api_key_client(world.viewer_key)):
        for dry_run in (True, False):
            response = client.post(MERGES, body(survivor, merged, dry_run=dry_run), format="json")
            assert response.status_code == 403
    merge = api_key_client(world.api_key).post(MERGES, body(survivor, merged), format="json")
    assert merge.status_code == 201
    undo = bearer_client(world.viewer).post(f"{MERGES}/{merge.json()['data']['id']}/undo")
    assert undo.status_code == 403
    assert Merge.objects.get().undone_at is None


def test_bad_input(world, other):
    survivor, merged = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    foreign = CustomerFactory(tenant=other.tenant)
    client = agent(world)

    def post(payload):
        return client.post(MERGES, payload, format="json")

    assert post(body(survivor, survivor)).status_code == 400
    assert post(body(survivor, foreign)).status_code == 404
    assert post(body(foreign, survivor, dry_run=True)).status_code == 404
    missing = {"survivor_id": str(survivor.uuid), "merged_id": str(uuid.uuid4())}
    assert post(missing).status_code == 404
    assert post({"survivor_id": "nope", "merged_id": str(merged.uuid)}).status_code == 400
    assert post(body(survivor, merged, fields={"credit": "merged"})).status_code == 400
    assert post(body(survivor, merged, fields={"email": "both"})).status_code == 400
    assert post(body(survivor, merged)).status_code == 201
    tombstone = post(body(CustomerFactory(tenant=world.tenant), merged))
    assert tombstone.status_code == 409
    assert tombstone.json()["error"]["code"] == "customer_merged"
    assert client.get(f"{MERGES}/{uuid.uuid4()}").status_code == 404
    assert client.get(f"{MERGES}/not-an-id").status_code == 404
    theirs = bearer_client(other.agent)
    assert theirs.get(f"{MERGES}/{Merge.objects.get().id}").status_code == 404
    assert theirs.post(f"{MERGES}/{Merge.objects.get().id}/undo").status_code == 404


def test_blocked_merge_is_a_409_with_the_blockers(world):
    survivor, merged = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    AccountFactory(customer=survivor, currency="USD")
    AccountFactory(customer=merged, currency="EUR")
    client = agent(world)
    preview = client.post(MERGES, body(survivor, merged, dry_run=True), format="json")
    assert preview.status_code == 200 and preview.json()["data"]["can_merge"] is False
    response = client.post(MERGES, body(survivor, merged), format="json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "merge_blocked" and "currencies" in error["message"]


def test_idempotency_key_replays_the_merge(world):
    survivor, merged = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=world.tenant)
    client = agent(world)
    first = client.post(MERGES, body(survivor, merged), format="json", HTTP_IDEMPOTENCY_KEY="m-1")
    again = client.post(MERGES, body(survivor, merged), format="json", HTTP_IDEMPOTENCY_KEY="m-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Merge.objects.count() == 1
