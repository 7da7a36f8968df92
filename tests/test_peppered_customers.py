"""Peppered dialect: create, get, update and find customers (the UserResource)."""

from decimal import Decimal

import pytest

from customers.models import Address, Customer, Source
from customers.selectors import customer_tag_names
from customers.services import address_set, default_address_set
from tests.conftest import api_key_client
from tests.factories import AddressFactory, ClientTypeFactory, CustomerFactory

pytestmark = pytest.mark.django_db

BASE = "/v1/acme/peppered"
RESOURCE_FIELDS = {
    "customerId",
    "customerExternalId",
    "email",
    "customerSalutation",
    "customerFirstName",
    "customerLastName",
    "customerPreposition",
    "customerAddress",
    "customerHouseNr",
    "customerZip",
    "customerCity",
    "customerCountry",
    "customerPhone",
    "customerCredit",
    "lastChanged",
    "customerTags",
}
FULL = {
    "email": "Jan.Jansen@Example.com",
    "customerFirstName": "Jan",
    "customerLastName": "Dijk",
    "customerSalutation": "M",
    "customerPreposition": "van",
    "customerAddress": "Kerkstraat 12a",
    "customerHouseNr": "12a",
    "customerZip": "1234 AB",
    "customerCity": "Amsterdam",
    "customerCountry": "NL",
    "customerPhone": "+31612345678",
    "customerCredit": "25.50",
}


@pytest.fixture
def client(world):
    client = api_key_client(world.api_key, "bare")
    client.get(f"{BASE}/export/clienttypes")  # the key's last_used_at is now fresh
    return client


def create(client, **body):
    return client.post(f"{BASE}/customer", body, format="json")


# --- create ----------------------------------------------------------------------------------


def test_create_with_every_field(client, world, django_assert_max_num_queries):
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    # + 1 since issue 20: the INSERT of the new customer's identifiers (customers/identity.py)
    with django_assert_max_num_queries(30):
        response = create(client, **FULL)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == RESOURCE_FIELDS
    customer = Customer.objects.get(pk=body["customerId"])
    assert body == {
        "customerId": customer.pk,
        "customerExternalId": None,
        "email": "Jan.Jansen@Example.com",
        "customerSalutation": "M",
        "customerFirstName": "Jan",
        "customerLastName": "Dijk",
        "customerPreposition": "van",
        "customerAddress": "Kerkstraat 12a",
        "customerHouseNr": "12a",
        "customerZip": "1234 AB",
        "customerCity": "Amsterdam",
        "customerCountry": "NL",
        "customerPhone": "+31612345678",
        "customerCredit": "25.50",
        "lastChanged": body["lastChanged"],
        "customerTags": [],
    }
    assert body["lastChanged"].endswith("Z")
    assert customer.tenant == world.tenant
    assert customer.source == Source.API
    assert customer.name == "Jan van Dijk"
    assert customer.credit == Decimal("25.50")
    address = customer.default_address
    assert address.key == "default"
    assert (address.line1, address.house_number, address.postal_code) == (
        "Kerkstraat 12a",
        "12a",
        "1234 AB",
    )
    assert (address.city, address.country) == ("Amsterdam", "NL")


def test_create_with_only_email(client, django_assert_max_num_queries):
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    # + 1 since issue 20: the INSERT of the new customer's identifiers (customers/identity.py)
    with django_assert_max_num_queries(14):
        response = create(client, email="solo@example.com")
    assert response.status_code == 201
    body = response.json()
    assert body["customerCredit"] == "0.00"
    assert body["customerExternalId"] is None
    for field in RESOURCE_FIELDS - {
        "customerId",
        "customerExternalId",
        "email",
        "customerCredit",
        "lastChanged",
        "customerTags",
    }:
        assert body[field] == "", field
    customer = Customer.objects.get(pk=body["customerId"])
    assert customer.default_address is None
    assert not Address.objects.filter(customer=customer).exists()


def test_create_with_empty_address_fields_creates_no_address(client):
    response = create(client, email="e@example.com", customerAddress="", customerCity=None)
    assert response.status_code == 201
    assert not Address.objects.filter(customer_id=response.json()["customerId"]).exists()


def test_unknown_fields_are_ignored(client):
    response = create(
        client, email="x@example.com", customerExternalId="CRM-1", customerId=5, foo="bar"
    )
    assert response.status_code == 201
    assert response.json()["customerExternalId"] is None
    assert response.json()["customerId"] != 5


def test_external_id_is_returned_and_empty_is_null(client, world):
    customer = CustomerFactory(tenant=world.tenant, external_id="CRM-42")
    assert client.get(f"{BASE}/customer/{customer.pk}").json()["customerExternalId"] == "CRM-42"


def test_email_is_required_on_create(client):
    response = create(client, customerFirstName="Jan")
    assert response.status_code == 422
    assert response.json() == {
        "message": "The email field is required.",
        "errors": {"email": ["The email field is required."]},
        "requestId": response["X-Request-ID"],
    }


@pytest.mark.parametrize("email", ["", None, "   "])
def test_email_may_not_be_empty(client, email):
    response = create(client, email=email)
    assert response.status_code == 422
    assert response.json()["errors"] == {"email": ["The email field is required."]}


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.nl", 42, "a" * 250 + "@b.nl"])
def test_email_must_be_valid(client, email):
    response = create(client, email=email)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["email"]


def test_duplicate_email_is_422_case_insensitively(client, world):
    taken = CustomerFactory(tenant=world.tenant, email="taken@example.com")
    before = Customer.objects.count()
    response = create(client, email="TAKEN@Example.COM", customerAddress="Straat 1")
    assert response.status_code == 422
    # issue 20: the error names the customer that has the email (its integer id)
    assert response.json() == {
        "message": f"The email has already been taken. (customerId {taken.pk})",
        "errors": {"email": ["The email has already been taken."]},
        "customerId": taken.pk,
        "requestId": response["X-Request-ID"],
    }
    assert Customer.objects.count() == before
    assert not Address.objects.filter(line1="Straat 1").exists()


def test_email_taken_by_a_member_customer_of_another_dialect(client, world):
    # member_join created a customer for the agent with the user's email.
    response = create(client, email=world.agent.email.upper())
    assert response.status_code == 422


def test_same_email_in_another_tenant_is_fine(client, other):
    CustomerFactory(tenant=other.tenant, email="shared@example.com")
    assert create(client, email="shared@example.com").status_code == 201


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "customerFirstName",
            "x" * 256,
            "The customer first name field must not be greater than 255 characters.",
        ),
        (
            "customerLastName",
            "x" * 256,
            "The customer last name field must not be greater than 255 characters.",
        ),
        (
            "customerPreposition",
            "x" * 256,
            "The customer preposition field must not be greater than 255 characters.",
        ),
        ("customerSalutation", "Mr", "The customer salutation field must be 1 characters."),
        (
            "customerAddress",
            "x" * 256,
            "The customer address field must not be greater than 255 characters.",
        ),
        (
            "customerHouseNr",
            "1" * 21,
            "The customer house nr field must not be greater than 20 characters.",
        ),
        (
            "customerZip",
            "12345678901",
            "The customer zip field must not be greater than 10 characters.",
        ),
        (
            "customerCity",
            "x" * 256,
            "The customer city field must not be greater than 255 characters.",
        ),
        (
            "customerCountry",
            "x" * 256,
            "The customer country field must not be greater than 255 characters.",
        ),
        ("customerPhone", "06-12345678", "The customer phone field must be a number."),
        ("customerPhone", "call me", "The customer phone field must be a number."),
        ("customerPhone", "++31", "The customer phone field must be a number."),
        ("customerPhone", "3161234567+", "The customer phone field must be a number."),
        ("customerPhone", -612345678, "The customer phone field must be a number."),
        ("customerPhone", 6.5, "The customer phone field must be a number."),
        (
            "customerPhone",
            "1" * 33,
            "The customer phone field must not be greater than 32 characters.",
        ),
        ("customerCredit", "1.234", "The customer credit field must have 0-2 decimal places."),
        ("customerCredit", "25.500", "The customer credit field must have 0-2 decimal places."),
        ("customerCredit", 0.125, "The customer credit field must have 0-2 decimal places."),
        ("customerCredit", "NaN", "The customer credit field must be a number."),
        ("customerCredit", "Infinity", "The customer credit field must be a number."),
        ("customerCredit", "-inf", "The customer credit field must be a number."),
        ("customerCredit", "abc", "The customer credit field must be a number."),
        ("customerCredit", "1e3", "The customer credit field must be a number."),
        ("customerCredit", "", "The customer credit field must be a number."),
        ("customerCredit", "1,50", "The customer credit field must be a number."),
        ("customerCredit", True, "The customer credit field must be a number."),
        ("customerCredit", None, "The customer credit field must be a number."),
        ("customerCredit", [1], "The customer credit field must be a number."),
        ("customerCredit", {"v": 1}, "The customer credit field must be a number."),
        (
            "customerCredit",
            "100000000.01",
            "The customer credit field must be between -100000000 and 100000000.",
        ),
        (
            "customerCredit",
            -(10**30),
            "The customer credit field must be between -100000000 and 100000000.",
        ),
        (
            "customerCredit",
            "9" * 400,
            "The customer credit field must be between -100000000 and 100000000.",
        ),
        ("customerFirstName", "Ja\x00n", "Null characters are not allowed."),
        ("customerFirstName", ["Jan"], "The customer first name field must be a string."),
        ("customerCity", {"a": 1}, "The customer city field must be a string."),
    ],
)
def test_create_validation(client, field, value, message):
    before = Customer.objects.count()
    response = create(client, email="valid@example.com", **{field: value})
    assert response.status_code == 422, response.json()
    body = response.json()
    assert body["errors"] == {field: [message]}
    assert body["message"] == message
    assert Customer.objects.count() == before


def test_huge_json_number_credit_is_422(client):
    response = client.post(
        f"{BASE}/customer",
        '{"email": "a@example.com", "customerCredit": 1e400}',
        content_type="application/json",
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["customerCredit"]


def test_nan_literal_is_rejected(client):
    response = client.post(
        f"{BASE}/customer",
        '{"email": "a@example.com", "customerCredit": NaN}',
        content_type="application/json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("25.5", "25.50"),
        ("25", "25.00"),
        (25.5, "25.50"),
        (10, "10.00"),
        ("-3.1", "-3.10"),
        (".5", "0.50"),
        ("  7.25 ", "7.25"),
        ("100000000", "100000000.00"),
        ("-100000000.00", "-100000000.00"),
    ],
)
def test_credit_is_accepted_as_string_or_number(client, value, stored):
    response = create(client, email="c@example.com", customerCredit=value)
    assert response.status_code == 201, response.json()
    assert response.json()["customerCredit"] == stored
    assert Customer.objects.get(pk=response.json()["customerId"]).credit == Decimal(stored)


@pytest.mark.parametrize(
    ("value", "stored"),
    [("0612345678", "+31612345678"), ("+31612345678", "+31612345678"), (612345678, "+31612345678")],
)
def test_phone_is_digits_with_optional_plus(client, value, stored):
    response = create(client, email="p@example.com", customerPhone=value)
    assert response.status_code == 201
    assert response.json()["customerPhone"] == stored


def test_several_errors_in_laravel_form(client):
    response = create(client, email="nope", customerSalutation="Mrs", customerZip="12345678901")
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "The email field must be a valid email address. (and 2 more errors)"
    assert body["errors"] == {
        "email": ["The email field must be a valid email address."],
        "customerSalutation": ["The customer salutation field must be 1 characters."],
        "customerZip": ["The customer zip field must not be greater than 10 characters."],
    }


def test_two_errors_say_one_more_error(client):
    body = create(client, customerSalutation="Mrs").json()
    assert body["message"] == "The email field is required. (and 1 more error)"


def test_body_that_is_not_an_object_is_422(client):
    response = client.post(f"{BASE}/customer", [FULL], format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["body"]


def test_strings_are_trimmed(client):
    body = create(client, email="  t@example.com ", customerCity="  Utrecht ").json()
    assert (body["email"], body["customerCity"]) == ("t@example.com", "Utrecht")


# --- get -------------------------------------------------------------------------------------


def test_get_customer(client, world, django_assert_max_num_queries):
    vip, donor = (
        ClientTypeFactory(tenant=world.tenant, name="vip"),
        ClientTypeFactory(tenant=world.tenant, name="donor"),
    )
    customer = CustomerFactory(
        tenant=world.tenant,
        salutation="F",
        preposition="de",
        credit=Decimal("-4.5"),
        tags=[vip, donor],
    )
    address = AddressFactory(customer=customer, key="home", line1="Dorpsweg 3", house_number="3")
    default_address_set(customer=customer, key="home")
    with django_assert_max_num_queries(4):  # key, tenant, customer with its address, tags
        response = client.get(f"{BASE}/customer/{customer.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["customerId"] == customer.pk
    assert body["customerSalutation"] == "F"
    assert body["customerPreposition"] == "de"
    assert body["customerCredit"] == "-4.50"
    assert body["customerTags"] == ["donor", "vip"]
    assert body["customerAddress"] == "Dorpsweg 3"
    assert body["customerHouseNr"] == "3"
    assert body["customerZip"] == address.postal_code
    assert body["customerCity"] == address.city


def test_get_customer_without_default_address_shows_empty_address(client, world):
    customer = CustomerFactory(tenant=world.tenant)
    AddressFactory(customer=customer, key="other")  # not the default
    body = client.get(f"{BASE}/customer/{customer.pk}").json()
    assert body["customerAddress"] == body["customerZip"] == body["customerCity"] == ""


@pytest.mark.parametrize("ref", ["999999", "abc", "0", "-1", "1.5", "9" * 30, "1e3"])
def test_unknown_or_malformed_id_is_404(client, world, ref):
    response = client.get(f"{BASE}/customer/{ref}")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer not found.",
        "requestId": response["X-Request-ID"],
    }


def test_another_tenants_customer_is_404(client, other):
    foreign = CustomerFactory(tenant=other.tenant)
    assert client.get(f"{BASE}/customer/{foreign.pk}").status_code == 404
    response = client.put(f"{BASE}/customer/{foreign.pk}", {"customerCity": "X"}, format="json")
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.default_address_id is None


def test_inactive_customer_is_still_served(client, world):
    customer = CustomerFactory(tenant=world.tenant, is_active=False)
    assert client.get(f"{BASE}/customer/{customer.pk}").status_code == 200


# --- update ----------------------------------------------------------------------------------


def test_update_changes_only_what_is_sent(client, django_assert_max_num_queries):
    created = create(client, **FULL).json()
    url = f"{BASE}/customer/{created['customerId']}"
    # the record is rendered before the update too (its tags), to leave out the fields sent
    # unchanged (tenants.api.dialect.changes), and the update takes the customer's lock
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(27):
        response = client.put(
            url, {"customerCity": "Rotterdam", "customerCredit": 3}, format="json"
        )
    assert response.status_code == 200
    body = response.json()
    expected = {**created, "customerCity": "Rotterdam", "customerCredit": "3.00"}
    assert {k: v for k, v in body.items() if k != "lastChanged"} == {
        k: v for k, v in expected.items() if k != "lastChanged"
    }
    assert body["lastChanged"] > created["lastChanged"]
    assert Address.objects.filter(customer_id=created["customerId"]).count() == 1


def test_empty_update_changes_nothing(client, world):
    customer = CustomerFactory(tenant=world.tenant)
    before = customer.updated_at
    response = client.put(f"{BASE}/customer/{customer.pk}", {}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.updated_at == before


def test_update_with_null_or_empty_clears(client):
    created = create(client, **FULL).json()
    response = client.put(
        f"{BASE}/customer/{created['customerId']}",
        {"customerPhone": None, "customerSalutation": "", "customerZip": None},
        format="json",
    )
    body = response.json()
    assert (body["customerPhone"], body["customerSalutation"], body["customerZip"]) == ("", "", "")
    assert body["customerCity"] == "Amsterdam"


def test_update_email(client, world):
    customer = CustomerFactory(tenant=world.tenant, email="old@example.com")
    url = f"{BASE}/customer/{customer.pk}"
    # Its own email in another case is not "taken".
    assert client.put(url, {"email": "OLD@example.com"}, format="json").status_code == 200
    response = client.put(url, {"email": "new@example.com"}, format="json")
    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"


def test_update_email_to_a_taken_one_is_422(client, world):
    CustomerFactory(tenant=world.tenant, email="taken@example.com")
    customer = CustomerFactory(tenant=world.tenant, email="mine@example.com")
    response = client.put(
        f"{BASE}/customer/{customer.pk}",
        {"email": "Taken@example.com", "customerCity": "Delft"},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"email": ["The email has already been taken."]}
    customer.refresh_from_db()
    assert customer.email == "mine@example.com"
    assert customer.default_address_id is None


@pytest.mark.parametrize("email", [None, "", "bad"])
def test_update_email_cannot_be_cleared_or_invalid(client, world, email):
    customer = CustomerFactory(tenant=world.tenant)
    response = client.put(f"{BASE}/customer/{customer.pk}", {"email": email}, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["email"]


def test_update_validation_changes_nothing(client, world):
    customer = CustomerFactory(tenant=world.tenant, first_name="Ann")
    response = client.put(
        f"{BASE}/customer/{customer.pk}",
        {"customerFirstName": "Bea", "customerCredit": "1.001"},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "customerCredit": ["The customer credit field must have 0-2 decimal places."]
    }
    customer.refresh_from_db()
    assert customer.first_name == "Ann"


def test_update_address_creates_default_address_once(client, world):
    customer = CustomerFactory(tenant=world.tenant)
    url = f"{BASE}/customer/{customer.pk}"
    client.put(url, {"customerAddress": "Laan 1"}, format="json")
    client.put(url, {"customerZip": "9999ZZ"}, format="json")
    customer.refresh_from_db()
    assert Address.objects.filter(customer=customer).count() == 1
    assert customer.default_address.key == "default"
    assert (customer.default_address.line1, customer.default_address.postal_code) == (
        "Laan 1",
        "9999ZZ",
    )


def test_update_address_changes_the_existing_default_address_in_place(client, world):
    customer = CustomerFactory(tenant=world.tenant)
    address_set(customer=customer, key="shipping", line1="Oud 1", city="Leiden", state="ZH")
    default_address_set(customer=customer, key="shipping")
    response = client.put(
        f"{BASE}/customer/{customer.pk}", {"customerAddress": "Nieuw 2"}, format="json"
    )
    assert response.json()["customerAddress"] == "Nieuw 2"
    assert response.json()["customerCity"] == "Leiden"
    address = Address.objects.get(customer=customer)
    assert (address.key, address.line1, address.state) == ("shipping", "Nieuw 2", "ZH")


def test_display_name_follows_the_names(client, world):
    created = create(client, email="n@example.com", customerFirstName="Jan").json()
    customer = Customer.objects.get(pk=created["customerId"])
    assert customer.name == "Jan"
    url = f"{BASE}/customer/{customer.pk}"
    client.put(url, {"customerLastName": "Berg", "customerPreposition": "van den"}, format="json")
    customer.refresh_from_db()
    assert customer.name == "Jan van den Berg"


def test_long_names_make_a_display_name_that_fits(client):
    body = create(
        client,
        email="long@example.com",
        customerFirstName="a" * 255,
        customerPreposition="b" * 255,
        customerLastName="c" * 255,
    )
    assert body.status_code == 201
    customer = Customer.objects.get(pk=body.json()["customerId"])
    assert customer.name == ("a" * 255)
    assert body.json()["customerLastName"] == "c" * 255


def test_display_name_set_elsewhere_is_kept(client, world):
    customer = CustomerFactory(
        tenant=world.tenant, first_name="Jan", last_name="Berg", name="Berg BV"
    )
    client.put(f"{BASE}/customer/{customer.pk}", {"customerFirstName": "Piet"}, format="json")
    customer.refresh_from_db()
    assert (customer.first_name, customer.name) == ("Piet", "Berg BV")


def test_update_keeps_tags(client, world):
    vip = ClientTypeFactory(tenant=world.tenant, name="vip")
    customer = CustomerFactory(tenant=world.tenant, tags=[vip])
    body = client.put(f"{BASE}/customer/{customer.pk}", {"customerCity": "X"}, format="json").json()
    assert body["customerTags"] == ["vip"]


# --- findByEmail -----------------------------------------------------------------------------


def test_find_by_email_is_case_insensitive(client, world, django_assert_max_num_queries):
    customer = CustomerFactory(tenant=world.tenant, email="Find.Me@example.com")
    with django_assert_max_num_queries(4):  # key, tenant, customer, tags (no default address)
        response = client.post(
            f"{BASE}/customer/findByEmail", {"email": "find.me@EXAMPLE.com"}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["customerId"] == customer.pk
    assert set(response.json()) == RESOURCE_FIELDS


def test_find_by_email_reads_the_default_address_with_the_customer(
    client, world, django_assert_max_num_queries
):
    customer = CustomerFactory(tenant=world.tenant, email="home@example.com")
    address = AddressFactory(customer=customer, key="home", city="Utrecht")
    Customer.objects.filter(pk=customer.pk).update(default_address=address)
    with django_assert_max_num_queries(4):  # key, tenant, customer with its address, tags
        response = client.post(
            f"{BASE}/customer/findByEmail", {"email": "HOME@example.com"}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["customerCity"] == "Utrecht"


def test_find_by_email_takes_wildcards_and_spaces_literally(client, world):
    customer = CustomerFactory(tenant=world.tenant, email="a_b%c@example.com")
    CustomerFactory(tenant=world.tenant, email="axbxc@example.com")
    found = client.post(
        f"{BASE}/customer/findByEmail", {"email": "  A_B%C@example.com "}, format="json"
    )
    assert found.status_code == 200 and found.json()["customerId"] == customer.pk
    missed = client.post(
        f"{BASE}/customer/findByEmail", {"email": "a_b_c@example.com"}, format="json"
    )
    assert missed.status_code == 404


def test_tag_names_are_sorted_alike_from_a_query_or_a_prefetch(world):
    customer = CustomerFactory(tenant=world.tenant)
    names = ["zeta", "Émile", "Alpha", "beta"]
    customer.tags.set([ClientTypeFactory(tenant=world.tenant, name=n) for n in names])
    CustomerFactory(tenant=world.tenant).tags.add(ClientTypeFactory(tenant=world.tenant))
    fresh = Customer.objects.get(pk=customer.pk)
    prefetched = Customer.objects.prefetch_related("tags").get(pk=customer.pk)
    assert customer_tag_names(fresh) == customer_tag_names(prefetched) == sorted(names)


def test_find_by_email_not_found_is_404(client, other):
    CustomerFactory(tenant=other.tenant, email="foreign@example.com")
    for email in ("nobody@example.com", "foreign@example.com"):
        response = client.post(f"{BASE}/customer/findByEmail", {"email": email}, format="json")
        assert response.status_code == 404
        assert response.json()["message"] == "Customer not found."


@pytest.mark.parametrize(
    "body", [{}, {"email": ""}, {"email": None}, {"email": "nope"}, {"email": 5}]
)
def test_find_by_email_validation(client, body):
    response = client.post(f"{BASE}/customer/findByEmail", body, format="json")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["email"]


def test_the_compiled_resource_is_what_the_declared_fields_render(world):
    """UserResource (of a customer with and without a default address, an external id, tags)
    renders exactly what DRF's own fields render of its declaration."""
    from rest_framework import serializers as drf

    from customers.api.peppered.serializers import UserResourceSerializer

    tags = [ClientTypeFactory(tenant=world.tenant, name=n) for n in ("vip", "donor")]
    tagged = CustomerFactory(
        tenant=world.tenant, external_id="CRM-1", credit=Decimal("25.5"), tags=tags
    )
    AddressFactory(customer=tagged, key="home", line1="Main 1", house_number="1", city="Town")
    default_address_set(customer=tagged, key="home")
    bare = CustomerFactory(tenant=world.tenant, external_id="", phone="")
    for made in (tagged, bare):
        customer = Customer.objects.select_related("default_address").get(pk=made.pk)
        serializer = UserResourceSerializer(customer)
        expected = drf.Serializer.to_representation(serializer, customer)
        assert serializer.data == expected
        assert list(serializer.data) == list(expected)
    assert expected["customerAddress"] == "" and expected["customerExternalId"] is None
