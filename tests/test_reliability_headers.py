"""``Cache-Control: no-store`` on every API response (issue 17, item 7): records, tokens and
errors of every dialect, the auth endpoints, idempotent replays and streamed lists."""

from __future__ import annotations

import pytest

from tests.conftest import HubClient, api_key_client, bearer_client, session_client
from tests.reliability_support import DIALECTS, create_case

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


def test_every_kind_of_api_response_is_no_store(world, password):
    slug = world.tenant.slug
    data = bearer_client(world.agent, **{"x-tenant-id": slug})
    store = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
    peppered = api_key_client(world.api_key, "bare")
    b2b = bearer_client(world.agent)
    anonymous = HubClient()
    anonymous.raise_request_exception = False
    unknown = HubClient(check_schema=False)
    unknown.credentials(HTTP_AUTHORIZATION=f"Bearer {world.api_key.secret}")
    responses = {
        "data list (streamed)": data.get("/api/data/customer"),
        "data page": data.get("/api/data/customer", {"limit": 1}),
        "store list": store.get("/customers"),
        "peppered export": peppered.get(f"/v1/{slug}/peppered/export/clienttypes"),
        "b2b list": b2b.get("/api/customers"),
        "b2b 404": b2b.get("/api/customers/00000000-0000-4000-8000-000000000001"),
        "data 401": anonymous.get("/api/data/customer"),
        "peppered 401": anonymous.get(f"/v1/{slug}/peppered/export/clienttypes"),
        "data 400": data.post("/api/data/customer", {}, format="json"),
        "unknown URL under a dialect": unknown.get("/api/data/customer/a/b/c/d"),
        "token issued": anonymous.post(
            "/api/auth/token", {"username": "acme-agent", "password": password}, format="json"
        ),
        "token refused": anonymous.post(
            "/api/auth/token", {"username": "acme-agent", "password": "no"}, format="json"
        ),
        "me (Bearer)": b2b.get("/api/auth/me"),
        "me (session)": session_client(world.agent).get("/api/auth/me"),
    }
    for dialect in DIALECTS:
        case = create_case(dialect, world)
        first = case.client.post(case.path, case.body(1), format="json", HTTP_IDEMPOTENCY_KEY="c")
        replay = case.client.post(case.path, case.body(1), format="json", HTTP_IDEMPOTENCY_KEY="c")
        assert replay["Idempotent-Replayed"] == "true"
        responses[f"{dialect} create"] = first
        responses[f"{dialect} idempotent replay"] = replay
    missing = [name for name, response in responses.items() if not _no_store(response)]
    assert not missing, missing
