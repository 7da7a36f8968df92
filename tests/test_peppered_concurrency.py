"""Peppered dialect under concurrent requests (both databases)."""

import threading

import pytest
from django.db import connection

from customers.models import Customer
from tests.conftest import api_key_client
from tests.openapi import openapi

BASE = "/v1/acme/peppered"
THREADS = 20


def _race(world, bodies):
    openapi()  # build the document once, before the threads
    warm = api_key_client(world.api_key, "bare")
    assert warm.get(f"{BASE}/export/clienttypes").status_code == 200  # last_used_at is fresh
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def worker(index, body):
        try:
            client = api_key_client(world.api_key, "bare")
            barrier.wait(timeout=30)
            response = client.post(f"{BASE}/customer", body, format="json")
            results[index] = (response.status_code, response.json())
        except Exception as exc:  # pragma: no cover - reported by the assertions below
            results[index] = ("exception", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_email_one_wins(world):
    bodies = [
        {
            "email": ("Race@Example.com" if i % 2 else "race@example.com"),
            "customerFirstName": f"Racer {i}",
            "customerAddress": f"Baan {i}",
        }
        for i in range(THREADS)
    ]
    results = _race(world, bodies)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [422] * (THREADS - 1), results
    for status, body in results:
        if status == 422:
            assert body["errors"] == {"email": ["The email has already been taken."]}
    assert (
        Customer.objects.filter(tenant=world.tenant, email__iexact="race@example.com").count() == 1
    )
    winner = Customer.objects.get(tenant=world.tenant, email__iexact="race@example.com")
    # The winner's default address is its own; the losers left nothing behind.
    assert winner.addresses.count() == 1
    assert winner.default_address.line1 == f"Baan {winner.first_name.split()[-1]}"
    from customers.models import Address

    assert Address.objects.filter(customer__tenant=world.tenant).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_distinct_emails_all_succeed(world):
    bodies = [{"email": f"racer{i}@example.com"} for i in range(THREADS)]
    results = _race(world, bodies)
    assert [status for status, _ in results] == [201] * THREADS, results
    ids = {body["customerId"] for _, body in results}
    assert len(ids) == THREADS
