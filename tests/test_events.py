"""Change events (issue 21 items 1-2): written in the same transaction as each change, by every
write path (the four dialects, the admin, the CSV import, management commands), one INSERT per
service call; the events API (GET /api/hub/events, /api/hub/events/{id}); the retention.

Every API response is checked against the OpenAPI document by the shared clients."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from b2b.events import BUILDERS, SCHEMAS
from b2b.services import account_create, contact_create, order_create
from customers import csv_io
from customers.models import Customer
from customers.services import (
    address_set,
    client_type_create,
    client_type_delete,
    customer_create,
    customer_tags_set,
    customer_update,
    customers_import,
)
from stores.services import customer_store_link, store_customers_remove
from tenants import errors, events
from tenants.api.hub import encode_cursor
from tenants.models import Event
from tests.admin_support import admin_client, make_staff
from tests.conftest import api_key_client, bearer_client
from tests.factories import ClientTypeFactory, CustomerFactory, CustomerStoreFactory

pytestmark = pytest.mark.django_db

ACME = {"x-tenant-id": "acme"}
EVENTS = "/api/hub/events"


@pytest.fixture(autouse=True)
def _no_setup_events(world):
    """The world's own set-up (members, stores) emits events: each test starts without."""
    Event.objects.all().delete()


def written(**filters) -> list[Event]:
    return list(Event.objects.filter(**filters).order_by("id"))


def types(**filters) -> list[str]:
    return [event.type for event in written(**filters)]


def only(type: str, **filters) -> Event:
    found = written(type=type, **filters)
    assert len(found) == 1, [e.type for e in written()]
    return found[0]


def event_inserts(queries) -> list[str]:
    table = Event._meta.db_table
    return [q["sql"] for q in queries if q["sql"].startswith("INSERT") and f'"{table}"' in q["sql"]]


def user_actor(user, origin: str) -> dict:
    return {"type": "user", "id": str(user.pk), "name": user.username, "origin": origin}


def key_actor(key, origin: str) -> dict:
    return {"type": "api_key", "id": str(key.pk), "name": key.name, "origin": origin}


# --- the payloads ----------------------------------------------------------------------------


def test_every_payload_builder_returns_what_its_schema_declares(world):
    # customer.redacted's ids-only data is built by customers/privacy.py (tests/test_privacy.py)
    assert set(BUILDERS) == set(SCHEMAS) == set(events.KIND_OF.values()) - {"customer_redacted"}
    customer = customer_create(tenant=world.tenant, name="Ada", email="ada@example.com")
    account = account_create(tenant=world.tenant, name="Corp", billing_address={"city": "X"})
    contact = contact_create(customer=account, name="Bo")
    order = order_create(
        tenant=world.tenant,
        customer=customer,
        lines=[{"sku": world.products[0].sku, "quantity": 1}],
    )
    seen = {}
    for event in Event.objects.all():
        seen.setdefault(events.KIND_OF[event.type], event.data)
    assert set(seen) >= {"customer", "address", "account", "contact", "order"}
    for kind, data in seen.items():
        assert set(data) == set(SCHEMAS[kind]().fields), kind
    assert seen["contact"]["id"] == str(contact.id)
    assert seen["order"]["id"] == str(order.id) and seen["order"]["total_amount"] > 0


# --- the four dialects -----------------------------------------------------------------------


def test_data_dialect_find_or_create_update_deactivate_and_addresses(world):
    client = bearer_client(world.agent, **ACME)
    body = {
        "discordId": "123456789012345678",
        "discordUsername": "ada",
        "discordDisplayName": "Ada",
        "email": "a@x.com",
    }
    response = client.post("/api/data/customer", body, format="json")
    assert response.status_code == 201
    uuid = response.json()["id"]
    created = only("customer.created")
    assert created.actor == user_actor(world.agent, "api:data")
    assert str(created.customer_uuid) == uuid and created.data["id"] == uuid
    assert created.data["discord_id"] == "123456789012345678"
    assert created.request_id == response["X-Request-ID"]
    assert created.previous_attributes is None
    # the same call again finds it: nothing changed, nothing emitted
    assert client.post("/api/data/customer", body, format="json").status_code == 200
    assert types() == ["customer.created"]

    response = client.patch(f"/api/data/customer/{uuid}", {"notes": "vip"}, format="json")
    assert response.status_code == 200
    updated = only("customer.updated")
    assert updated.previous_attributes == {"notes": ""}
    assert updated.data["notes"] == "vip"

    address = {
        "addressId": "home",
        "name": "Home",
        "line1": "1 Elm St",
        "city": "Haarlem",
        "state": "NH",
        "postalCode": "2011",
        "country": "NL",
    }
    response = client.post(f"/api/data/customer/{uuid}/address", address, format="json")
    assert response.status_code in (200, 201), response.content
    added = only("address.created")
    assert added.data["address_id"] == "home" and added.data["customer_id"] == uuid
    response = client.patch(
        f"/api/data/customer/{uuid}/default-address", {"addressId": "home"}, format="json"
    )
    assert response.status_code == 200
    default = written(type="customer.updated")[-1]
    assert default.previous_attributes == {"default_address_id": None}
    assert default.data["default_address_id"] == added.data["id"]

    assert client.delete(f"/api/data/customer/{uuid}/address/home").status_code in (200, 204)
    assert types()[-2:] == ["customer.updated", "address.deleted"]
    assert only("address.deleted").data["line1"] == "1 Elm St"

    assert client.delete(f"/api/data/customer/{uuid}").status_code in (200, 204)
    deactivated = only("customer.deactivated")
    assert deactivated.previous_attributes == {"is_active": True}
    assert deactivated.data["is_active"] is False
    response = client.patch(f"/api/data/customer/{uuid}", {"isActive": True}, format="json")
    assert response.status_code == 200
    assert only("customer.reactivated").data["is_active"] is True


def test_peppered_dialect_create_update_and_client_types(world):
    ClientTypeFactory(tenant=world.tenant, name="vip")
    client = api_key_client(world.api_key, "bare")
    base = f"/v1/{world.tenant.slug}/peppered"
    response = client.post(
        f"{base}/customer", {"email": "jan@example.com", "customerFirstName": "Jan"}, format="json"
    )
    assert response.status_code in (200, 201), response.content
    created = only("customer.created")
    assert created.actor == key_actor(world.api_key, "api:peppered")
    customer = Customer.objects.get(uuid=created.customer_uuid)
    response = client.put(
        f"{base}/customer/{customer.pk}", {"customerFirstName": "Jans"}, format="json"
    )
    assert response.status_code == 200, response.content
    updated = only("customer.updated")
    assert updated.previous_attributes["first_name"] == "Jan"
    assert "email" not in updated.previous_attributes
    response = client.post(
        f"{base}/customer/{customer.pk}/clienttypes", {"clienttypes": ["vip"]}, format="json"
    )
    assert response.status_code in (200, 201), response.content
    tags = only("customer.tags_updated")
    assert tags.data == {"customer_id": str(customer.uuid), "tags": ["vip"]}
    assert tags.previous_attributes == {"tags": []}


def test_store_dialect_create_price_list_and_bulk_removal(world):
    client = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
    response = client.post(
        "/customers",
        {"localName": "Shop", "defaultPriceListId": str(world.price_list.id)},
        format="json",
    )
    assert response.status_code in (200, 201), response.content
    assert types() == ["customer.created", "store_link.created"]
    link = only("store_link.created")
    assert link.actor == user_actor(world.agent, "api:store")
    assert link.data["store_id"] == str(world.store.id)
    assert link.data["price_list_id"] == str(world.price_list.id)
    uuid = link.data["customer_id"]

    response = client.delete(f"/customers/{uuid}/price-list")
    assert response.status_code == 200, response.content
    changed = only("store_link.price_list_changed")
    assert changed.previous_attributes == {"price_list_id": str(world.price_list.id)}
    assert changed.data["price_list_id"] is None


def test_store_bulk_removal_emits_one_event_per_link_in_one_insert(world):
    customers = CustomerFactory.create_batch(5, tenant=world.tenant)
    for customer in customers:
        CustomerStoreFactory(customer=customer, store=world.store)
    client = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
    ids = [str(c.uuid) for c in customers]
    with CaptureQueriesContext(connection) as queries:
        response = client.delete("/customers/bulk", {"ids": ids}, format="json")
    assert response.status_code == 200 and response.json()["deletedCount"] == 5
    assert len(event_inserts(queries.captured_queries)) == 1
    removed = written(type="store_link.deleted")
    assert sorted(e.data["customer_id"] for e in removed) == sorted(ids)
    assert {str(e.customer_uuid) for e in removed} == set(ids)
    assert all(e.actor == user_actor(world.agent, "api:store") for e in removed)


def test_b2b_dialect_customer_account_contacts_and_orders(world):
    client = api_key_client(world.api_key)
    response = client.post(
        "/api/customers",
        {
            "name": "Corp",
            "email": "corp@example.com",
            "billing_address": {"line1": "1 Main St", "city": "Town"},
            "contacts": [{"name": "Bo", "is_primary": True}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    uuid = response.json()["data"]["id"]
    # one change of a record in one call is one event: the customer is created with its
    # default address (not created, then updated)
    assert types() == ["customer.created", "address.created", "account.updated", "contact.created"]
    created = only("customer.created")
    assert created.actor == key_actor(world.api_key, "api:b2b")
    assert created.data["default_address_id"] == only("address.created").data["id"]
    account = only("account.updated")
    assert account.data["billing_address_id"] == created.data["default_address_id"]
    assert account.previous_attributes["billing_address_id"] is None

    Event.objects.all().delete()
    response = client.put(
        f"/api/customers/{uuid}", {"payment_terms": "net_60", "name": "Corp BV"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert types() == ["customer.updated", "account.updated"]
    assert only("customer.updated").previous_attributes == {"name": "Corp"}
    assert only("account.updated").previous_attributes == {"payment_terms": "net_30"}
    # nothing changed: no event
    response = client.put(f"/api/customers/{uuid}", {"payment_terms": "net_60"}, format="json")
    assert response.status_code == 200
    assert types() == ["customer.updated", "account.updated"]

    Event.objects.all().delete()
    response = client.post(
        f"/api/customers/{uuid}/contacts", {"name": "Cy", "is_primary": True}, format="json"
    )
    assert response.status_code == 201, response.content
    contact_id = response.json()["data"]["id"]
    # the previous primary is demoted: its own contact.updated
    assert types() == ["contact.updated", "contact.created"]
    assert only("contact.updated").previous_attributes == {"is_primary": True}
    response = client.put(
        f"/api/customers/{uuid}/contacts/{contact_id}", {"title": "Boss"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert written(type="contact.updated")[-1].previous_attributes == {"title": ""}
    assert client.delete(f"/api/customers/{uuid}/contacts/{contact_id}").status_code == 200
    assert only("contact.deleted").data["id"] == contact_id

    Event.objects.all().delete()
    response = client.post(
        "/api/orders",
        {"customer_id": uuid, "lines": [{"product_id": str(world.products[0].id), "quantity": 2}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    order_id = response.json()["data"]["id"]
    order = only("order.created")
    assert order.data["id"] == order_id and order.data["customer_id"] == uuid
    assert order.data["status"] == "confirmed"
    response = client.patch(f"/api/orders/{order_id}", {"status": "shipped"}, format="json")
    assert response.status_code == 200, response.content
    shipped = only("order.status_changed")
    assert shipped.previous_attributes["status"] == "confirmed"
    assert shipped.previous_attributes["ship_date"] is None
    assert shipped.data["status"] == "shipped"


# --- the admin, the import, commands ---------------------------------------------------------


def test_admin_change_and_delete_are_the_staff_users(world):
    staff = make_staff(world.admin)
    customer = customer_create(tenant=world.tenant, name="Ada")
    Event.objects.all().delete()
    client = admin_client(staff)
    url = reverse("admin:customers_customer_delete", args=[customer.pk])
    response = client.post(url, {"post": "yes"})
    assert response.status_code == 302
    deleted = only("customer.deleted")
    assert deleted.actor == user_actor(staff, "admin")
    assert deleted.data["name"] == "Ada"


def test_admin_client_type_removal_updates_each_customers_tags_in_one_insert(world):
    vip = client_type_create(tenant=world.tenant, name="vip")
    donor = client_type_create(tenant=world.tenant, name="donor")
    tagged = [CustomerFactory(tenant=world.tenant, tags=[vip, donor]) for _ in range(3)]
    Event.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        client_type_delete(client_type=vip)
    assert len(event_inserts(queries.captured_queries)) == 1
    emitted = written(type="customer.tags_updated")
    assert {e.data["customer_id"] for e in emitted} == {str(c.uuid) for c in tagged}
    assert all(e.data["tags"] == ["donor"] for e in emitted)
    assert all(e.previous_attributes == {"tags": ["donor", "vip"]} for e in emitted)


CSV = "name,email,tags\nAlpha,alpha@example.com,vip\nBeta,beta@example.com,\nGamma,,\n"


def test_import_emits_one_event_per_row_with_one_insert(world):
    ClientTypeFactory(tenant=world.tenant, name="vip")
    with CaptureQueriesContext(connection) as queries:
        report = customers_import(
            tenant=world.tenant, rows=csv_io.read_rows(io.StringIO(CSV)), dry_run=False
        )
    assert report.committed and report.created == 3
    assert len(event_inserts(queries.captured_queries)) == 1
    assert types() == [
        "customer.created",
        "customer.tags_updated",
        "customer.created",
        "customer.created",
    ]


def test_a_dry_run_or_an_invalid_row_emits_nothing(world):
    rows = csv_io.read_rows(io.StringIO(CSV))
    customers_import(tenant=world.tenant, rows=rows, dry_run=True)
    assert written() == []
    bad = CSV + "Delta,not-an-email,\n"
    report = customers_import(
        tenant=world.tenant, rows=csv_io.read_rows(io.StringIO(bad)), dry_run=False
    )
    assert report.errors and not report.committed
    assert written() == []


def test_the_import_command_is_the_systems(world, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("name,email\nAlpha,alpha@example.com\n")
    call_command("import_customers", "--tenant", world.tenant.slug, str(path), stdout=io.StringIO())
    created = only("customer.created")
    assert created.actor == {
        "type": "system",
        "id": None,
        "name": "manage.py import_customers",
        "origin": "manage.py import_customers",
    }


# --- transactions and statements ------------------------------------------------------------


def test_a_rolled_back_write_emits_nothing(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_create(tenant=world.tenant, name="Ghost")
        raise RuntimeError
    assert written() == []
    customer = customer_create(tenant=world.tenant, name="Ada", email="ada@example.com")
    CustomerFactory(tenant=world.tenant, email="taken@example.com")
    Event.objects.all().delete()
    with pytest.raises(errors.ValidationError):
        customer_update(customer=customer, name="Ada L", email="taken@example.com")
    assert written() == []
    customer.refresh_from_db()
    assert customer.name == "Ada"


def test_a_failed_nested_call_takes_its_events_with_it(world):
    customer = customer_create(tenant=world.tenant, name="Ada")
    Event.objects.all().delete()
    with transaction.atomic(), events.collect():
        address_set(customer=customer, key="home", city="Haarlem")
        with pytest.raises(errors.ValidationError):
            customer_tags_set(customer=customer, names=["unknown"])
    assert types() == ["address.created"]


def test_one_insert_per_service_call_whatever_the_events(world):
    customer = customer_create(tenant=world.tenant, name="Ada")
    customer_store_link(customer=customer, store=world.store)
    with CaptureQueriesContext(connection) as queries:
        account_create(
            tenant=world.tenant,
            name="Corp",
            billing_address={"city": "X"},
            shipping_address={"city": "Y"},
            contacts=[{"name": "A", "is_primary": True}, {"name": "B"}],
        )
    assert len(event_inserts(queries.captured_queries)) == 1
    with CaptureQueriesContext(connection) as queries:
        store_customers_remove(store=world.store, customer_ids=[customer.uuid])
    assert len(event_inserts(queries.captured_queries)) == 1
    with CaptureQueriesContext(connection) as queries:
        customer_update(customer=customer, name="Ada")  # no change, no event, no INSERT
    assert event_inserts(queries.captured_queries) == []


# --- the events API --------------------------------------------------------------------------


def make_events(world, n=5):
    return [customer_create(tenant=world.tenant, name=f"C{i}") for i in range(n)]


def test_list_is_newest_first_and_pages_by_cursor(world):
    make_events(world, 5)
    client = api_key_client(world.api_key)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get(EVENTS, params)
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [event["id"] for event in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    expected = [str(e.uuid) for e in Event.objects.filter(tenant=world.tenant).order_by("-id")]
    assert seen == expected and len(seen) == 5


def test_list_filters(world):
    ada, bob, *_ = make_events(world, 3)
    address_set(customer=ada, key="home", city="X")
    customer_update(customer=bob, notes="n")
    client = api_key_client(world.api_key)

    def listed(**params):
        response = client.get(EVENTS, params)
        assert response.status_code == 200, response.content
        return [(e["type"], e["customer_id"]) for e in response.json()["data"]]

    assert listed(type="address.created") == [("address.created", str(ada.uuid))]
    assert [t for t, _ in listed(type="customer.updated,address.created")] == [
        "customer.updated",
        "address.created",
    ]
    assert {t for t, _ in listed(type="customer.*")} == {"customer.created", "customer.updated"}
    assert listed(customer=str(ada.uuid)) == [
        ("address.created", str(ada.uuid)),
        ("customer.created", str(ada.uuid)),
    ]
    base = timezone.now() - timedelta(hours=1)
    for minutes, event in enumerate(Event.objects.order_by("id")):
        Event.objects.filter(pk=event.pk).update(occurred_at=base + timedelta(minutes=minutes))
    newest = Event.objects.order_by("-id").first()
    before = newest.occurred_at.isoformat()
    assert ("customer.updated", str(bob.uuid)) not in listed(occurred_before=before)
    assert listed(occurred_after=(newest.occurred_at - timedelta(seconds=1)).isoformat()) == [
        ("customer.updated", str(bob.uuid))
    ]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert listed(occurred_after=future) == []
    # repeated parameters
    response = client.get(f"{EVENTS}?type=address.created&type=customer.updated")
    assert {e["type"] for e in response.json()["data"]} == {"address.created", "customer.updated"}


@pytest.mark.parametrize(
    "query",
    [
        "type=customer.exploded",
        "customer=not-a-uuid",
        "cursor=abc",
        "cursor=" + encode_cursor(["x"]),
        "limit=0",
        "occurred_after=yesterday",
    ],
)
def test_invalid_list_parameters_are_400(world, query):
    response = api_key_client(world.api_key).get(f"{EVENTS}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["request_id"] == response["X-Request-ID"]


def test_detail_and_another_tenants_event_is_404(world, other):
    mine = customer_create(tenant=world.tenant, name="Mine")
    customer_create(tenant=other.tenant, name="Theirs")
    event = only("customer.created", customer_uuid=mine.uuid)
    theirs = only("customer.created", tenant=other.tenant, data__name="Theirs")
    client = bearer_client(world.viewer)
    response = client.get(f"{EVENTS}/{event.uuid}", HTTP_X_TENANT_ID="acme")
    assert response.status_code == 200, response.content
    body = response.json()["data"]
    assert body["id"] == str(event.uuid) and body["tenant"] == "acme"
    assert body["data"]["name"] == "Mine" and body["actor"]["type"] == "system"
    for missing in (theirs.uuid, "not-a-uuid", "00000000-0000-4000-8000-000000000001"):
        response = client.get(f"{EVENTS}/{missing}", HTTP_X_TENANT_ID="acme")
        assert response.status_code == 404
    listed = client.get(EVENTS, HTTP_X_TENANT_ID="acme").json()["data"]
    assert str(theirs.uuid) not in {e["id"] for e in listed}


def test_members_without_admin_role_see_only_their_stores_links(world):
    customer = customer_create(tenant=world.tenant, name="Ada")
    customer_store_link(customer=customer, store=world.store)
    customer_store_link(customer=customer, store=world.store2)
    mine = only("store_link.created", data__store_id=str(world.store.id))
    theirs = only("store_link.created", data__store_id=str(world.store2.id))

    def listed(client):
        response = client.get(EVENTS, {"type": "store_link.*"}, HTTP_X_TENANT_ID="acme")
        assert response.status_code == 200
        return {e["id"] for e in response.json()["data"]}

    both = {str(mine.uuid), str(theirs.uuid)}
    assert listed(bearer_client(world.admin)) == both
    assert listed(api_key_client(world.viewer_key)) == both
    assert listed(bearer_client(world.agent)) == {str(mine.uuid)}
    assert listed(bearer_client(world.viewer)) == {str(mine.uuid)}
    response = bearer_client(world.agent).get(f"{EVENTS}/{theirs.uuid}", HTTP_X_TENANT_ID="acme")
    assert response.status_code == 404
    # the customer's own events are the whole tenant's
    response = bearer_client(world.agent).get(
        EVENTS, {"type": "customer.created"}, HTTP_X_TENANT_ID="acme"
    )
    assert len(response.json()["data"]) == 1


def test_list_query_count_does_not_grow_with_the_page(world, django_assert_max_num_queries):
    make_events(world, 30)
    client = api_key_client(world.api_key)
    client.get(EVENTS)  # the key's last_used_at is fresh
    with django_assert_max_num_queries(6):
        response = client.get(EVENTS, {"limit": 100})
    assert len(response.json()["data"]) == 30


# --- retention -------------------------------------------------------------------------------


def test_purge_deletes_the_expired_events_in_batches(world, settings):
    make_events(world, 5)
    old = timezone.now() - timedelta(days=31)
    stale = list(Event.objects.order_by("id").values_list("id", flat=True)[:3])
    Event.objects.filter(id__in=stale).update(occurred_at=old)
    assert events.events_purge(batch_size=2) == 3
    assert Event.objects.count() == 2
    settings.HUB_EVENTS_RETENTION_DAYS = 0
    out = io.StringIO()
    call_command("purge_events", stdout=out)
    assert "Deleted 2 event(s)" in out.getvalue()
    assert Event.objects.count() == 0


def test_admin_change_form_and_client_type_removal_are_the_staff_users(world):
    from tests.test_admin_customers import _inline_management, change_url

    staff = make_staff(world.admin)
    vip = ClientTypeFactory(tenant=world.tenant, name="vip")
    customer = CustomerFactory(tenant=world.tenant, email="mine@example.com", tags=[vip])
    client = admin_client(staff)
    form = client.get(change_url(customer)).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "tags"}
    data |= _inline_management(customer)
    data["tags"] = [str(vip.pk)]
    data["name"] = "Renamed"
    response = client.post(change_url(customer), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    updated = only("customer.updated")
    assert updated.actor == user_actor(staff, "admin")
    assert updated.previous_attributes == {"name": customer.name}

    response = client.post(
        reverse("admin:customers_clienttype_delete", args=[vip.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    tags = only("customer.tags_updated")
    assert tags.actor == user_actor(staff, "admin")
    assert tags.data == {"customer_id": str(customer.uuid), "tags": []}


def test_the_demo_emits_through_the_services(db):
    call_command("demo", stdout=io.StringIO())
    emitted = set(Event.objects.values_list("type", flat=True))
    assert {"customer.created", "store_link.created", "order.created"} <= emitted
    assert set(Event.objects.values_list("actor__type", flat=True)) == {"system"}


def test_linking_a_user_and_coalescing_one_calls_updates(world):
    from customers.services import customer_link_user
    from tenants.services import membership_grant
    from tests.factories import UserFactory

    user = UserFactory(username="newcomer")
    membership_grant(user=user, tenant=world.tenant)
    customer = customer_create(tenant=world.tenant, name="Ada", notes="a")
    Event.objects.all().delete()
    customer_link_user(customer=customer, user=user)
    assert only("customer.updated").previous_attributes == {"user_id": None}
    assert only("customer.updated").data["user_id"] == str(user.pk)
    Event.objects.all().delete()
    # two updates of one record in one transaction are one event with the earliest values;
    # changed back, none
    with transaction.atomic(), events.collect():
        customer_update(customer=customer, notes="b", name="Ada L")
        customer_update(customer=customer, notes="c")
        customer_update(customer=customer, name="Ada")
    updated = only("customer.updated")
    assert updated.previous_attributes == {"notes": "a"}
    assert updated.data["notes"] == "c" and updated.data["name"] == "Ada"
    Event.objects.all().delete()
    with transaction.atomic(), events.collect():
        customer_update(customer=customer, notes="d")
        customer_update(customer=customer, notes="c")
    assert written() == []


def test_address_updates_order_updates_and_a_price_list_set(world):
    from b2b.services import order_update
    from customers.services import address_rename

    customer = customer_create(tenant=world.tenant, name="Ada")
    address_set(customer=customer, key="home", city="Haarlem", line1="Elm")
    order = order_create(
        tenant=world.tenant,
        customer=customer,
        lines=[{"sku": world.products[0].sku, "quantity": 1}],
    )
    CustomerStoreFactory(customer=customer, store=world.store)
    Event.objects.all().delete()
    address_set(customer=customer, key="home", city="Leiden", line1="Elm")
    assert only("address.updated").previous_attributes == {"city": "Haarlem"}
    address_rename(customer=customer, key="home", new_key="house")
    assert written(type="address.updated")[-1].previous_attributes == {"address_id": "home"}
    paid = timezone.now()
    order_update(order=order, paid_at=paid)
    updated = only("order.updated")
    assert updated.previous_attributes == {"paid_at": None}
    assert updated.data["paid_at"] is not None
    client = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
    response = client.put(
        f"/customers/{customer.uuid}/price-list",
        {"priceListId": str(world.price_list.id)},
        format="json",
    )
    assert response.status_code == 200, response.content
    changed = only("store_link.price_list_changed")
    assert changed.previous_attributes == {"price_list_id": None}
    assert changed.data["price_list_id"] == str(world.price_list.id)
