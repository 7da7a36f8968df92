"""Erasure and merges (issues 20 and 22): the survivor of a merge carries the person's data,
so erasing it forgets both records, their merge's record of moved and overwritten values
included; a merge of an erased person can no longer be undone."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from customers import privacy
from customers.duplicates import FoundPair, duplicate_pairs_record
from customers.merging import customer_merge, merge_undo
from customers.models import Customer, DuplicatePair, Merge
from tenants import errors
from tests.conftest import bearer_client
from tests.factories import AddressFactory, CustomerFactory, MembershipFactory, TenantFactory
from tests.test_privacy import scan_database

pytestmark = pytest.mark.django_db

SURVIVOR = {
    "name": "Orla Pennywhistle",
    "email": "orla.pennywhistle@example.org",
    "notes": "prefers mornings op-note",
}
MERGED = {
    "name": "O. Pennywhistle-Marsh",
    "email": "o.marsh.penny@example.org",
    "discord_id": "771122334455667788",
    "notes": "second record om-note",
}
ADDRESS_LINE = "Whistlewharf 19"


@pytest.fixture
def pair():
    tenant = TenantFactory(slug="forget")
    admin = MembershipFactory(tenant=tenant, role="admin").user
    survivor = CustomerFactory(tenant=tenant, **SURVIVOR)
    merged = CustomerFactory(tenant=tenant, **MERGED)
    AddressFactory(customer=survivor, key="home", line1="Survivorlane 1")
    AddressFactory(customer=merged, key="home", line1=ADDRESS_LINE)
    return tenant, admin, survivor, merged


def values() -> list[str]:
    return [*SURVIVOR.values(), *MERGED.values(), ADDRESS_LINE]


def test_erasing_a_survivor_forgets_both_records_and_the_merges_record(pair):
    tenant, admin, survivor, merged = pair
    hub = bearer_client(admin, **{"x-tenant-id": tenant.slug})
    r = hub.post(
        "/api/hub/merges",
        {
            "survivor_id": str(survivor.uuid),
            "merged_id": str(merged.uuid),
            "fields": {"email": "merged", "name": "survivor"},
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    merge = Merge.objects.get()
    assert MERGED["email"] in json.dumps(merge.record) or SURVIVOR["email"] in json.dumps(
        merge.record
    )

    # the export before erasure holds both records' values and the merge
    bundle = hub.post(f"/api/hub/customers/{survivor.uuid}/export")
    assert bundle.status_code == 200
    text = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content))).read("customer.json")
    document = json.loads(text)
    assert any(m["id"] == str(merge.id) for m in document["merges"])
    lowered = text.decode().lower()
    for value in values():
        assert value.lower() in lowered, value

    r = hub.post(f"/api/hub/customers/{survivor.uuid}/erase", {"confirm": True}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["data"]["counts"]["merge_records"] >= 1
    assert scan_database(values()) == []
    merge.refresh_from_db()
    assert merge.record == privacy_redacted()
    assert (
        Customer.objects.filter(pk__in=[survivor.pk, merged.pk], erased_at__isnull=False).count()
        == 2
    )

    # both old ids are gone in every way a client could ask
    for customer in (survivor, merged):
        assert hub.get(f"/api/hub/customers/{customer.uuid}/history").status_code == 404


def privacy_redacted() -> dict:
    from customers.merging import REDACTED_RECORD

    return REDACTED_RECORD


def test_erasure_takes_the_persons_pairs_out_of_the_review_queue(pair):
    tenant, _, survivor, merged = pair
    other = CustomerFactory(tenant=tenant, name="Someone Else")
    duplicate_pairs_record(
        tenant=tenant,
        pairs=[
            FoundPair(survivor.pk, merged.pk, 90, ({"code": "same_name", "detail": "Orla"},)),
            FoundPair(merged.pk, other.pk, 40, ()),
            FoundPair(survivor.pk, other.pk, 40, ()),
        ],
    )
    keep = CustomerFactory(tenant=tenant)
    duplicate_pairs_record(tenant=tenant, pairs=[FoundPair(other.pk, keep.pk, 40, ())])
    customer_merge(survivor=survivor, merged=merged)  # the merged record's pairs go too
    receipt = privacy.customer_erase(customer=Customer.objects.get(pk=survivor.pk))
    assert receipt.counts["duplicate_pairs"] == 3
    assert list(DuplicatePair.objects.values_list("customer_a", "customer_b")) == [
        (other.pk, keep.pk)
    ]


def test_the_merge_of_an_erased_person_cannot_be_undone(pair):
    tenant, admin, survivor, merged = pair
    merge = customer_merge(survivor=survivor, merged=merged)
    privacy.customer_erase(customer=Customer.objects.get(pk=survivor.pk))
    with pytest.raises(errors.Conflict) as refused:
        merge_undo(merge=merge)
    assert refused.value.code == "customer_erased"
    hub = bearer_client(admin, **{"x-tenant-id": tenant.slug})
    r = hub.post(f"/api/hub/merges/{merge.id}/undo")
    assert r.status_code == 409, r.content
    assert r.json()["error"]["code"] == "customer_erased"
    merge.refresh_from_db()
    assert merge.undone_at is None
    assert Customer.objects.get(pk=merged.pk).merged_into_id == survivor.pk


def test_a_merged_away_record_is_erased_through_its_survivor(pair):
    _, _, survivor, merged = pair
    customer_merge(survivor=survivor, merged=merged)
    with pytest.raises(errors.Conflict) as refused:
        privacy.customer_erase(customer=Customer.objects.get(pk=merged.pk))
    assert refused.value.code == "merged_away"
    assert Customer.objects.get(pk=merged.pk).erased_at is None
