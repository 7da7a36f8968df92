"""Races of the review queue on both databases: real threads released together by a barrier.
A finder recording a pair while people dismiss it: one row, dismissed, never reopened."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from customers.duplicates import FoundPair, duplicate_pair_dismiss, duplicate_pairs_record
from customers.models import DuplicatePair, DuplicateStatus
from tests.test_duplicates import person

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 10


def together(n: int, act) -> list:
    """Run ``act(i)`` in ``n`` threads released together; the exceptions they raised."""
    barrier = threading.Barrier(n)
    errors: list = []

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            act(index)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_finders_recording_a_pair_while_it_is_dismissed(world):
    ada, twin = person(world.tenant, "Ada Lovelace"), person(world.tenant, "Ada Lovelace")
    duplicate_pairs_record(tenant=world.tenant, pairs=[FoundPair(ada.pk, twin.pk, 40, ())])
    pair = DuplicatePair.objects.get()

    def act(index: int) -> None:
        if index % 2:
            duplicate_pair_dismiss(pair=DuplicatePair.objects.get(pk=pair.pk), by=world.agent)
        else:
            duplicate_pairs_record(
                tenant=world.tenant, pairs=[FoundPair(twin.pk, ada.pk, 50 + index, ())]
            )

    assert together(THREADS, act) == []
    [row] = DuplicatePair.objects.all()
    assert row.status == DuplicateStatus.DISMISSED and row.decided_by == world.agent


def test_finders_opening_the_same_pairs_at_once(world):
    ada = person(world.tenant, "Ada Lovelace")
    others = [person(world.tenant, "Ada Lovelace") for _ in range(5)]

    def act(index: int) -> None:
        duplicate_pairs_record(
            tenant=world.tenant, pairs=[FoundPair(c.pk, ada.pk, 40, ()) for c in others]
        )

    assert together(THREADS, act) == []
    assert sorted(DuplicatePair.objects.values_list("customer_b_id", flat=True)) == sorted(
        c.pk for c in others
    )
