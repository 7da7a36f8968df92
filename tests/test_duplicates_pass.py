"""The whole-tenant pass of ``manage.py find_duplicates`` (customers/duplicates.py
``NameHeads``, docs/duplicates.md): it reads the tenant's names and shared values once and
runs the finder for the customers that may have a candidate, and records what
``duplicate_candidates`` scores, pair for pair."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from customers import duplicates
from customers.duplicates import (
    DEFAULT_MIN_SCORE,
    duplicate_candidates,
    duplicate_pair_dismiss,
    duplicate_pairs_mark_merged,
    ordered,
)
from customers.models import DuplicatePair, DuplicateStatus, Identifier, IdentifierKind
from customers.selectors import customers_for_tenant
from tests.factories.customers import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def person(tenant, name, postcode="", **fields):
    first, _, last = name.partition(" ")
    defaults = {"name": name, "first_name": first, "last_name": last}
    customer = CustomerFactory(tenant=tenant, **{**defaults, **fields})
    if postcode:
        AddressFactory(customer=customer, postal_code=postcode)
    return customer


def run(tenant, *args) -> str:
    out = io.StringIO()
    call_command("find_duplicates", tenant.slug, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def expected_pairs(tenant) -> dict[tuple[int, int], list[tuple[int, list[dict]]]]:
    """What ``duplicate_candidates`` (the API) says of each live customer, at the pass's
    minimum: each pair with the (score, reasons) of each side that found it."""
    out: dict[tuple[int, int], list[tuple[int, list[dict]]]] = {}
    for customer in customers_for_tenant(tenant=tenant).order_by("pk"):
        for c in duplicate_candidates(customer=customer):
            if c.score >= DEFAULT_MIN_SCORE:
                reasons = [{"code": str(r["code"]), "detail": r["detail"]} for r in c.reasons]
                out.setdefault(ordered(customer.pk, c.customer_id), []).append((c.score, reasons))
    return out


def recorded_pairs(tenant) -> dict[tuple[int, int], tuple[int, list[dict]]]:
    return {
        (p.customer_a_id, p.customer_b_id): (p.score, p.reasons)
        for p in DuplicatePair.objects.filter(tenant=tenant)
    }


def codes(pairs) -> dict[tuple[int, int], tuple[int, list[str]]]:
    return {pair: (score, [r["code"] for r in reasons]) for pair, (score, reasons) in pairs.items()}


def small_world(tenant):
    """Every reason, the name cap (lowered to 2 by the tests), formatting that only Python
    folds, a tombstone and an erased customer."""
    made = {}
    # six namesakes: the first two are the name's heads; the 4th and 6th share a postcode
    # (written differently) but neither is a head, so the API pairs neither with the other
    for n, postcode in enumerate(["1011 AB", "2022CD", "3033 EF", "4044gh", "5055 IJ", "4044 GH"]):
        made[f"ada{n}"] = person(tenant, "Ada Lovelace", postcode)
    made["near"] = person(tenant, "ADA LOVELACE", "1011ab")  # a head's postcode: 80
    # the same first and last name with and without a preposition, one postcode
    made["jan"] = person(tenant, "", "9999 ZZ", first_name="Jan", preposition="de",
                         last_name="Vries")  # fmt: skip
    made["jan2"] = person(tenant, "Jan de Vries", "9999zz")
    made["jan3"] = person(tenant, "", "9999 ZZ", first_name="Jan", last_name="Vries")
    # a local name that is another's name
    made["local"] = person(tenant, "", "7777 KK", local_name="Grace Hopper", first_name="",
                           last_name="")  # fmt: skip
    made["grace"] = person(tenant, "Grace Hopper", "7777KK")
    # strong reasons, with names weighed: same, similar, different
    made["p1"] = person(tenant, "Alan Turing", phone="+31600000001")
    made["p2"] = person(tenant, "Alan Turing", phone="+31600000001")
    made["p3"] = person(tenant, "Alan Turnig", phone="+31600000001")
    made["d1"] = person(tenant, "Edsger Dijkstra", discord_username="Edsger  W")
    made["d2"] = person(tenant, "E. Dijkstra", discord_username="edsger w")
    made["x1"] = person(tenant, "Barbara Liskov", external_id=" crm-9 ")
    made["x2"] = person(tenant, "B Liskov", external_id="crm-9")
    # an email column written past the services and another's email identifier
    made["e1"] = person(tenant, "Donald Knuth", email=" Don@Example.ORG ", identifiers=False)
    made["e2"] = person(tenant, "Don Knuth")
    Identifier.objects.create(
        tenant=tenant, customer=made["e2"], kind=IdentifierKind.EMAIL, value="don@example.org"
    )
    # a tombstone and an erased customer sharing a phone find nobody
    survivor = person(tenant, "Frances Allen", phone="+31600000002")
    for key in ("gone", "erased"):
        made[key] = person(tenant, "Frances Allen", "1011 AB", phone="+31600000002")
    made["gone"].merged_into, made["gone"].merged_at = survivor, timezone.now()
    made["gone"].save(update_fields=["merged_into", "merged_at"])
    made["erased"].erased_at = timezone.now()
    made["erased"].save(update_fields=["erased_at"])
    return made


def test_the_pass_records_what_the_api_scores(world, monkeypatch):
    monkeypatch.setattr(duplicates, "NAME_CAP", 2)
    made = small_world(world.tenant)
    expected = expected_pairs(world.tenant)
    # the world has one pair of each kind it means to have
    assert ordered(made["ada0"].pk, made["near"].pk) in expected
    assert ordered(made["ada3"].pk, made["ada5"].pk) not in expected  # beyond the cap
    assert ordered(made["e1"].pk, made["e2"].pk) in expected
    assert ordered(made["jan"].pk, made["jan2"].pk) in expected
    run(world.tenant, "--batch-size", "3")
    recorded = recorded_pairs(world.tenant)
    assert set(recorded) == set(expected)
    for pair, (score, reasons) in recorded.items():
        assert (score, reasons) in expected[pair], pair


def test_the_pass_matches_the_finder_batch_by_batch(world, monkeypatch):
    """The same pairs as the finder run for every customer with its own lookups (below the
    heads' minimum score, where the pass does that)."""
    monkeypatch.setattr(duplicates, "NAME_CAP", 2)
    small_world(world.tenant)
    run(world.tenant, "--dry-run")
    run(world.tenant)
    fast = recorded_pairs(world.tenant)
    DuplicatePair.objects.all().delete()
    monkeypatch.setattr(duplicates, "HEADS_MIN_SCORE", 101)  # every customer, no heads
    run(world.tenant, "--batch-size", "1")
    # a pair found from both sides keeps one side's details (the last batch's): the scores
    # and reasons are the same either way
    assert codes(recorded_pairs(world.tenant)) == codes(fast)


def test_the_pass_never_reopens_a_decided_pair(world):
    made = small_world(world.tenant)
    run(world.tenant)
    dismissed = DuplicatePair.objects.get(customer_a=made["p1"], customer_b=made["p2"])
    duplicate_pair_dismiss(pair=dismissed, by=world.agent)
    duplicate_pairs_mark_merged(survivor=made["x1"], merged=made["x2"])
    assert "0 pair(s) opened" in run(world.tenant)
    statuses = dict(DuplicatePair.objects.filter(tenant=world.tenant).values_list("pk", "status"))
    assert statuses[dismissed.pk] == DuplicateStatus.DISMISSED
    merged = DuplicatePair.objects.get(customer_a=made["x1"], customer_b=made["x2"])
    assert merged.status == DuplicateStatus.MERGED
    assert list(statuses.values()).count(DuplicateStatus.OPEN) == len(statuses) - 2


def test_an_interrupted_pass_resumed_records_the_same_pairs(world, monkeypatch):
    small_world(world.tenant)
    run(world.tenant, "--batch-size", "2")
    whole = recorded_pairs(world.tenant)
    DuplicatePair.objects.all().delete()
    real = duplicates.candidates_for_rows
    calls = []

    def failing_on_third_batch(**kwargs):
        calls.append(kwargs["rows"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(duplicates, "candidates_for_rows", failing_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run(world.tenant, "--batch-size", "2")
    monkeypatch.setattr(duplicates, "candidates_for_rows", real)
    assert "resuming after customer" in run(world.tenant, "--batch-size", "2", "--resume")
    assert recorded_pairs(world.tenant) == whole


def test_the_pass_takes_queries_by_the_thousand_customers(world, django_assert_max_num_queries):
    """A tenant whose customers have nothing in common costs the pass the same statements
    whatever their number (up to a chunk of 1,000): the finder never runs."""
    for n in range(40):
        person(world.tenant, f"Person{n} Alone", f"{n:04d} AA")
    # the tenant, the scan's start and finish, building the tables (10), a chunk (3), its
    # position (5): 32
    with django_assert_max_num_queries(32):
        run(world.tenant)
    assert not DuplicatePair.objects.exists()


def test_the_pass_runs_the_finder_in_batches_of_the_batch_size(
    world, django_assert_max_num_queries
):
    for n in range(30):
        person(world.tenant, "Ada Lovelace", phone=f"+3166000{n % 5:04d}")
    # as above, plus the finder (at most 12) and recording the pairs (5): 30 customers are one
    # batch
    with django_assert_max_num_queries(32 + 12 + 5):
        run(world.tenant)
    assert DuplicatePair.objects.count() == 5 * 15  # six per phone: 15 pairs each
