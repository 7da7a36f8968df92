"""The hub dialect (/api/hub/) and its first route, GET /api/hub/customers/{id}/history.

Every response is checked against the OpenAPI document by the shared clients."""

from __future__ import annotations

import pytest

from customers.services import address_add, customer_create, customer_update
from tenants.api.hub import encode_cursor
from tenants.services import api_key_issue
from tests.conftest import HubClient, api_key_client, bearer_client
from tests.factories import CustomerFactory
from tests.openapi import openapi

pytestmark = pytest.mark.django_db


def history_url(customer) -> str:
    return f"/api/hub/customers/{customer.uuid}/history"


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def test_history_through_the_hub_api(world):
    key, secret = api_key_issue(tenant=world.tenant, name="Shop sync")
    customer = customer_create(tenant=world.tenant, name="Ada", email="ada@example.com")
    address_add(customer=customer, key="home", line1="Elm St", city="Haarlem")
    response = bearer_client(secret).put(
        f"/api/customers/{customer.uuid}", {"payment_terms": "net_60"}, format="json"
    )
    assert response.status_code == 200

    response = bearer_client(world.viewer).get(history_url(customer))
    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"limit": 20, "next_cursor": None}
    newest = body["data"][0]
    assert newest["summary"] == "B2B account changed"
    assert newest["action"] == "changed" and newest["at"].endswith("Z")
    assert newest["actor"] == {
        "type": "api_key",
        "name": "Shop sync",
        "id": str(key.pk),
        "origin": "api:b2b",
        "label": "API key 'Shop sync'",
    }
    assert newest["changes"] == [
        {"field": "payment_terms", "label": "Payment terms", "old": "Net 30", "new": "Net 60"}
    ]
    assert [entry["summary"] for entry in body["data"][1:]] == [
        "B2B account created",
        "Address 'home' (Elm St, Haarlem) created",
        "Customer 'Ada' created",
    ]
    assert body["data"][-1]["object"] == {
        "type": "customer",
        "id": str(customer.uuid),
        "label": "Customer 'Ada'",
    }
    assert body["data"][-1]["actor"]["type"] == "system"


def test_pages_by_cursor(world):
    customer = customer_create(tenant=world.tenant, name="Paged")
    for n in range(7):
        customer_update(customer=customer, notes=f"note {n}")
    client = api_key_client(world.viewer_key)
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get(history_url(customer), query).json()
        assert body["meta"]["limit"] == 3
        seen.extend(entry["id"] for entry in body["data"])
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": encode_cursor(["2026-01-01T00:00:00+00:00", "customer"])}, "cursor"),
        ({"cursor": encode_cursor({"a": 1})}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
    ],
)
def test_invalid_paging_is_a_400_in_the_hub_envelope(world, query, field):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.agent).get(history_url(customer), query)
    assert response.status_code == 400
    error = error_of(response)
    assert field in error["details"] and error["message"].startswith(f"{field}:")


def test_tenancy_and_credentials(world, other):
    mine = CustomerFactory(tenant=world.tenant)
    theirs = CustomerFactory(tenant=other.tenant, name="victim")
    # another tenant's customer is a 404, like a missing one
    for client in (bearer_client(world.admin), api_key_client(world.api_key, "bare")):
        response = client.get(history_url(theirs))
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
        assert "victim" not in response.content.decode()
    response = bearer_client(world.admin).get("/api/hub/customers/not-a-uuid/history")
    assert response.status_code == 404
    # x-tenant-id: optional; another tenant's is a 403
    response = bearer_client(world.agent, **{"x-tenant-id": "acme"}).get(history_url(mine))
    assert response.status_code == 200
    response = bearer_client(world.agent, **{"x-tenant-id": "globex"}).get(history_url(mine))
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    # no credentials: 401 with WWW-Authenticate
    response = HubClient().get(history_url(mine))
    assert response.status_code == 401 and response.has_header("WWW-Authenticate")
    assert error_of(response)["code"] == "unauthenticated"


def test_unknown_hub_paths_answer_in_the_hub_envelope(world):
    response = bearer_client(world.agent).get("/api/hub/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_the_auth_endpoints_keep_their_own_error_format(world):
    response = HubClient().get("/api/auth/me")
    assert response.status_code == 401
    assert set(response.json()) == {"message", "code", "requestId"}


def test_history_queries_are_bounded(world, django_assert_max_num_queries):
    customer = customer_create(tenant=world.tenant, name="Busy")
    for n in range(40):
        customer_update(customer=customer, notes=f"{n}")
        address_add(customer=customer, key=f"k{n}", city=f"C{n}")
    client = bearer_client(world.agent)
    client.get(history_url(customer))  # warm the caches of the first request
    # the token, the tenant and the role (4), the customer (1), then the timeline: per source
    # a page and the previous versions, and the labels (users, addresses, stores, price lists)
    with django_assert_max_num_queries(5 + 6 * 2 + 4):
        response = client.get(history_url(customer), {"limit": 100})
    assert len(response.json()["data"]) == 81


def test_the_document_describes_the_hub_dialect():
    document = openapi()
    operation = document["paths"]["/api/hub/customers/{customer_id}/history"]["get"]
    ref = "#/components/schemas/HubError"
    for status in ("400", "401", "403", "404", "429", "500"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": ref
        }
    assert {p["name"] for p in operation["parameters"]} >= {"x-tenant-id", "cursor", "limit"}
    assert "error" in document["components"]["schemas"]["HubError"]["properties"]
    auth = document["components"]["schemas"]["AuthError"]
    assert set(auth["required"]) == {"message", "code", "requestId"}


def test_store_links_on_the_history_follow_the_callers_stores(world):
    """An agent or viewer reaches a store only through its store relation (DESIGN §3): the
    links of other stores are not on its timeline; an admin and an API key see them all."""
    from stores.services import customer_store_link

    customer = customer_create(tenant=world.tenant, name="Linked")
    customer_store_link(customer=customer, store=world.store)
    customer_store_link(customer=customer, store=world.store2)

    def links(client) -> set[str]:
        response = client.get(history_url(customer))
        assert response.status_code == 200
        return {
            e["summary"] for e in response.json()["data"] if e["object"]["type"] == "store_link"
        }

    mine = f"Link to store '{world.store.name}' created"
    theirs = f"Link to store '{world.store2.name}' created"
    assert links(bearer_client(world.agent)) == {mine}
    assert links(bearer_client(world.viewer)) == {mine}
    assert links(bearer_client(world.admin)) == {mine, theirs}
    assert links(api_key_client(world.viewer_key)) == {mine, theirs}
