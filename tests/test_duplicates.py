"""Duplicate detection (issue 20 item 3): the candidates of a customer with their reasons
and scores, the review queue, ``manage.py find_duplicates`` and the hub API over them
(customers/duplicates.py, docs/duplicates.md)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from customers.duplicates import (
    DEFAULT_MIN_SCORE,
    FoundPair,
    Reason,
    candidates_for_rows,
    combined_score,
    customers_after,
    duplicate_candidates,
    duplicate_pair_dismiss,
    duplicate_pairs_for_tenant,
    duplicate_pairs_mark_merged,
    duplicate_pairs_record,
    similarity,
)
from customers.models import (
    DuplicatePair,
    DuplicateScan,
    DuplicateStatus,
    Identifier,
    IdentifierKind,
)
from customers.selectors import customers_for_tenant
from tests.conftest import bearer_client, json_of
from tests.factories.customers import AddressFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def person(tenant, name, **fields):
    """A customer called ``name`` with nothing else in common with anyone (the factory's
    emails, phones and Discord names are unique; its names are set here, not faked)."""
    first, _, last = name.partition(" ")
    defaults = {
        "name": name,
        "first_name": first,
        "last_name": last,
        "discord_display_name": "",
    }
    return CustomerFactory(tenant=tenant, **{**defaults, **fields})


def reasons_of(candidate) -> dict[str, str]:
    return {str(r["code"]): r["detail"] for r in candidate.reasons}


def by_id(candidates) -> dict:
    return {c.customer_id: c for c in candidates}


# --- reasons ------------------------------------------------------------------------------


def test_same_phone_by_column(world):
    ada = person(world.tenant, "Ada Lovelace", phone="+31611111111")
    other = person(world.tenant, "Augusta King", phone="+31611111111")
    person(world.tenant, "Charles Babbage")
    [candidate] = duplicate_candidates(customer=ada)
    assert candidate.customer_id == other.pk
    assert reasons_of(candidate) == {"same_phone": "+31611111111"}
    assert candidate.score == 85
    assert candidate.uuid == other.uuid
    assert candidate.display_name == "Augusta King"


def test_same_phone_and_email_by_identifier(world):
    """A second phone or email the identity graph holds for a customer is compared too."""
    ada = person(world.tenant, "Ada Lovelace")
    Identifier.objects.create(
        tenant=world.tenant, customer=ada, kind=IdentifierKind.PHONE, value="+31699990000"
    )
    Identifier.objects.create(
        tenant=world.tenant, customer=ada, kind=IdentifierKind.EMAIL, value="ada@work.example"
    )
    # a phone column is not unique (its identifier stays with ada, who had it first)
    other = person(world.tenant, "Augusta King", phone="+31699990000")
    [candidate] = duplicate_candidates(customer=ada)
    assert candidate.customer_id == other.pk
    assert set(reasons_of(candidate)) == {"same_phone"}
    # an email column written past the services, compared case-insensitively with ada's
    # secondary email
    other.email = "Ada@Work.Example"
    other.save(update_fields=["email"])
    [candidate] = duplicate_candidates(customer=ada)
    assert reasons_of(candidate)["same_email"] == "Ada@Work.Example"
    assert candidate.score == combined_score([95, 85])
    assert [r["code"] for r in candidate.reasons] == [Reason.SAME_EMAIL, Reason.SAME_PHONE]


def test_same_external_id_and_discord_username(world):
    ada = person(world.tenant, "Ada Lovelace", external_id="crm-1", discord_username="Countess")
    crm = person(world.tenant, "A. King", external_id="crm-1")
    discord = person(world.tenant, "Augusta", discord_username="countess")
    found = by_id(duplicate_candidates(customer=ada))
    assert reasons_of(found[crm.pk]) == {"same_external_id": "crm-1"}
    assert reasons_of(found[discord.pk]) == {"same_discord_username": "countess"}
    assert found[crm.pk].score == 80
    assert found[discord.pk].score == 70


def test_same_name_with_and_without_a_postcode(world):
    ada = person(world.tenant, "Ada Lovelace")
    AddressFactory(customer=ada, postal_code="1011 AB")
    near = person(world.tenant, "ADA LOVELACE")  # case is not a difference
    AddressFactory(customer=near, postal_code="1011ab")
    far = person(world.tenant, "Ada Lovelace")
    AddressFactory(customer=far, postal_code="9999 ZZ")
    found = by_id(duplicate_candidates(customer=ada))
    assert set(found) == {near.pk, far.pk}
    assert reasons_of(found[near.pk]) == {"same_name_postcode": "ada lovelace, 1011ab"}
    assert reasons_of(found[far.pk]) == {"same_name": "ada lovelace"}
    assert found[near.pk].score > found[far.pk].score


def test_same_name_by_local_name_and_by_first_and_last_name(world):
    ada = person(world.tenant, "Ada Lovelace")
    local = person(world.tenant, "", local_name="ADA LOVELACE", first_name="", last_name="")
    parts = CustomerFactory(tenant=world.tenant, name="", first_name="Ada", last_name="Lovelace")
    found = by_id(duplicate_candidates(customer=ada))
    assert set(found) == {local.pk, parts.pk}
    assert all(set(reasons_of(c)) == {"same_name"} for c in found.values())


def test_similar_name_by_trigrams(world):
    ada = person(world.tenant, "Ada Lovelace")
    typo = person(world.tenant, "Ada Lovelance")
    person(world.tenant, "Grace Hopper")
    person(world.tenant, "Ada Smit")  # shares a first name only: below the threshold
    [candidate] = duplicate_candidates(customer=ada)
    assert candidate.customer_id == typo.pk
    [reason] = candidate.reasons
    assert reason["code"] == Reason.SIMILAR_NAME
    expected = similarity("ada lovelace", "ada lovelance")
    assert reason["detail"] == f"Ada Lovelance ({expected:.2f})"
    assert candidate.score == round(50 * expected)


def test_python_similarity_is_pg_trgm(postgres_only):
    from django.db import connection

    pairs = [("Ada Lovelace", "Ada Lovelance"), ("Jürgen Müller", "Jurgen Muller"), ("a", "")]
    with connection.cursor() as cursor:
        for a, b in pairs:
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            assert cursor.fetchone()[0] == pytest.approx(similarity(a, b), abs=1e-6)


def test_candidates_are_ranked_by_score_then_age(world):
    ada = person(world.tenant, "Ada Lovelace", phone="+31622222222")
    AddressFactory(customer=ada, postal_code="1011AB")
    by_name = person(world.tenant, "Ada Lovelace")
    by_phone = person(world.tenant, "Augusta King", phone="+31622222222")
    both = person(world.tenant, "Ada Lovelace", phone="+31622222222")
    AddressFactory(customer=both, postal_code="1011AB")
    by_name_too = person(world.tenant, "Ada Lovelace")
    ranked = duplicate_candidates(customer=ada)
    assert [c.customer_id for c in ranked] == [both.pk, by_phone.pk, by_name.pk, by_name_too.pk]
    assert [c.score for c in ranked] == [
        combined_score([85, 80]),
        85,
        40,
        40,
    ]
    assert [c.customer_id for c in duplicate_candidates(customer=ada, limit=2)] == [
        both.pk,
        by_phone.pk,
    ]


def test_nothing_in_common_is_no_candidate(world):
    ada = person(world.tenant, "Ada Lovelace")
    person(world.tenant, "Grace Hopper")
    assert duplicate_candidates(customer=ada) == []


# --- who is never a candidate --------------------------------------------------------------


def test_another_tenants_customers_are_never_candidates(world, other):
    ada = person(world.tenant, "Ada Lovelace", phone="+31633333333", external_id="x-1")
    twin = person(other.tenant, "Ada Lovelace", phone="+31633333333", external_id="x-1")
    Identifier.objects.create(
        tenant=other.tenant, customer=twin, kind=IdentifierKind.EMAIL, value=ada.email
    )
    person(other.tenant, "Ada Lovelance")
    assert duplicate_candidates(customer=ada) == []


def test_tombstones_and_erased_customers_are_never_candidates(world):
    ada = person(world.tenant, "Ada Lovelace", phone="+31644444444")
    survivor = person(world.tenant, "Augusta King")
    merged = person(world.tenant, "Ada Lovelace", phone="+31644444444")
    erased = person(world.tenant, "Ada Lovelance", phone="+31644444444")
    merged.merged_into = survivor
    merged.merged_at = timezone.now()
    merged.save(update_fields=["merged_into", "merged_at"])
    erased.erased_at = timezone.now()
    erased.save(update_fields=["erased_at"])
    assert duplicate_candidates(customer=ada) == []


def test_dismissed_and_merged_pairs_never_come_back(world):
    ada = person(world.tenant, "Ada Lovelace")
    dismissed = person(world.tenant, "Ada Lovelace")
    merged = person(world.tenant, "Ada Lovelace")
    kept = person(world.tenant, "Ada Lovelace")
    duplicate_pairs_record(
        tenant=world.tenant,
        pairs=[FoundPair(ada.pk, c.pk, 40, ()) for c in (dismissed, merged, kept)],
    )
    pair = DuplicatePair.objects.get(customer_a=ada, customer_b=dismissed)
    duplicate_pair_dismiss(pair=pair, by=world.agent)
    duplicate_pairs_mark_merged(survivor=merged, merged=ada)
    assert [c.customer_id for c in duplicate_candidates(customer=ada)] == [kept.pk]
    # from the other side too
    assert ada.pk not in by_id(duplicate_candidates(customer=dismissed))
    # recording them again (a finder that ran before the decision) reopens nothing
    duplicate_pairs_record(
        tenant=world.tenant,
        pairs=[FoundPair(c.pk, ada.pk, 99, ()) for c in (dismissed, merged, kept)],
    )
    statuses = dict(
        DuplicatePair.objects.filter(customer_a=ada).values_list("customer_b_id", "status")
    )
    assert statuses == {
        dismissed.pk: DuplicateStatus.DISMISSED,
        merged.pk: DuplicateStatus.MERGED,
        kept.pk: DuplicateStatus.OPEN,
    }
    assert DuplicatePair.objects.get(customer_b=kept).score == 99
    assert DuplicatePair.objects.get(customer_b=dismissed).score == 40


# --- the queue's services --------------------------------------------------------------------


def test_a_pair_is_one_ordered_row_whichever_side_found_it(world):
    ada, twin = person(world.tenant, "Ada Lovelace"), person(world.tenant, "Ada Lovelace")
    opened = duplicate_pairs_record(
        tenant=world.tenant,
        pairs=[
            FoundPair(twin.pk, ada.pk, 40, ({"code": Reason.SAME_NAME, "detail": "x"},)),
            FoundPair(ada.pk, twin.pk, 60, ({"code": Reason.SAME_NAME, "detail": "y"},)),
        ],
    )
    assert opened == 1
    pair = DuplicatePair.objects.get()
    assert (pair.customer_a_id, pair.customer_b_id) == (ada.pk, twin.pk)
    assert (pair.score, pair.reasons) == (60, [{"code": "same_name", "detail": "y"}])
    assert pair.status == DuplicateStatus.OPEN and pair.found_at is not None


def test_dismiss_records_who_and_when_and_refuses_a_merged_pair(world):
    from tenants import errors

    ada, twin = person(world.tenant, "Ada Lovelace"), person(world.tenant, "Ada Lovelace")
    duplicate_pairs_record(tenant=world.tenant, pairs=[FoundPair(ada.pk, twin.pk, 40, ())])
    pair = DuplicatePair.objects.get()
    duplicate_pair_dismiss(pair=pair, by=world.agent)
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.DISMISSED
    assert pair.decided_by == world.agent and pair.decided_at is not None
    decided_at = pair.decided_at
    duplicate_pair_dismiss(pair=pair, by=world.admin)  # again: nothing changes
    pair.refresh_from_db()
    assert (pair.decided_by, pair.decided_at) == (world.agent, decided_at)
    DuplicatePair.objects.filter(pk=pair.pk).update(status=DuplicateStatus.MERGED)
    with pytest.raises(errors.Conflict):
        duplicate_pair_dismiss(pair=pair, by=world.agent)


def test_the_open_queue_shows_live_customers_only(world):
    ada, twin = person(world.tenant, "Ada Lovelace"), person(world.tenant, "Ada Lovelace")
    third = person(world.tenant, "Ada Lovelace")
    duplicate_pairs_record(
        tenant=world.tenant,
        pairs=[FoundPair(ada.pk, twin.pk, 40, ()), FoundPair(ada.pk, third.pk, 40, ())],
    )
    third.erased_at = timezone.now()
    third.save(update_fields=["erased_at"])
    open_pairs = duplicate_pairs_for_tenant(tenant=world.tenant, status=DuplicateStatus.OPEN)
    assert [(p.customer_a_id, p.customer_b_id) for p in open_pairs] == [(ada.pk, twin.pk)]


# --- query counts ---------------------------------------------------------------------------


def test_candidates_take_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    ada = person(world.tenant, "Ada Lovelace", phone="+31655555555")
    AddressFactory(customer=ada, postal_code="1011AB")
    for _ in range(3):
        twin = person(world.tenant, "Ada Lovelace", phone="+31655555555")
        AddressFactory(customer=twin, postal_code="1011AB")
        person(world.tenant, "Ada Lovelance")
    with django_assert_max_num_queries(12):
        found = duplicate_candidates(customer=ada)
    assert len(found) == 6


PIONEERS = (
    "Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov",
    "Donald Knuth", "Frances Allen", "John Backus", "Niklaus Wirth", "Radia Perlman",
)  # fmt: skip


def test_a_batch_takes_the_queries_of_one_customer(world, django_assert_max_num_queries):
    made = [
        person(world.tenant, PIONEERS[n % 10], phone=f"+3166000{n % 5:04d}").pk for n in range(30)
    ]
    rows = customers_after(tenant=world.tenant, after_pk=0, limit=100)
    with django_assert_max_num_queries(12):
        found = candidates_for_rows(tenant=world.tenant, rows=rows, limit=50)
    # each has the 5 others with its phone, 2 of which have its name too
    assert {len(found[pk]) for pk in made} == {5}


# --- find_duplicates ------------------------------------------------------------------------


def run_command(*args) -> str:
    out = io.StringIO()
    call_command("find_duplicates", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def twins(tenant, count: int) -> list:
    """``count`` pairs of customers with the same phone, one pair per phone."""
    made = []
    for n in range(count):
        phone = f"+3167000{n:04d}"
        made.append(
            (
                person(tenant, f"Left{n} Side", phone=phone),
                person(tenant, f"Right{n} Side", phone=phone),
            )
        )
    return made


def test_find_duplicates_fills_the_queue(world, other):
    pairs = twins(world.tenant, 5)
    twins(other.tenant, 2)
    output = run_command(world.tenant.slug, "--batch-size", "3")
    assert "5 pair(s) opened" in output
    recorded = set(
        DuplicatePair.objects.filter(tenant=world.tenant).values_list(
            "customer_a_id", "customer_b_id"
        )
    )
    assert recorded == {(a.pk, b.pk) for a, b in pairs}
    assert not DuplicatePair.objects.filter(tenant=other.tenant).exists()
    assert all(p.score == 85 for p in DuplicatePair.objects.all())
    scan = DuplicateScan.objects.get(tenant=world.tenant)
    everyone = customers_for_tenant(tenant=world.tenant).count()  # the stores' own records too
    assert scan.finished_at is not None and scan.customers_done == everyone
    # by UUID too, and a second run opens nothing new
    assert "0 pair(s) opened" in run_command(str(world.tenant.pk))


def test_find_duplicates_records_strong_candidates_only(world):
    person(world.tenant, "Ada Lovelace")
    person(world.tenant, "Ada Lovelace")  # 40: below the default minimum
    run_command(world.tenant.slug)
    assert not DuplicatePair.objects.exists()
    run_command(world.tenant.slug, "--min-score", "40")
    assert DuplicatePair.objects.get().score == 40
    assert DEFAULT_MIN_SCORE > 40


def test_find_duplicates_dry_run_records_nothing(world):
    twins(world.tenant, 2)
    output = run_command(world.tenant.slug, "--dry-run")
    assert "2 pair(s) found" in output
    assert not DuplicatePair.objects.exists()
    assert not DuplicateScan.objects.exists()


@pytest.mark.parametrize("min_score", ["50", "40"])
def test_find_duplicates_resumes_after_the_last_batch_done(world, monkeypatch, min_score):
    """At the default minimum the pass gives the finder the customers that may have a
    candidate only (the twins); at 40, where a name alone is a pair, every customer."""
    from customers import duplicates

    pairs = twins(world.tenant, 6)
    everyone = list(
        customers_for_tenant(tenant=world.tenant).order_by("pk").values_list("pk", flat=True)
    )
    checked = sorted(c.pk for pair in pairs for c in pair) if min_score == "50" else everyone
    real = duplicates.candidates_for_rows
    batches = []

    def failing_on_third_batch(**kwargs):
        batches.append([row["id"] for row in kwargs["rows"]])
        if len(batches) == 3:
            raise KeyboardInterrupt
        return real(**kwargs)

    monkeypatch.setattr(duplicates, "candidates_for_rows", failing_on_third_batch)
    args = (world.tenant.slug, "--batch-size", "4", "--min-score", min_score)
    with pytest.raises(KeyboardInterrupt):
        run_command(*args)
    scan = DuplicateScan.objects.get(tenant=world.tenant)
    assert batches[:2] == [checked[:4], checked[4:8]]
    assert scan.last_customer_id == checked[7] and scan.finished_at is None
    assert scan.customers_done == len([pk for pk in everyone if pk <= checked[7]])
    seen = []

    def recording(**kwargs):
        seen.append([row["id"] for row in kwargs["rows"]])
        return real(**kwargs)

    monkeypatch.setattr(duplicates, "candidates_for_rows", recording)
    output = run_command(*args, "--resume")
    assert f"resuming after customer {checked[7]}" in output
    assert [pk for batch in seen for pk in batch] == checked[8:]  # only what was left
    twin_ids = {c.pk for pair in pairs for c in pair}
    recorded = DuplicatePair.objects.filter(customer_a__in=twin_ids, customer_b__in=twin_ids)
    assert recorded.count() == len(pairs)
    scan.refresh_from_db()
    assert scan.finished_at is not None and scan.customers_done == len(everyone)
    # a finished scan resumed starts again from the first customer
    seen.clear()
    run_command(*args, "--resume")
    assert [pk for batch in seen for pk in batch] == checked


def test_find_duplicates_refuses_an_unknown_tenant(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        run_command("no-such-tenant")


# --- API ------------------------------------------------------------------------------------


def candidates_url(customer) -> str:
    return f"/api/hub/customers/{customer.uuid}/duplicates"


def test_candidates_through_the_api(world):
    ada = person(world.tenant, "Ada Lovelace", phone="+31688888888")
    twin = person(world.tenant, "Augusta King", phone="+31688888888")
    response = bearer_client(world.viewer).get(candidates_url(ada))
    assert response.status_code == 200, response.content
    assert json_of(response) == {
        "data": [
            {
                "id": str(twin.uuid),
                "display_name": "Augusta King",
                "score": 85,
                "reasons": [{"code": "same_phone", "detail": "+31688888888"}],
            }
        ]
    }


def test_candidates_api_tenancy_and_limit(world, other):
    ada = person(world.tenant, "Ada Lovelace", phone="+31699999999")
    for _ in range(3):
        person(world.tenant, "Ada Lovelace", phone="+31699999999")
    theirs = person(other.tenant, "Ada Lovelace")
    client = bearer_client(world.admin)
    assert client.get(candidates_url(theirs)).status_code == 404
    assert client.get("/api/hub/customers/not-a-uuid/duplicates").status_code == 404
    response = client.get(candidates_url(ada), {"limit": 2})
    assert len(json_of(response)["data"]) == 2
    assert client.get(candidates_url(ada), {"limit": 0}).status_code == 400


def test_candidates_api_queries_are_bounded(world, django_assert_max_num_queries):
    ada = person(world.tenant, "Ada Lovelace", phone="+31677777777")
    for _ in range(5):
        person(world.tenant, "Ada Lovelace", phone="+31677777777")
    client = bearer_client(world.viewer)
    client.get(candidates_url(ada))  # the token's first use
    with django_assert_max_num_queries(18):
        response = client.get(candidates_url(ada))
    assert len(json_of(response)["data"]) == 5


def queue(client, **params):
    response = client.get("/api/hub/duplicates", params)
    assert response.status_code == 200, response.content
    return json_of(response)


def test_the_queue_through_the_api(world, other):
    ada = person(world.tenant, "Ada Lovelace")
    found = [person(world.tenant, "Ada Lovelace") for _ in range(3)]
    duplicate_pairs_record(
        tenant=world.tenant,
        pairs=[
            FoundPair(ada.pk, c.pk, score, ({"code": Reason.SAME_NAME, "detail": "ada"},))
            for c, score in zip(found, (40, 70, 55), strict=True)
        ],
    )
    theirs = person(other.tenant, "Ada Lovelace"), person(other.tenant, "Ada Lovelace")
    duplicate_pairs_record(
        tenant=other.tenant, pairs=[FoundPair(theirs[0].pk, theirs[1].pk, 90, ())]
    )
    client = bearer_client(world.viewer)
    first = queue(client, limit=2)
    assert [p["score"] for p in first["data"]] == [70, 55]
    assert first["data"][0]["customers"][0]["id"] == str(ada.uuid)
    assert first["data"][0]["customers"][1]["id"] == str(found[1].uuid)
    assert first["data"][0]["reasons"] == [{"code": "same_name", "detail": "ada"}]
    second = queue(client, limit=2, cursor=first["meta"]["next_cursor"])
    assert [p["score"] for p in second["data"]] == [40]
    assert second["meta"]["next_cursor"] is None
    # dismissing takes an agent; a viewer reads only
    pair_id = first["data"][0]["id"]
    assert client.post(f"/api/hub/duplicates/{pair_id}/dismiss").status_code == 403
    agent = bearer_client(world.agent)
    response = agent.post(f"/api/hub/duplicates/{pair_id}/dismiss")
    assert response.status_code == 200, response.content
    body = json_of(response)["data"]
    assert body["status"] == "dismissed" and body["decided_at"]
    assert [p["score"] for p in queue(client)["data"]] == [55, 40]
    assert [p["id"] for p in queue(client, status="dismissed")["data"]] == [pair_id]
    # another tenant's pair is a 404
    their_pair = DuplicatePair.objects.get(tenant=other.tenant)
    assert agent.post(f"/api/hub/duplicates/{their_pair.pk}/dismiss").status_code == 404
    assert agent.post("/api/hub/duplicates/nope/dismiss").status_code == 404
    assert client.get("/api/hub/duplicates", {"status": "maybe"}).status_code == 400
    assert client.get("/api/hub/duplicates", {"cursor": "x"}).status_code == 400


def test_dismissing_a_merged_pair_is_a_409(world):
    ada, twin = person(world.tenant, "Ada Lovelace"), person(world.tenant, "Ada Lovelace")
    duplicate_pairs_record(tenant=world.tenant, pairs=[FoundPair(ada.pk, twin.pk, 40, ())])
    duplicate_pairs_mark_merged(survivor=ada, merged=twin)
    pair = DuplicatePair.objects.get()
    response = bearer_client(world.admin).post(f"/api/hub/duplicates/{pair.pk}/dismiss")
    assert response.status_code == 409
    assert json_of(response)["error"]["code"] == "duplicate_pair_merged"


def test_queue_api_queries_are_bounded(world, django_assert_max_num_queries):
    ada = person(world.tenant, "Ada Lovelace")
    others = [person(world.tenant, "Ada Lovelace") for _ in range(10)]
    duplicate_pairs_record(
        tenant=world.tenant, pairs=[FoundPair(ada.pk, c.pk, 40, ()) for c in others]
    )
    client = bearer_client(world.viewer)
    queue(client)
    with django_assert_max_num_queries(8):
        assert len(queue(client)["data"]) == 10


def test_a_renamed_customer_is_found_by_its_new_name(world):
    """On PostgreSQL the distinct names are kept by a trigger (customers/migrations/0009):
    a change of name (or local name) is searchable at once."""
    ada = person(world.tenant, "Ada Lovelace")
    other = person(world.tenant, "Grace Hopper")
    assert duplicate_candidates(customer=ada) == []
    other.local_name = "Ada Lovelance"
    other.save(update_fields=["local_name"])
    [candidate] = duplicate_candidates(customer=ada)
    assert candidate.customer_id == other.pk
    assert [r["code"] for r in candidate.reasons] == [Reason.SIMILAR_NAME]
    assert candidate.reasons[0]["detail"].startswith("Ada Lovelance (")


def test_the_finder_weighs_names_without_searching_them(world):
    """With a minimum score a name alone cannot reach, similar names are not searched but
    still weighed on what the other reasons found: the same answer either way."""
    ada = person(world.tenant, "Ada Lovelace", discord_username="countess")
    typo = person(world.tenant, "Ada Lovelance", discord_username="Countess")
    person(world.tenant, "Ada Lovelance")  # a similar name alone: 44, below 50
    rows = customers_after(tenant=world.tenant, after_pk=ada.pk - 1, limit=1)
    strong = candidates_for_rows(tenant=world.tenant, rows=rows, limit=20, min_score=50)
    [candidate] = strong[ada.pk]
    assert candidate.customer_id == typo.pk
    assert [r["code"] for r in candidate.reasons] == [
        Reason.SAME_DISCORD_USERNAME,
        Reason.SIMILAR_NAME,
    ]
    expected = combined_score([70, 50 * similarity("ada lovelace", "ada lovelance")])
    assert candidate.score == expected
    everything = candidates_for_rows(tenant=world.tenant, rows=rows, limit=20)[ada.pk]
    assert everything[0] == candidate and len(everything) == 2


def test_dismiss_with_an_idempotency_key_answers_the_same_twice(world):
    ada, twin = person(world.tenant, "Ada Lovelace"), person(world.tenant, "Ada Lovelace")
    duplicate_pairs_record(tenant=world.tenant, pairs=[FoundPair(ada.pk, twin.pk, 40, ())])
    pair = DuplicatePair.objects.get()
    client = bearer_client(world.agent)
    url = f"/api/hub/duplicates/{pair.pk}/dismiss"
    first = client.post(url, HTTP_IDEMPOTENCY_KEY="dismiss-1")
    second = client.post(url, HTTP_IDEMPOTENCY_KEY="dismiss-1")
    assert first.status_code == second.status_code == 200
    assert json_of(first) == json_of(second)
    assert second["Idempotent-Replayed"] == "true"
    assert json_of(first)["data"]["status"] == "dismissed"


def test_a_merge_decides_the_pair_and_its_undo_reopens_it(world):
    from customers.merging import customer_merge, merge_undo

    ada = person(world.tenant, "Ada Lovelace", phone="+31611112222")
    twin = person(world.tenant, "Ada Lovelace", phone="+31611112222")
    duplicate_pairs_record(tenant=world.tenant, pairs=[FoundPair(ada.pk, twin.pk, 85, ())])
    pair = DuplicatePair.objects.get(tenant=world.tenant)
    merge = customer_merge(survivor=ada, merged=twin)
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.MERGED and pair.decided_at is not None
    merge_undo(merge=merge)
    pair.refresh_from_db()
    assert (pair.status, pair.decided_at, pair.decided_by) == (DuplicateStatus.OPEN, None, None)
