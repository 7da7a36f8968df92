"""tenants/query_params.py: querysets built once, evaluated with the values bound per call."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from django.db.models import Count, DateTimeField, DurationField, F, Q

from customers.models import Customer
from tenants.query_params import Param, bound
from tests.factories import CustomerFactory, TenantFactory

pytestmark = pytest.mark.django_db

SINCE = Param("since", DateTimeField())
SHIFT = Param("shift", DurationField())
BASE = datetime(2025, 1, 1, tzinfo=UTC)


@cache
def counts_query():
    """Built (and resolved) once for the whole test module."""
    return (
        Customer.objects.filter(
            Q(created_at__gte=SINCE) | Q(created_at__gte=F("updated_at") + SHIFT),
        )
        .values("tenant")
        .annotate(n=Count("id"))
        .order_by("tenant")
    )


@pytest.fixture
def customers():
    tenants = [TenantFactory(), TenantFactory()]
    for n in range(6):
        customer = CustomerFactory(tenant=tenants[n % 2])
        when = BASE + timedelta(days=n)
        Customer.objects.filter(pk=customer.pk).update(created_at=when, updated_at=when)
    return tenants


def counts(since, shift=timedelta(days=365)) -> dict:
    with bound(since=since, shift=shift):
        return {row["tenant"]: row["n"] for row in counts_query().all()}


def test_each_evaluation_uses_the_values_bound_then(customers):
    first, second = customers
    assert counts(BASE) == {first.pk: 3, second.pk: 3}
    assert counts(BASE + timedelta(days=3)) == {first.pk: 1, second.pk: 2}
    assert counts(BASE + timedelta(days=10)) == {}
    assert counts(BASE + timedelta(days=10), shift=timedelta(0)) == {first.pk: 3, second.pk: 3}


def test_an_unbound_parameter_is_a_clear_error(customers):
    with pytest.raises(LookupError, match="'since' is not bound"):
        list(counts_query().all())
    with bound(since=BASE), pytest.raises(LookupError, match="'shift'"):
        list(counts_query().all())


def test_bindings_nest_and_are_restored(customers):
    with bound(since=BASE, shift=timedelta(0)):
        with bound(since=BASE + timedelta(days=5)):
            assert sum(row["n"] for row in counts_query().all()) == 6  # shift 0: all
            assert SINCE.value == BASE + timedelta(days=5)
        assert SINCE.value == BASE
    with pytest.raises(LookupError):
        SINCE.value  # noqa: B018


def test_threads_see_only_their_own_values(customers):
    seen = {}
    barrier = threading.Barrier(2)

    def worker(name, since):
        with bound(since=since, shift=timedelta(days=365)):
            barrier.wait(timeout=5)
            seen[name] = SINCE.value

    threads = [
        threading.Thread(target=worker, args=("a", BASE)),
        threading.Thread(target=worker, args=("b", BASE + timedelta(days=1))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert seen == {"a": BASE, "b": BASE + timedelta(days=1)}
