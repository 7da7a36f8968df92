"""Data dialect (seed 000): concurrent identical find-or-create requests (both databases)."""

import threading

import pytest
from django.db import connection

from customers.models import Customer
from tenants.services import user_token_issue
from tests.conftest import bearer_client
from tests.openapi import openapi

URL = "/api/data/customer"
THREADS = 20


def race(world, body):
    openapi()  # build the document once, before the threads validate against it
    tokens = [user_token_issue(user=world.agent)[1] for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    results, failures = [], []

    def worker(token):
        try:
            client = bearer_client(token, **{"x-tenant-id": "acme"})
            barrier.wait(timeout=30)
            response = client.post(URL, body, format="json")
            results.append((response.status_code, response.json()))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    assert len(results) == THREADS
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "extra",
    [{}, {"email": "race@example.com", "phone": "+31 6 1234 5678"}],
    ids=["plain", "with-email"],
)
def test_concurrent_find_or_create_makes_exactly_one(world, extra):
    body = {
        "discordId": "555000111222333444",
        "discordUsername": "racer",
        "discordDisplayName": "Racer",
        **extra,
    }
    results = race(world, body)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * (THREADS - 1) + [201], statuses
    assert len({body["id"] for _, body in results}) == 1
    assert (
        Customer.objects.filter(tenant=world.tenant, discord_id="555000111222333444").count() == 1
    )
