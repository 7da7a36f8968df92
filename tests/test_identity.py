"""The identity graph (issue 20, items 1 and 2; docs/identity.md): normalization, the
identifiers every write path keeps in step with the columns, lookups through them, and
resolution on write in the data dialect (the four scenarios of the issue's "Why")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from b2b.services import account_create
from customers import identity, selectors
from customers.identity import DISCORD, EMAIL, EXTERNAL, PHONE, USER
from customers.models import Customer, Identifier
from customers.services import (
    customer_create,
    customer_find_or_create_by_discord,
    customer_link_user,
    customer_update,
    customers_import,
    member_join,
)
from stores.services import store_customer_create
from tenants import errors
from tenants.models import Membership
from tests.admin_support import admin_client, make_staff
from tests.conftest import api_key_client, bearer_client, json_of
from tests.factories import CustomerFactory, TenantFactory, UserFactory

DATA = "/api/data/customer"
ACME = {"x-tenant-id": "acme"}


def ids(customer) -> set[tuple[str, str]]:
    return set(Identifier.objects.filter(customer=customer).values_list("kind", "value"))


def discord_body(discord_id: str, **extra) -> dict:
    return {
        "discordId": discord_id,
        "discordUsername": f"user{discord_id}",
        "discordDisplayName": f"User {discord_id}",
        **extra,
    }


def member(tenant, **user_fields):
    user = UserFactory(**user_fields)
    Membership.objects.create(user=user, tenant=tenant, role="viewer")
    return user


# --- normalization ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        (EMAIL, "  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"),
        (EMAIL, "STRASSE@example.com", "strasse@example.com"),
        (DISCORD, " 80000000000000001 ", "80000000000000001"),
        (EXTERNAL, " crm-42 ", "crm-42"),
        (USER, 17, "17"),
        (PHONE, "06 12345678", "+31612345678"),
        (PHONE, "+31 (0)6-1234 5678", "+31612345678"),
        (EMAIL, None, ""),
        (PHONE, "", ""),
    ],
)
def test_normalize(db, kind, raw, value):
    tenant = TenantFactory(default_region="NL")
    assert identity.normalize(kind, raw, tenant=tenant) == value


def test_normalize_a_user_by_its_primary_key(db):
    user = UserFactory()
    assert identity.normalize(USER, user, tenant=None) == str(user.pk)


def test_a_local_phone_needs_the_tenant_region(db):
    tenant = TenantFactory(default_region="")
    with pytest.raises(errors.ValidationError):
        identity.normalize(PHONE, "06 12345678", tenant=tenant)


def test_an_email_in_other_case_finds_the_customer(world):
    customer = customer_create(tenant=world.tenant, name="Ada", email="Ada.L@Example.com")
    assert ids(customer) == {(EMAIL, "ada.l@example.com")}
    for spelling in ("ada.l@example.com", " ADA.L@EXAMPLE.COM "):
        assert selectors.customer_find_by_email(tenant=world.tenant, email=spelling) == customer


def test_a_phone_in_local_format_is_stored_in_e164(world):
    world.tenant.default_region = "NL"
    world.tenant.save(update_fields=["default_region"])
    customer = customer_create(tenant=world.tenant, name="Ada", phone="06-12345678")
    assert ids(customer) == {(PHONE, "+31612345678")}
    found = selectors.customer_find_by_identifier(
        tenant=world.tenant, kind=PHONE, value="0612345678"
    )
    assert found == customer


# --- identifiers follow every write ---------------------------------------------------------


def test_create_writes_every_kind(world):
    user = member(world.tenant)
    customer = customer_create(
        tenant=world.tenant,
        email="a@example.com",
        discord_id="111",
        user=user,
        external_id="crm-1",
        phone="+31612345678",
    )
    assert ids(customer) == {
        (EMAIL, "a@example.com"),
        (DISCORD, "111"),
        (USER, str(user.pk)),
        (EXTERNAL, "crm-1"),
        (PHONE, "+31612345678"),
    }


def test_update_replaces_the_primary_and_keeps_the_others(world):
    customer = customer_create(tenant=world.tenant, email="old@example.com", discord_id="1")
    Identifier.objects.create(
        tenant=world.tenant, customer=customer, kind=EMAIL, value="second@example.com"
    )
    customer_update(customer=customer, email="New@example.com", discord_id="2", notes="n")
    assert ids(customer) == {
        (EMAIL, "new@example.com"),
        (EMAIL, "second@example.com"),
        (DISCORD, "2"),
    }
    customer_update(customer=customer, email="", discord_id="")
    assert ids(customer) == {(EMAIL, "second@example.com")}


def test_update_to_a_secondary_email_makes_it_the_primary(world):
    customer = customer_create(tenant=world.tenant, email="first@example.com")
    Identifier.objects.create(
        tenant=world.tenant, customer=customer, kind=EMAIL, value="second@example.com"
    )
    customer_update(customer=customer, email="second@example.com")
    assert customer.email == "second@example.com"
    assert ids(customer) == {(EMAIL, "second@example.com")}


def test_a_case_change_of_the_email_keeps_its_identifier(world, django_assert_max_num_queries):
    customer = customer_create(tenant=world.tenant, email="ada@example.com")
    before = Identifier.objects.get(customer=customer).pk
    customer_update(customer=customer, email="ADA@example.com")
    assert Identifier.objects.get(customer=customer).pk == before


def test_taken_identifiers_are_refused_naming_the_holder(world):
    user = member(world.tenant)
    holder = customer_create(tenant=world.tenant, email="a@example.com", discord_id="7", user=user)
    other = customer_create(tenant=world.tenant, name="Other")
    for fields, code in (
        ({"email": "A@EXAMPLE.COM"}, "email_taken"),
        ({"discord_id": "7"}, "discord_id_taken"),
        ({"user": user}, "user_taken"),
    ):
        for write in (
            lambda fields=fields: customer_create(tenant=world.tenant, **fields),
            lambda fields=fields: customer_update(customer=other, **fields),
        ):
            with pytest.raises(errors.DomainError) as caught:
                write()
            assert caught.value.code == code
            assert identity.existing_of(caught.value) == (holder.pk, holder.uuid)
    assert ids(other) == set()


def test_a_secondary_email_is_taken_too(world):
    holder = customer_create(tenant=world.tenant, email="first@example.com")
    Identifier.objects.create(
        tenant=world.tenant, customer=holder, kind=EMAIL, value="second@example.com"
    )
    with pytest.raises(errors.ValidationError) as caught:
        customer_create(tenant=world.tenant, email="Second@example.com")
    assert caught.value.code == "email_taken"


def test_shared_phones_and_external_ids_are_never_refused(world):
    first = customer_create(tenant=world.tenant, phone="+31612345678", external_id="x")
    second = customer_create(tenant=world.tenant, phone="+31612345678", external_id="x")
    assert ids(first) == {(PHONE, "+31612345678"), (EXTERNAL, "x")}
    assert ids(second) == set()  # the identifier stays with the first customer
    customer_update(customer=second, phone="+31612345679")
    assert ids(second) == {(PHONE, "+31612345679")}


def test_link_user_and_member_join(world):
    customer = customer_create(tenant=world.tenant, name="Linked")
    user = member(world.tenant)
    customer_link_user(customer=customer, user=user)
    assert ids(customer) == {(USER, str(user.pk))}
    assert selectors.customer_get_by_user(tenant=world.tenant, user=user) == customer
    joiner = UserFactory(email="Joiner@Example.com")
    member_join(tenant=world.tenant, user=joiner)
    made = selectors.customer_get_by_user(tenant=world.tenant, user=joiner)
    assert ids(made) == {(USER, str(joiner.pk)), (EMAIL, "joiner@example.com")}
    customer_update(customer=customer, user=None)
    assert ids(customer) == set()


def test_csv_import_creates_and_updates_identifiers(world):
    existing = customer_create(tenant=world.tenant, email="known@example.com", discord_id="5")
    rows = [
        (2, {"email": "new@example.com", "name": "New", "discord_id": "6"}),
        (3, {"email": "KNOWN@example.com", "discord_id": "9"}),
    ]
    report = customers_import(tenant=world.tenant, rows=rows, dry_run=False)
    assert (report.created, report.updated, report.errors) == (1, 1, [])
    made = Customer.objects.get(tenant=world.tenant, email="new@example.com")
    assert ids(made) == {(EMAIL, "new@example.com"), (DISCORD, "6")}
    assert ids(existing) == {(EMAIL, "known@example.com"), (DISCORD, "9")}


def test_the_admin_and_the_dialects_keep_the_identifiers(world):
    from tests.test_admin_rules import customer_form, url

    customer = CustomerFactory(tenant=world.tenant, email="adm@example.com", discord_id="3")
    response = admin_client(world.agent).post(
        url(Customer, "change", customer.pk),
        customer_form(customer, email="Admin.Changed@example.com", discord_id="4"),
    )
    assert response.status_code == 302
    assert {(EMAIL, "admin.changed@example.com"), (DISCORD, "4")} <= ids(customer)
    assert not {(EMAIL, "adm@example.com"), (DISCORD, "3")} & ids(customer)
    response = bearer_client(world.agent, **ACME).patch(
        f"{DATA}/{customer.uuid}", {"email": "via.data@example.com"}, format="json"
    )
    assert response.status_code == 200
    response = api_key_client(world.api_key, "bare").put(
        f"/v1/{world.tenant.slug}/peppered/customer/{customer.pk}",
        {"customerPhone": "+31611112222"},
        format="json",
    )
    assert response.status_code == 200
    response = bearer_client(world.agent).put(
        f"/api/customers/{customer.uuid}", {"email": "via.b2b@example.com"}, format="json"
    )
    assert response.status_code == 200
    assert ids(customer) == {
        (EMAIL, "via.b2b@example.com"),
        (DISCORD, "4"),
        (PHONE, "+31611112222"),
    }


def test_b2b_and_store_creates(world):
    b2b = account_create(tenant=world.tenant, name="Corp", email="Orders@Corp.example")
    assert ids(b2b) == {(EMAIL, "orders@corp.example")}
    link = store_customer_create(store=world.store, local_name="Ada Lovelace")
    assert ids(link.customer) == set()  # a name is no identifier


def test_the_factories_write_identifiers(world):
    customer = CustomerFactory(tenant=world.tenant)
    assert ids(customer) == {pair for pair in identity.column_values(customer).items() if pair[1]}


# --- lookups ------------------------------------------------------------------------------


def test_lookups_go_through_the_identifiers(world):
    customer = CustomerFactory(tenant=world.tenant, email="col@example.com", discord_id="42")
    Identifier.objects.create(
        tenant=world.tenant, customer=customer, kind=DISCORD, value="43"
    )  # a merged customer's Discord id, say
    Identifier.objects.create(
        tenant=world.tenant, customer=customer, kind=EMAIL, value="also@example.com"
    )
    tenant = world.tenant
    assert selectors.customer_find_by_discord_id(tenant=tenant, discord_id="43") == customer
    assert selectors.customer_find_by_email(tenant=tenant, email="ALSO@example.com") == customer
    assert selectors.customer_find_by_email(tenant=tenant, email="nobody@example.com") is None
    assert selectors.customer_find_by_email(tenant=tenant, email="") is None


def test_customers_by_identifiers_returns_the_live_holders_in_one_query(
    world, django_assert_num_queries
):
    ada = CustomerFactory(tenant=world.tenant, email="ada@example.com", discord_id="501")
    Identifier.objects.create(tenant=world.tenant, customer=ada, kind=EMAIL, value="a2@example.com")
    bob = CustomerFactory(tenant=world.tenant, discord_id="502")
    gone = CustomerFactory(tenant=world.tenant, discord_id="503")
    Customer.objects.filter(pk=gone.pk).update(merged_into=ada)
    erased = CustomerFactory(tenant=world.tenant, discord_id="504")
    Customer.objects.filter(pk=erased.pk).update(erased_at=erased.created_at)
    other = CustomerFactory(tenant=TenantFactory(), discord_id="505")
    pairs = [
        (DISCORD, "501"),
        (EMAIL, "a2@example.com"),
        (DISCORD, "502"),
        (DISCORD, "503"),
        (DISCORD, "504"),
        (DISCORD, "505"),
        (DISCORD, "506"),
        (USER, ""),
    ]
    with django_assert_num_queries(1):
        found = identity.customers_by_identifiers(tenant_id=world.tenant.pk, pairs=pairs)
    assert found == {(DISCORD, "501"): ada, (EMAIL, "a2@example.com"): ada, (DISCORD, "502"): bob}
    record = found[(DISCORD, "502")]
    # the full record, as the ORM reads it, without the query's own columns
    fresh = Customer.objects.get(pk=bob.pk)
    fields = Customer._meta.concrete_fields
    assert [getattr(record, f.attname) for f in fields] == [
        getattr(fresh, f.attname) for f in fields
    ]
    assert not {"identifier_kind", "identifier_value"} & record.__dict__.keys()
    assert other.tenant_id != world.tenant.pk
    assert identity.customers_by_identifiers(tenant_id=world.tenant.pk, pairs=[(EMAIL, "")]) == {}


def test_peppered_find_by_email_finds_a_secondary_email(world):
    customer = CustomerFactory(tenant=world.tenant, email="col@example.com")
    Identifier.objects.create(
        tenant=world.tenant, customer=customer, kind=EMAIL, value="also@example.com"
    )
    response = api_key_client(world.api_key, "bare").post(
        f"/v1/{world.tenant.slug}/peppered/customer/findByEmail",
        {"email": "Also@Example.com"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["customerId"] == customer.pk


def test_a_lookup_never_returns_a_tombstone(world):
    survivor = CustomerFactory(tenant=world.tenant, email="s@example.com")
    merged = CustomerFactory(tenant=world.tenant, email="m@example.com", discord_id="99")
    # what a merge does (customers/merging.py): the identifiers move, the row points on
    Identifier.objects.filter(customer=merged).update(customer=survivor)
    Customer.objects.filter(pk=merged.pk).update(merged_into=survivor)
    tenant = world.tenant
    assert selectors.customer_find_by_email(tenant=tenant, email="m@example.com") == survivor
    assert selectors.customer_find_by_discord_id(tenant=tenant, discord_id="99") == survivor
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("99", email="m@example.com"), format="json"
    )
    assert response.status_code == 200
    assert response.json()["id"] == str(survivor.uuid)


# --- the four scenarios of issue 20's "Why" ---------------------------------------------------


@pytest.fixture
def ada(world):
    """A peppered client has created ada.l@example.com (the demo's first scenario)."""
    response = api_key_client(world.api_key, "bare").post(
        f"/v1/{world.tenant.slug}/peppered/customer",
        {"email": "ada.l@example.com", "customerFirstName": "Ada", "customerLastName": "L"},
        format="json",
    )
    assert response.status_code == 201
    return Customer.objects.get(pk=response.json()["customerId"])


def test_scenario_1_the_discord_side_finds_the_peppered_customer(world, ada):
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("80000000000000001", email="Ada.L@example.com"), format="json"
    )
    assert response.status_code == 200
    body = json_of(response)
    assert body["id"] == str(ada.uuid)
    assert body["discordId"] == "80000000000000001"
    assert body["discordUsername"] == "user80000000000000001"
    assert body["email"] == "ada.l@example.com"
    assert (DISCORD, "80000000000000001") in ids(ada)
    assert (
        Customer.objects.filter(tenant=world.tenant, email__iexact="ada.l@example.com").count() == 1
    )
    # and it is found by that Discord id from now on, unchanged
    again = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("80000000000000001"), format="json"
    )
    assert (again.status_code, json_of(again)) == (200, body)


def test_scenario_2_a_user_with_a_customer_is_found(world):
    joined = selectors.customer_get_by_user(tenant=world.tenant, user=world.viewer)
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("80000000000000002", userId=str(world.viewer.pk)), format="json"
    )
    assert response.status_code == 200
    assert json_of(response)["id"] == str(joined.uuid)
    assert json_of(response)["userId"] == str(world.viewer.pk)
    assert (DISCORD, "80000000000000002") in ids(joined)


def test_scenario_3_b2b_create_names_the_existing_customer(world, ada):
    response = bearer_client(world.agent).post(
        "/api/customers", {"name": "Ada", "email": "ADA.L@example.com"}, format="json"
    )
    assert response.status_code == 400
    error = json_of(response)["error"]
    assert error["code"] == "email_taken"
    assert error["details"]["existing_customer_id"] == [str(ada.uuid)]
    assert str(ada.uuid) in error["message"]


def test_scenario_3_peppered_create_names_the_existing_customer(world, ada):
    response = api_key_client(world.api_key, "bare").post(
        f"/v1/{world.tenant.slug}/peppered/customer", {"email": "Ada.L@Example.com"}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["customerId"] == ada.pk
    assert response.json()["errors"] == {"email": ["The email has already been taken."]}
    assert f"customerId {ada.pk}" in response.json()["message"]


def test_scenario_4_a_store_create_by_name_makes_a_new_customer(world, ada):
    # a name is no identifier: this is duplicate detection's case (issue 20 item 3)
    response = bearer_client(world.agent, **{"x-store-id": str(world.store.pk)}).post(
        "/customers", {"localName": "Ada Lovelace"}, format="json"
    )
    assert response.status_code == 200  # the store seed's answer to a create
    assert (
        Customer.objects.filter(tenant=world.tenant)
        .exclude(pk=ada.pk)
        .filter(local_name="Ada Lovelace")
        .exists()
    )


# --- conflicts ---------------------------------------------------------------------------


def test_two_customers_in_one_request_is_400_naming_both(world):
    by_discord = CustomerFactory(tenant=world.tenant, discord_id="500", email="")
    by_email = CustomerFactory(tenant=world.tenant, discord_id="", email="b@example.com")
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("500", email="b@example.com"), format="json"
    )
    assert response.status_code == 400
    body = json_of(response)
    assert str(by_discord.uuid) in body["message"] and str(by_email.uuid) in body["message"]
    assert set(body["errors"]) == {"discordId", "email"}
    assert ids(by_discord) == {(DISCORD, "500"), (PHONE, by_discord.phone)}
    assert (EMAIL, "b@example.com") in ids(by_email)


def test_a_user_and_a_discord_id_of_two_customers_is_400(world):
    user = member(world.tenant)
    by_user = customer_create(tenant=world.tenant, user=user)
    CustomerFactory(tenant=world.tenant, discord_id="501")
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("501", userId=str(user.pk)), format="json"
    )
    assert response.status_code == 400
    assert set(json_of(response)["errors"]) == {"discordId", "userId"}
    assert ids(by_user) == {(USER, str(user.pk))}


def test_an_email_whose_customer_has_another_discord_id_is_400(world):
    holder = CustomerFactory(tenant=world.tenant, discord_id="600", email="c@example.com")
    before = Customer.objects.count()
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("601", email="C@example.com"), format="json"
    )
    assert response.status_code == 400
    body = json_of(response)
    assert list(body["errors"]) == ["discordId"]
    assert str(holder.uuid) in body["message"]
    assert not Identifier.objects.filter(kind=DISCORD, value="601").exists()
    assert Customer.objects.count() == before


def test_a_discord_id_whose_customer_has_another_user_is_400(world):
    CustomerFactory(tenant=world.tenant, discord_id="700", user=member(world.tenant))
    user = member(world.tenant)
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("700", userId=str(user.pk)), format="json"
    )
    assert response.status_code == 400
    assert list(json_of(response)["errors"]) == ["userId"]


def test_a_second_email_is_attached_as_a_secondary_identifier(world):
    holder = CustomerFactory(tenant=world.tenant, discord_id="800", email="first@example.com")
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("800", email="Second@example.com"), format="json"
    )
    assert response.status_code == 200
    assert json_of(response)["email"] == "first@example.com"  # the column keeps the primary
    assert {(EMAIL, "first@example.com"), (EMAIL, "second@example.com")} <= ids(holder)
    found = selectors.customer_find_by_email(tenant=world.tenant, email="second@example.com")
    assert found == holder


def test_an_empty_column_is_filled(world):
    holder = CustomerFactory(tenant=world.tenant, discord_id="900", email="", phone="")
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("900", email="d@example.com", phone="+31687654321"), format="json"
    )
    assert response.status_code == 200
    assert (json_of(response)["email"], json_of(response)["phone"]) == (
        "d@example.com",
        "+31687654321",
    )
    assert {(EMAIL, "d@example.com"), (PHONE, "+31687654321")} <= ids(holder)


def test_no_match_creates(world):
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("1000", email="new@example.com"), format="json"
    )
    assert response.status_code == 201
    customer = Customer.objects.get(uuid=json_of(response)["id"])
    assert ids(customer) == {(DISCORD, "1000"), (EMAIL, "new@example.com")}


def test_found_by_discord_id_with_nothing_new_is_one_query(world, django_assert_num_queries):
    customer = customer_create(tenant=world.tenant, discord_id="1100", email="e@example.com")
    with django_assert_num_queries(1):
        found, created = customer_find_or_create_by_discord(
            tenant=world.tenant, discord_id="1100", email="E@example.com"
        )
    assert (found, created) == (customer, False)


# --- the tenant's policy ------------------------------------------------------------------


def test_email_matching_off_refuses_a_taken_email(world, ada):
    world.tenant.match_by_email = False
    world.tenant.save(update_fields=["match_by_email"])
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("1200", email="ada.l@example.com"), format="json"
    )
    assert response.status_code == 400
    body = json_of(response)
    assert list(body["errors"]) == ["email"]
    assert str(ada.uuid) in body["message"]
    assert not Identifier.objects.filter(kind=DISCORD, value="1200").exists()
    # the Discord id and the user still find their customers
    customer_update(customer=ada, discord_id="1201")
    response = bearer_client(world.agent, **ACME).post(
        DATA, discord_body("1201", email="ada.l@example.com"), format="json"
    )
    assert (response.status_code, json_of(response)["id"]) == (200, str(ada.uuid))


def test_email_matching_is_on_by_default(db):
    assert TenantFactory().match_by_email is True


def test_a_tenant_admin_switches_email_matching_in_the_admin(world):
    client = admin_client(make_staff(world.admin))
    url = reverse("admin:tenants_tenant_change", args=[world.tenant.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="match_by_email"' in page.content
    data = {"name": world.tenant.name, "default_region": ""}  # match_by_email unticked
    for prefix in ("memberships", "api_keys"):
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    world.tenant.refresh_from_db()
    assert world.tenant.match_by_email is False
    response = client.post(url, {**data, "match_by_email": "on"})
    assert response.status_code == 302
    world.tenant.refresh_from_db()
    assert world.tenant.match_by_email is True


def test_the_generator_writes_the_identifiers(db):
    from tests.bench.generate import GenerationRun

    tenant = TenantFactory(slug="gen")
    GenerationRun(tenant=tenant, count=300, seed=7, options={}, chunk_size=40).run()
    customers = Customer.objects.filter(tenant=tenant)
    for customer in customers.exclude(email="")[:20]:
        assert (EMAIL, customer.email.casefold()) in ids(customer)
    with_email = customers.exclude(email="").count()
    assert Identifier.objects.filter(tenant=tenant, kind=EMAIL).count() == with_email
    with_discord = customers.exclude(discord_id="").count()
    assert Identifier.objects.filter(tenant=tenant, kind=DISCORD).count() == with_discord
    assert Identifier.objects.filter(tenant=tenant, kind=EXTERNAL).count() == 300
    phones = customers.exclude(phone="").values("phone").distinct().count()
    assert Identifier.objects.filter(tenant=tenant, kind=PHONE).count() == phones
    # and find-or-create finds a generated customer by its email
    sample = customers.exclude(email="").filter(discord_id="").first()
    found, created = customer_find_or_create_by_discord(
        tenant=tenant, discord_id="1", email=sample.email.upper()
    )
    assert (found, created) == (sample, False)


def test_a_found_customer_is_returned_whatever_the_phone_sent(world):
    # as before issue 20: nothing is written, so the phone is not checked
    customer = customer_create(tenant=world.tenant, discord_id="1300", phone="+31612345678")
    found, created = customer_find_or_create_by_discord(
        tenant=world.tenant, discord_id="1300", phone="not a phone"
    )
    assert (found, created) == (customer, False)
    with pytest.raises(errors.ValidationError):
        customer_find_or_create_by_discord(
            tenant=world.tenant, discord_id="1301", phone="not a phone"
        )


def test_an_identifier_inserted_around_the_services_is_translated(world, is_postgres):
    from customers.services import _atomic

    holder = customer_create(tenant=world.tenant, email="held@example.com")
    other = customer_create(tenant=world.tenant, name="Other")

    @_atomic
    def raw_insert():  # a writer that inserts without identity.identifiers_add
        Identifier.objects.create(
            tenant=world.tenant, customer=other, kind=EMAIL, value="held@example.com"
        )

    with pytest.raises(errors.DomainError) as caught:
        raw_insert()
    # PostgreSQL names the kind (the email's own error); SQLite only the columns
    assert caught.value.code == ("email_taken" if is_postgres else "identifier_taken")
    assert ids(holder) == {(EMAIL, "held@example.com")}
