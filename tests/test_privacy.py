"""Privacy (issue 22): one person made through the four dialects and the admin is exported
(the bundle holds each personal value) and erased (no table of the database holds any of
them afterwards, history and outbox included); the rules around it (who may, confirmation,
tombstones, receipts, the redacted event, jobs for large exports, retention)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from b2b.models import Contact, SalesOrder
from customers import privacy
from customers.models import Customer, CustomerExport, ErasureReceipt, Identifier
from stores.services import customer_store_link
from tenants import delivery
from tenants.models import Event, IdempotencyRecord, WebhookAttempt, WebhookDelivery
from tests.admin_support import admin_client, make_staff
from tests.conftest import api_key_client, bearer_client, json_of
from tests.factories import (
    AddressFactory,
    ClientTypeFactory,
    ContactFactory,
    CustomerFactory,
    SalesOrderFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db

HUB = "/api/hub"

#: every personal value of the person, as stored (phones: their digits, which every
#: form of the number shows)
PERSON = {
    "email": "zephyrine.quill@example.org",
    "discord_id": "918273645546372819",
    "discord_username": "zquill_dc",
    "discord_display_name": "Zephy Quillish",
    "phone": "48273915",
    "address_name": "Zephyrine Home",
    "address_line1": "Quillstraat 77",
    "address_city": "Zwolleburg",
    "address_zip": "7777 QZ",
    "address_phone": "5558271",
    "admin_local_name": "Zefirina Kvil",
    "admin_notes": "allergic to pollen zq-note",
    "external_id": "EXT-ZQ-31337",
    "pep_first": "Zephyrina",
    "pep_last": "Quillfeather",
    "pep_address": "Featherlane 12",
    "pep_city": "Plumeville",
    "pep_zip": "9999 ZZ",
    "store_name": "Zorblax Quimby",
    "website": "https://quill.example.org",
    "tax_id": "TAX-ZQ-4242",
    "billing_line1": "1 Billing Quill Rd",
    "shipping_line1": "2 Shipping Quill Ave",
    "shipping_city": "Shipquillton",
    "contact_name": "Quentin Zorro",
    "contact_title": "Chief Quill Officer",
    "contact_email": "quentin.zorro@example.org",
    "contact_phone": "5550177",
}


def make_person(world) -> Customer:
    """The person, through every dialect and the admin, with every relation."""
    slug = world.tenant.slug
    data = bearer_client(world.agent, **{"x-tenant-id": slug})
    r = data.post(
        "/api/data/customer",
        {
            "discordId": PERSON["discord_id"],
            "discordUsername": PERSON["discord_username"],
            "discordDisplayName": PERSON["discord_display_name"],
            "email": PERSON["email"],
            "phone": "+31 6 48273915",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="make-the-person",  # its answer is stored: erased too
    )
    assert r.status_code == 201, r.content
    uuid = r.json()["id"]
    r = data.post(
        f"/api/data/customer/{uuid}/address",
        {
            "addressId": "home",
            "name": PERSON["address_name"],
            "line1": PERSON["address_line1"],
            "city": PERSON["address_city"],
            "state": "OV",
            "postalCode": PERSON["address_zip"],
            "country": "NL",
            "phone": "+31 20 5558271",
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    customer = Customer.objects.get(uuid=uuid)

    # the admin: local name, notes, external id (an admin log entry names the customer)
    staff = make_staff(world.admin)
    client = admin_client(staff)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    form = client.get(url).context["adminform"].form
    body = {k: v for k, v in form.initial.items() if v is not None and k != "tags"}
    for prefix in ("addresses", "store_links", "account", "contacts"):
        body[f"{prefix}-TOTAL_FORMS"] = body[f"{prefix}-INITIAL_FORMS"] = "0"
    body |= {
        "local_name": PERSON["admin_local_name"],
        "notes": PERSON["admin_notes"],
        "external_id": PERSON["external_id"],
    }
    r = client.post(url, body)
    assert r.status_code == 302, r.context["adminform"].form.errors

    # peppered: names and the default address's fields; a tag
    pep = api_key_client(world.api_key, "bare")
    r = pep.put(
        f"/v1/{slug}/peppered/customer/{customer.pk}",
        {
            "email": PERSON["email"],
            "customerFirstName": PERSON["pep_first"],
            "customerLastName": PERSON["pep_last"],
            "customerAddress": PERSON["pep_address"],
            "customerHouseNr": "12",
            "customerZip": PERSON["pep_zip"],
            "customerCity": PERSON["pep_city"],
            "customerCountry": "NL",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="pep-put",
    )
    assert r.status_code == 200, r.content
    ClientTypeFactory(tenant=world.tenant, name="vip")
    r = pep.post(
        f"/v1/{slug}/peppered/customer/{customer.pk}/clienttypes",
        {"clienttypes": ["vip"]},
        format="json",
    )
    assert r.status_code in (200, 204), r.content

    # the store dialect: linked to the store, its price list and name set there
    customer_store_link(customer=customer, store=world.store, price_list=None)
    store = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
    r = store.put(
        f"/customers/{uuid}/price-list",
        {"priceListId": str(world.price_list.id), "name": PERSON["store_name"]},
        format="json",
    )
    assert r.status_code == 200, r.content

    # b2b: the account, a contact, an order (its shipping address copied), a credit check
    b2b = bearer_client(world.agent)
    r = b2b.put(
        f"/api/customers/{uuid}",
        {
            "website": PERSON["website"],
            "tax_id": PERSON["tax_id"],
            "billing_address": {
                "line1": PERSON["billing_line1"],
                "city": "Billquill",
                "postal_code": "10001",
                "country": "US",
            },
            "shipping_address": {
                "line1": PERSON["shipping_line1"],
                "city": PERSON["shipping_city"],
                "postal_code": "10002",
                "country": "US",
            },
        },
        format="json",
    )
    assert r.status_code == 200, r.content
    r = b2b.post(
        f"/api/customers/{uuid}/contacts",
        {
            "name": PERSON["contact_name"],
            "title": PERSON["contact_title"],
            "email": PERSON["contact_email"],
            "phone": "+1-555-0177",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    r = b2b.post(
        "/api/orders",
        {"customer_id": uuid, "lines": [{"product_id": str(world.products[0].id), "quantity": 2}]},
        format="json",
    )
    assert r.status_code == 201, r.content
    r = b2b.post(f"/api/customers/{uuid}/credit-check")
    assert r.status_code == 200, r.content
    return Customer.objects.get(pk=customer.pk)


def deliver_with_echo(world):
    """Deliveries of the person's events, each with an attempt whose answer echoes the
    event (as some receivers do): the webhook logs carry the person's data too."""
    delivery.fan_out()
    for item in WebhookDelivery.objects.select_related("event"):
        WebhookAttempt.objects.create(
            delivery=item,
            status_code=500,
            response_excerpt=json.dumps(item.event.data)[:1000],
        )


def bundle_of(response) -> dict:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/zip"
    raw = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert set(archive.namelist()) == {"customer.json", "README.txt"}
        return json.loads(archive.read("customer.json"))


def scan_database(needles) -> list[str]:
    """Every (table, column) of the database holding one of ``needles`` (any case): raw
    SQL over every column of every table, models or not (history, outbox, sessions…)."""
    lowered = {n: n.lower() for n in needles}
    found = []
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [c[0] for c in cursor.description]
            for values in cursor.fetchall():
                for column, value in zip(columns, values, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, memoryview | bytes):
                        text = bytes(value).decode("latin-1")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    text = text.lower()
                    found += [
                        f"{table}.{column}: {name}"
                        for name, needle in lowered.items()
                        if needle in text
                    ]
    return found


def every_model_table() -> set[str]:
    return {m._meta.db_table for m in apps.get_models(include_auto_created=True)}


def test_a_person_made_everywhere_is_exported_whole_then_erased_from_every_table(world):
    WebhookEndpointFactory(tenant=world.tenant)
    person = make_person(world)
    # the identity services keep the person's identifiers (customers/identity.py)
    assert set(Identifier.objects.filter(customer=person).values_list("kind", flat=True)) >= {
        "email",
        "discord",
    }
    deliver_with_echo(world)
    values = list(PERSON.values())
    # the setup really spread the values: history, outbox, webhook logs, idempotency
    # records, the admin's log and the copies on store links and orders hold them
    before = scan_database(values)
    tables = {hit.split(".")[0] for hit in before}
    assert {
        "customers_historicalcustomer",
        "customers_historicaladdress",
        "tenants_event",
        "tenants_webhookattempt",
        "tenants_idempotencyrecord",
        "django_admin_log",
        "stores_customerstore",
        "b2b_salesorder",
        "b2b_historicalcontact",
    } <= tables, sorted(tables)
    # and the scan reads every model's table
    with connection.cursor() as cursor:
        assert every_model_table() <= set(connection.introspection.table_names(cursor))

    # the export: each value is in the bundle, and each dialect's record
    r = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug}).post(
        f"{HUB}/customers/{person.uuid}/export"
    )
    bundle = bundle_of(r)
    text = json.dumps(bundle, ensure_ascii=False).lower()
    assert [name for name, value in PERSON.items() if value.lower() not in text] == []
    assert set(bundle["dialects"]) == {"data", "peppered", "store", "b2b"}
    assert bundle["dialects"]["b2b"]["contacts"][0]["name"] == PERSON["contact_name"]
    assert bundle["b2b"]["orders"][0]["lines"], bundle["b2b"]["orders"]
    assert bundle["history"] and bundle["events"] and bundle["webhook_deliveries"]
    assert bundle["identifiers"]
    assert bundle["store_links"][0]["price_list"]["id"] == str(world.price_list.id)
    export = CustomerExport.objects.get()
    assert (export.customer_uuid, export.status, export.bundle) == (
        person.uuid,
        CustomerExport.Status.DELIVERED,
        None,
    )
    assert export.actor["name"] == world.agent.username

    # the erasure
    order = SalesOrder.objects.get(customer=person)
    r = bearer_client(world.admin, **{"x-tenant-id": world.tenant.slug}).post(
        f"{HUB}/customers/{person.uuid}/erase", {"confirm": True}, format="json"
    )
    assert r.status_code == 200, r.content
    receipt = r.json()["data"]
    assert receipt["customer_id"] == str(person.uuid)
    assert receipt["counts"]["contacts"] == 1 and receipt["counts"]["events"] > 0

    assert scan_database(values) == []

    # a tombstone with its orders' figures
    person.refresh_from_db()
    assert person.erased_at is not None
    kept = SalesOrder.objects.get(pk=order.pk)
    assert (kept.total_amount, kept.status, kept.order_number, kept.shipping_address) == (
        order.total_amount,
        order.status,
        order.order_number,
        {},
    )
    assert kept.lines.count() == 1
    # only the redacted event is left about the customer, with ids only
    (event,) = Event.objects.filter(customer_uuid=person.uuid)
    assert event.type == "customer.redacted"
    assert set(event.data) == set(privacy.EventCustomerRedactedSerializer().fields)
    assert set(event.data) == {"id", "customer_id", "erased_at", "receipt_id"}
    assert ErasureReceipt.objects.get().counts == receipt["counts"]
    listed = json_of(api_key_client(world.api_key).get(f"{HUB}/events?customer={person.uuid}"))
    assert [e["type"] for e in listed["data"]] == ["customer.redacted"]  # (as documented)
    # subscribers get it, to erase their copies
    delivery.fan_out()
    assert WebhookDelivery.objects.filter(event=event).exists()


def test_every_dialect_answers_an_erased_customer_as_missing(world):
    person = CustomerFactory(tenant=world.tenant, email="gone@example.org")
    customer_store_link(customer=person, store=world.store, price_list=None)
    privacy.customer_erase(customer=person)
    slug = world.tenant.slug
    data = bearer_client(world.agent, **{"x-tenant-id": slug})
    assert data.get(f"/api/data/customer/{person.uuid}").status_code == 404
    pep = api_key_client(world.api_key, "bare")
    assert pep.get(f"/v1/{slug}/peppered/customer/{person.pk}").status_code == 404
    r = pep.post(
        f"/v1/{slug}/peppered/customer/findByEmail", {"email": "gone@example.org"}, format="json"
    )
    assert r.status_code == 404, r.content
    b2b = bearer_client(world.agent)
    assert b2b.get(f"/api/customers/{person.uuid}").status_code == 404
    store = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
    listed = json_of(store.get("/customers", {"limit": 100}))["data"]
    assert str(person.uuid) not in {c["id"] for c in listed}
    hub = bearer_client(world.admin, **{"x-tenant-id": slug})
    assert hub.get(f"{HUB}/customers/{person.uuid}/history").status_code == 404
    assert hub.post(f"{HUB}/customers/{person.uuid}/export").status_code == 404
    r = hub.post(f"{HUB}/customers/{person.uuid}/erase", {"confirm": True}, format="json")
    assert r.status_code == 404


def test_the_same_email_signs_up_again_as_a_new_person(world):
    person = CustomerFactory(tenant=world.tenant, email="again@example.org", discord_id="777")
    assert Identifier.objects.filter(customer=person, value="again@example.org").exists()
    privacy.customer_erase(customer=person)
    assert not Identifier.objects.filter(customer=person).exists()
    r = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug}).post(
        "/api/data/customer",
        {
            "email": "again@example.org",
            "discordId": "777",
            "discordUsername": "again",
            "discordDisplayName": "Again",
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["id"] != str(person.uuid)


def test_erase_without_confirmation_is_a_400_that_changes_nothing(world):
    person = CustomerFactory(tenant=world.tenant)
    hub = bearer_client(world.admin, **{"x-tenant-id": world.tenant.slug})
    for body in ({}, {"confirm": False}):
        r = hub.post(f"{HUB}/customers/{person.uuid}/erase", body, format="json")
        assert r.status_code == 400, r.content
        assert r.json()["error"]["code"] == "confirmation_required"
    r = hub.post(f"{HUB}/customers/{person.uuid}/erase", {"confirm": "maybe"}, format="json")
    assert r.status_code == 400
    person.refresh_from_db()
    assert person.erased_at is None and person.email
    assert not ErasureReceipt.objects.exists()


def test_who_may_export_and_erase(world, other):
    person = CustomerFactory(tenant=world.tenant)
    slug = world.tenant.slug
    export, erase = f"{HUB}/customers/{person.uuid}/export", f"{HUB}/customers/{person.uuid}/erase"
    viewer = bearer_client(world.viewer, **{"x-tenant-id": slug})
    assert viewer.post(export).status_code == 403
    assert viewer.post(erase, {"confirm": True}, format="json").status_code == 403
    agent = bearer_client(world.agent, **{"x-tenant-id": slug})
    assert agent.post(erase, {"confirm": True}, format="json").status_code == 403
    key = api_key_client(world.api_key)
    assert key.post(erase, {"confirm": True}, format="json").status_code == 403
    assert key.post(export).status_code == 200  # an agent key exports
    # another tenant's admin: its own tenant has no such customer
    stranger = bearer_client(other.admin)
    assert stranger.post(export).status_code == 404
    assert stranger.post(erase, {"confirm": True}, format="json").status_code == 404
    person.refresh_from_db()
    assert person.erased_at is None
    assert CustomerExport.objects.count() == 1


def test_a_large_export_is_a_job_built_by_the_worker_and_downloaded_once(world, settings):
    settings.HUB_EXPORT_INLINE_MAX = 2
    person = CustomerFactory(tenant=world.tenant, email="big@example.org")
    ContactFactory(customer=person)
    SalesOrderFactory(customer=person)
    hub = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})
    r = hub.post(f"{HUB}/customers/{person.uuid}/export")
    assert r.status_code == 202, r.content
    job = r.json()["data"]
    assert (job["status"], job["download_url"]) == ("queued", None)
    assert hub.get(f"{HUB}/exports/{job['id']}/download").status_code == 409
    # the worker's task
    assert privacy.export_build(job["id"]) == "ready"
    r = hub.get(f"{HUB}/exports/{job['id']}")
    assert r.json()["data"]["status"] == "ready"
    bundle = bundle_of(hub.get(r.json()["data"]["download_url"]))
    assert bundle["customer"]["id"] == str(person.uuid)
    assert "big@example.org" in json.dumps(bundle)
    # once: the bundle is gone
    assert CustomerExport.objects.get(pk=job["id"]).bundle is None
    r = hub.get(f"{HUB}/exports/{job['id']}/download")
    assert r.status_code == 409 and r.json()["error"]["code"] == "export_not_ready"
    # another tenant's export id is a 404, a viewer may not poll
    assert bearer_client(world.viewer).get(f"{HUB}/exports/{job['id']}").status_code == 403


def test_an_export_queued_then_erased_is_never_built(world, settings):
    settings.HUB_EXPORT_INLINE_MAX = 0
    person = CustomerFactory(tenant=world.tenant)
    job, bundle = privacy.customer_export(customer=person, via="api")
    assert bundle is None
    privacy.customer_erase(customer=person)
    assert privacy.export_build(job.pk) == "failed"
    assert CustomerExport.objects.get(pk=job.pk).bundle is None


def test_erasure_expires_a_ready_bundle(world, settings):
    settings.HUB_EXPORT_INLINE_MAX = 0
    person = CustomerFactory(tenant=world.tenant)
    job, _ = privacy.customer_export(customer=person, via="api")
    privacy.export_build(job.pk)
    privacy.customer_erase(customer=person)
    job.refresh_from_db()
    assert (job.status, job.bundle) == (CustomerExport.Status.EXPIRED, None)


def test_merged_away_customers_go_with_their_survivor(world):
    survivor = CustomerFactory(tenant=world.tenant, email="survivor@example.org")
    merged = CustomerFactory(tenant=world.tenant, email="merged@example.org")
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor, merged_at=timezone.now())
    merged.refresh_from_db()
    with pytest.raises(Exception) as refused:
        privacy.customer_erase(customer=merged)
    assert getattr(refused.value, "code", None) == "merged_away"
    receipt = privacy.customer_erase(customer=survivor)
    assert receipt.counts["customers"] == 2
    merged.refresh_from_db()
    assert (merged.email, merged.name, merged.erased_at is not None) == ("", "", True)
    assert scan_database(["merged@example.org", "survivor@example.org"]) == []


def test_a_stores_own_customer_is_not_a_person(world):
    with pytest.raises(Exception) as refused:
        privacy.customer_erase(customer=world.store.customer)
    assert getattr(refused.value, "code", None) == "not_a_person"
    world.store.customer.refresh_from_db()
    assert world.store.customer.erased_at is None


def test_include_user_logs_the_user_out_and_anonymises_the_account(world, client):
    from django.contrib.sessions.models import Session
    from knox.models import AuthToken

    from customers.services import customer_create_for_user
    from tests.factories import UserFactory

    user = UserFactory(username="zq-login", email="zq.login@example.org")
    person = customer_create_for_user(tenant=world.tenant, user=user)
    bearer_client(user)  # a token
    client.force_login(user)  # a session
    receipt = privacy.customer_erase(customer=person, include_user=True)
    assert receipt.counts["user_tokens"] == 1 and receipt.counts["user_sessions"] == 1
    user.refresh_from_db()
    assert (user.username, user.email, user.is_active) == (f"erased-{user.pk}", "", False)
    assert not AuthToken.objects.filter(user=user).exists()
    assert not Session.objects.exists()
    assert scan_database(["zq-login", "zq.login@example.org"]) == []


def test_include_user_refused_for_a_user_of_another_tenant(world, other):
    person = CustomerFactory(tenant=world.tenant, user=other.agent)
    with pytest.raises(Exception) as refused:
        privacy.customer_erase(customer=person, include_user=True)
    assert getattr(refused.value, "code", None) == "user_shared"
    person.refresh_from_db()
    assert person.erased_at is None


def test_writes_after_an_erasure_are_404(world):
    person = CustomerFactory(tenant=world.tenant)
    contact = ContactFactory(customer=person)
    stale = Customer.objects.get(pk=person.pk)  # read before the erasure
    privacy.customer_erase(customer=person)
    from b2b.services import contact_create
    from customers.services import address_add, customer_update

    for write in (
        lambda: customer_update(customer=stale, notes="written back"),
        lambda: address_add(customer=stale, key="x", line1="written back"),
        lambda: contact_create(customer=stale, name="written back"),
    ):
        with pytest.raises(Exception) as missing:
            write()
        assert getattr(missing.value, "status", None) == 404
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert scan_database(["written back"]) == []


def test_erasure_query_count_is_bounded(world, django_assert_max_num_queries):
    """About 30 statements, and 2 more per address or contact it deletes (the history row
    Django's delete records, one statement each): docs/privacy.md."""
    for n in (1, 10):
        person = CustomerFactory(tenant=world.tenant)
        for _ in range(n):
            ContactFactory(customer=person)
            SalesOrderFactory(customer=person)
            AddressFactory(customer=person)
        with django_assert_max_num_queries(50 + 2 * n):
            privacy.customer_erase(customer=person)


def test_commands_export_and_erase(world, tmp_path, capsys):
    person = CustomerFactory(tenant=world.tenant, email="cmd@example.org")
    out = tmp_path / "c.zip"
    call_command("export_customer", world.tenant.slug, str(person.uuid), "--output", str(out))
    with zipfile.ZipFile(out) as archive:
        assert "cmd@example.org" in archive.read("customer.json").decode()
    assert CustomerExport.objects.get().via == "command"
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("erase_customer", world.tenant.slug, str(person.pk))
    person.refresh_from_db()
    assert person.erased_at is None
    call_command("erase_customer", world.tenant.slug, str(person.pk), "--yes")
    person.refresh_from_db()
    assert person.erased_at is not None and person.email == ""
    with pytest.raises(CommandError):
        call_command("erase_customer", world.tenant.slug, str(person.pk), "--yes")


def test_retention_deletes_history_and_events_of_erased_and_deactivated_customers(world):
    from customers.services import customer_deactivate, customer_update

    erased = CustomerFactory(tenant=world.tenant)
    inactive = CustomerFactory(tenant=world.tenant)
    live = CustomerFactory(tenant=world.tenant)
    for customer in (erased, inactive, live):
        customer_update(customer=customer, notes="kept a while")
    customer_deactivate(customer=inactive)
    privacy.customer_erase(customer=erased)
    history = Customer.history.model.objects
    assert history.filter(id=inactive.pk).exists()
    # within the retention: nothing goes
    assert privacy.retention_enforce(days=30)["history_rows"] == 0
    later = timezone.now() + timedelta(days=31)
    done = privacy.retention_enforce(now=later, days=30)
    assert done["history_rows"] > 0 and done["events"] > 0
    assert not history.filter(id__in=[erased.pk, inactive.pk]).exists()
    assert not Event.objects.filter(customer_uuid__in=[erased.uuid, inactive.uuid]).exists()
    assert history.filter(id=live.pk).exists()
    assert Event.objects.filter(customer_uuid=live.uuid).exists()
    out = io.StringIO()
    call_command("enforce_retention", stdout=out)
    assert "deleted" in out.getvalue()


def test_the_worker_housekeeping_runs_the_retention(world):
    from tenants import housekeeping

    assert "privacy_retention" in housekeeping.housekeeping()


def test_idempotency_records_of_other_customers_stay(world):
    mine = CustomerFactory(tenant=world.tenant, email="mine@example.org")
    theirs = CustomerFactory(tenant=world.tenant, email="theirs@example.org")
    data = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})
    for customer, key in ((mine, "k1"), (theirs, "k2")):
        r = data.post(
            f"/api/data/customer/{customer.uuid}/address",
            {
                "addressId": "home",
                "name": "Home",
                "line1": "Main St 1",
                "city": "Springfield",
                "state": "IL",
                "postalCode": "62701",
                "country": "US",
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        assert r.status_code == 200, r.content
    r = data.post(
        "/api/data/customer",
        {"email": "third@example.org"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k3",
    )
    stored = IdempotencyRecord.objects.count()
    privacy.customer_erase(customer=mine)
    assert IdempotencyRecord.objects.count() == stored - 1
    assert not IdempotencyRecord.objects.filter(path__contains=str(mine.uuid)).exists()
