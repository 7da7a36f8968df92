"""The OpenAPI document works for a generated client (issue 17 item 9).

A client is generated from /api/schema/ with openapi-python-client (a dev dependency) and one
operation of each dialect is called through it against a live server: every request must
succeed and every answer must parse into the generated models (a strict client: enums,
required and nullable fields exactly as the document declares them). Before the fix, the
store dialect's ``x-store-id`` was ``format: uuid``: the client passed a UUID object as a
header value and every store call failed.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys

import pytest
from django.test import Client

from customers.models import Customer, Source
from stores.services import customer_store_link
from tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        importlib.util.find_spec("openapi_python_client") is None,
        reason="openapi-python-client is not installed (pip install -e '.[dev]')",
    ),
]

PACKAGE = "hub_generated_client"


@pytest.fixture
def client_package(tmp_path, monkeypatch):
    """The generated client package, importable for this test only."""
    served = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert served.status_code == 200
    spec = tmp_path / "openapi.json"
    spec.write_bytes(served.content)  # the document as /api/schema/ serves it
    config = tmp_path / "config.yaml"
    config.write_text(f"project_name_override: {PACKAGE}\npackage_name_override: {PACKAGE}\n")
    config.write_text(config.read_text() + "post_hooks: []\n")
    # the privacy export's zip (customers/api/hub/privacy.py): bytes, as any binary answer
    config.write_text(
        config.read_text()
        + "content_type_overrides:\n  application/zip: application/octet-stream\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
        del sys.modules[name]
    yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
        del sys.modules[name]


def test_one_operation_per_dialect_through_a_generated_client(live_server, world, client_package):
    from tenants.services import user_token_issue

    client_module = client_package("client")
    token = user_token_issue(user=world.agent)[1]
    bearer = client_module.AuthenticatedClient(base_url=live_server.url, token=token)
    key = client_module.AuthenticatedClient(
        base_url=live_server.url, token=world.api_key.secret, prefix=""
    )
    # a customer made elsewhere (no Discord id, a source the data seed does not know)
    other = CustomerFactory(
        tenant=world.tenant,
        discord_id="",
        discord_username="",
        discord_display_name="",
        source=Source.STORE,
    )
    customer_store_link(customer=other, store=world.store)

    # data: find or create, and read a customer made elsewhere
    data = client_package("api.data.data_customer_find_or_create")
    models = client_package("models")
    response = data.sync_detailed(
        client=bearer,
        body=models.DataCustomerCreateRequest(
            discord_id="7001",
            discord_username="gamer",
            discord_display_name="Gamer",
            phone="06 12345678",
        ),
        x_tenant_id=world.tenant.slug,
    )
    assert response.status_code == 201, response.content
    assert response.parsed.phone == "+31612345678"
    response = client_package("api.data.data_customer_retrieve").sync_detailed(
        str(other.uuid), client=bearer, x_tenant_id=world.tenant.slug
    )
    assert response.status_code == 200, response.content
    assert response.parsed.discord_id is None
    assert response.parsed.source.value == "MANUAL"

    # store: the list; x-store-id is a string in the client's signature (a header value),
    # not a UUID object that httpx cannot send
    store_list = client_package("api.store_customers.store_customers_list")
    hint = inspect.signature(store_list.sync_detailed).parameters["x_store_id"].annotation
    assert hint in (str, "str"), hint
    response = store_list.sync_detailed(client=bearer, x_store_id=str(world.store.id))
    assert response.status_code == 200, response.content
    assert other.uuid in [item.id for item in response.parsed.data]  # parsed as UUIDs

    # peppered: the API key as the bare Authorization value
    response = client_package("api.peppered.peppered_customer_get").sync_detailed(
        world.tenant.slug, other.pk, client=key
    )
    assert response.status_code == 200, response.content
    assert response.parsed.customer_id == other.pk
    missing = client_package("api.peppered.peppered_customer_get").sync_detailed(
        world.tenant.slug, 2**62, client=key
    )
    assert missing.status_code == 404
    assert missing.parsed.message == "Customer not found."  # the documented 404 body

    # b2b: a record, the tenant from the credential (x-tenant-id is optional)
    response = client_package("api.b2b_customers.b2b_customers_retrieve").sync_detailed(
        str(other.uuid), client=bearer
    )
    assert response.status_code == 200, response.content
    assert response.parsed.data.id == other.uuid
    assert Customer.objects.filter(tenant=world.tenant, discord_id="7001").exists()

    # hub: the change events, each parsed into its type's model (a discriminated union);
    # the data call above made this one
    events_list = client_package("api.hub_events.hub_event_list")
    family = client_package("models.hub_event_list_type_item").HubEventListTypeItem("customer.*")
    response = events_list.sync_detailed(
        client=bearer, x_tenant_id=world.tenant.slug, type_=[family], limit=5
    )
    assert response.status_code == 200, response.content
    created = [e for e in response.parsed.data if e.type_.value == "customer.created"]
    assert created and type(created[0]).__name__ == "HubEventCustomerCreated"
    assert created[0].data.discord_id == "7001"
    response = client_package("api.hub_events.hub_event_get").sync_detailed(
        str(created[0].id), client=key
    )
    assert response.status_code == 200, response.content
    assert response.parsed.data.id == created[0].id
