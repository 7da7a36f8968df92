"""The read-replica router (config/db_router.py), with a second database alias ``replica``.

In production ``replica`` is another server (``DATABASE_REPLICA_URL``); here it is a second
connection to the test database (like ``TEST: {"MIRROR": "default"}``), so the tests can see
which alias each query used. The request-level tests are transactional: the replica
connection sees only committed rows, as a real replica would.
"""

from __future__ import annotations

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from config import db_router
from config.db_router import PrimaryReplicaRouter, allow_replica_reads, use_primary
from customers.models import Customer
from tests.conftest import api_key_client, bearer_client
from tests.factories import CustomerFactory

ROUTER = "config.db_router.PrimaryReplicaRouter"
MIDDLEWARE = "config.db_router.ReplicaReadsMiddleware"


def _declare_replica_alias() -> None:
    """Declare ``replica`` as a mirror of ``default`` before the test databases are set up
    (at collection), as settings do when DATABASE_REPLICA_URL is set. Nothing routes to it
    unless a test installs the router."""
    from django.conf import settings

    if "replica" not in settings.DATABASES:
        replica = dict(settings.DATABASES["default"])
        replica["TEST"] = {**replica.get("TEST", {}), "MIRROR": "default"}
        settings.DATABASES["replica"] = replica
    if "replica" not in connections.settings:
        connections.settings["replica"] = settings.DATABASES["replica"]


_declare_replica_alias()
pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def replica(settings):
    """The router and its middleware, as settings install them with a replica URL."""
    settings.DATABASE_ROUTERS = [ROUTER]
    if MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [settings.MIDDLEWARE[0], MIDDLEWARE, *settings.MIDDLEWARE[1:]]
    yield
    db_router.allow_replica_reads(False)
    connections["replica"].close()


live_replica = replica


# --- routing decisions (transactional: a test transaction would pin the primary) -----------


def test_reads_outside_a_request_go_to_the_primary(replica):
    assert Customer.objects.all().db == "default"


def test_safe_reads_go_to_the_replica(replica):
    allow_replica_reads()
    assert Customer.objects.all().db == "replica"
    assert Customer.objects.filter(name="x").db == "replica"


def test_writes_go_to_the_primary_and_pin_it(replica):
    allow_replica_reads()
    assert Customer.objects.all().db == "replica"
    assert PrimaryReplicaRouter().db_for_write(Customer) == "default"
    assert Customer.objects.all().db == "default"


def test_locking_reads_and_get_or_create_use_the_primary(replica):
    allow_replica_reads()
    assert Customer.objects.select_for_update().db == "default"
    allow_replica_reads()
    assert Customer.objects.all()._db is None
    qs = Customer.objects.all()
    qs._for_write = True  # what get_or_create/update_or_create do
    assert qs.db == "default"


def test_reads_inside_a_transaction_use_the_primary(replica):
    allow_replica_reads()
    with transaction.atomic():
        assert Customer.objects.all().db == "default"
    assert Customer.objects.all().db == "replica"


def test_use_primary_forces_the_primary_for_a_block(replica):
    allow_replica_reads()
    with use_primary():
        assert Customer.objects.all().db == "default"
    assert Customer.objects.all().db == "replica"


def test_relations_between_aliases_are_allowed_and_only_the_primary_migrates(replica):
    router = PrimaryReplicaRouter()
    a, b = Customer(), Customer()
    a._state.db, b._state.db = "default", "replica"
    assert router.allow_relation(a, b) is True
    b._state.db = "elsewhere"
    assert router.allow_relation(a, b) is None
    assert router.allow_migrate("default", "customers") is True
    assert router.allow_migrate("replica", "customers") is False


def test_without_a_replica_alias_reads_stay_on_the_primary(replica, monkeypatch):
    monkeypatch.delitem(connections.settings, "replica")
    allow_replica_reads()
    assert PrimaryReplicaRouter().db_for_read(Customer) == "default"


# --- whole requests, with a real second connection --------------------------------------------


def _capture():
    return CaptureQueriesContext(connections["default"]), CaptureQueriesContext(
        connections["replica"]
    )


def _tables(ctx) -> str:
    return " ".join(q["sql"] for q in ctx.captured_queries)


def test_get_request_reads_from_the_replica(live_replica, world):
    customer = CustomerFactory(tenant=world.tenant)
    client = bearer_client(world.agent, **{"x-tenant-id": "acme"})
    primary, replica = _capture()
    with primary, replica:
        response = client.get(f"/api/data/customer/{customer.uuid}")
    assert response.status_code == 200, response.content
    assert "customers_customer" in _tables(replica)
    assert "customers_customer" not in _tables(primary)
    assert not any(q["sql"].lstrip().upper().startswith("SELECT") for q in primary.captured_queries)
    # after the response, reads go back to the primary
    assert Customer.objects.all().db == "default"


def test_unsafe_request_uses_only_the_primary(live_replica, world):
    client = bearer_client(world.agent, **{"x-tenant-id": "acme"})
    primary, replica = _capture()
    with primary, replica:
        response = client.post(
            "/api/data/customer",
            {"discordId": "4242", "discordUsername": "ada", "discordDisplayName": "Ada"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert replica.captured_queries == []
    assert "customers_customer" in _tables(primary)


def test_a_write_during_a_get_pins_the_rest_of_the_request_to_the_primary(live_replica, world):
    customer = CustomerFactory(tenant=world.tenant)
    world.api_key.last_used_at = None
    world.api_key.save(update_fields=["last_used_at"])
    client = api_key_client(world.api_key, **{"x-tenant-id": "acme"})
    primary, replica = _capture()
    with primary, replica:
        response = client.get(f"/api/data/customer/{customer.uuid}")
    assert response.status_code == 200, response.content
    # The key is looked up on the replica; recording its use is a write, after which the
    # request reads (the customer included) from the primary.
    assert "tenants_apikey" in _tables(replica)
    assert "last_used_at" in _tables(primary)
    assert "customers_customer" in _tables(primary)
    assert "customers_customer" not in _tables(replica)
