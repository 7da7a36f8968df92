"""b2b dialect (seed 003): GET/POST /api/customers, GET/PUT /api/customers/:id."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from b2b import services
from b2b.models import Account, Contact, SalesOrder
from customers.models import Address, Customer
from tenants import errors
from tests.b2b_support import account_customer, contains
from tests.conftest import HubClient, api_key_client, bearer_client, json_of
from tests.factories import ContactFactory, CustomerFactory, PriceListFactory, UserFactory

pytestmark = pytest.mark.django_db

SEED_CREATE = {
    "name": "New Customer Corp",
    "email": "orders@newcustomer.com",
    "phone": "+1-555-0999",
    "website": "https://newcustomer.com",
    "tax_id": "12-9876543",
    "billing_address": {
        "line1": "123 New Customer St",
        "city": "Business City",
        "state": "CA",
        "postal_code": "90210",
        "country": "US",
    },
    "shipping_address": {
        "line1": "456 Warehouse Ave",
        "city": "Distribution City",
        "state": "CA",
        "postal_code": "90211",
        "country": "US",
    },
    "contacts": [
        {
            "name": "Bob Wilson",
            "title": "Operations Manager",
            "email": "bob.wilson@newcustomer.com",
            "phone": "+1-555-1000",
            "is_primary": True,
        }
    ],
    "payment_terms": "net_30",
    "currency": "USD",
    "credit_limit": 5000.00,
    "discount_rate": 2.5,
    "preferred_shipping": "FEDEX_GROUND",
}

SEED_BILLING = {
    "line1": "456 Customer Blvd",
    "line2": "Floor 3",
    "city": "Customer City",
    "state": "NY",
    "postal_code": "10001",
    "country": "US",
}
SEED_SHIPPING = {
    "line1": "456 Customer Blvd",
    "city": "Customer City",
    "state": "NY",
    "postal_code": "10001",
    "country": "US",
}


def _ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def seed_customer_xyz(tenant):
    """The seed's "Customer XYZ": 75 counted orders worth 45000.00, 2500.00 unpaid."""
    customer = account_customer(
        tenant,
        billing=SEED_BILLING,
        shipping=SEED_SHIPPING,
        website="https://customerxyz.com",
        fax="+1-555-0457",
        tax_id="98-7654321",
        payment_terms="net_15",
        currency="USD",
        credit_limit=Decimal("10000.00"),
        discount_rate=Decimal("5.00"),
        preferred_shipping="UPS_GROUND",
        customer_since=_ts("2023-06-15T00:00:00Z"),
    )
    Customer.objects.filter(pk=customer.pk).update(
        name="Customer XYZ",
        email="orders@customerxyz.com",
        phone="+1-555-0456",
        notes="High-value customer with consistent orders",
        created_at=_ts("2023-06-15T00:00:00Z"),
        updated_at=_ts("2024-01-15T10:30:00Z"),
    )
    Account.objects.filter(customer=customer).update(updated_at=_ts("2024-01-15T10:30:00Z"))
    ContactFactory(
        customer=customer,
        name="Alice Johnson",
        title="Procurement Manager",
        email="alice.johnson@customerxyz.com",
        phone="+1-555-0458",
        is_primary=True,
    )
    day = _ts("2023-07-01T00:00:00Z")
    amounts = [("580.00", True)] * 72 + [("740.00", True)] + [("1250.00", False)] * 2
    orders = [
        SalesOrder(
            tenant=tenant,
            customer=customer,
            order_number=f"SO-XYZ-{n:04d}",
            status="delivered",
            order_date=day,
            paid_at=day if paid else None,
            total_amount=Decimal(amount),
        )
        for n, (amount, paid) in enumerate(amounts)
    ]
    # never counted: a draft and a cancelled order
    orders += [
        SalesOrder(
            tenant=tenant,
            customer=customer,
            order_number=f"SO-XYZ-X{n}",
            status=status,
            order_date=day,
            total_amount=Decimal("999.00"),
        )
        for n, status in enumerate(["draft", "cancelled"])
    ]
    SalesOrder.objects.bulk_create(orders)
    return Customer.objects.get(pk=customer.pk)


# --- the seed's examples ------------------------------------------------------------------


def test_seed_list_customers(world):
    customer = seed_customer_xyz(world.tenant)
    response = bearer_client(world.agent).get(
        "/api/customers", {"search": "customer xyz", "page": 1, "limit": 20}
    )
    assert response.status_code == 200
    body = json_of(response)
    contains(
        body,
        {
            "data": [
                {
                    "id": str(customer.uuid),
                    "name": "Customer XYZ",
                    "email": "orders@customerxyz.com",
                    "phone": "+1-555-0456",
                    "website": "https://customerxyz.com",
                    "billing_address": SEED_BILLING,
                    "shipping_address": SEED_SHIPPING,
                    "payment_terms": "net_15",
                    "credit_limit": 10000.00,
                    "current_balance": 2500.00,
                    "customer_since": "2023-06-15T00:00:00Z",
                    "is_active": True,
                    "created_at": "2023-06-15T00:00:00Z",
                    "updated_at": "2024-01-15T10:30:00Z",
                }
            ],
            "meta": {"total": 1, "page": 1, "limit": 20, "hasMore": False},
        },
    )
    item = body["data"][0]
    assert item["billing_address"] == SEED_BILLING
    assert item["shipping_address"] == SEED_SHIPPING  # absent parts are left out
    assert b'"credit_limit":10000.00' in response.content
    assert b'"current_balance":2500.00' in response.content


def test_seed_get_customer(world):
    customer = seed_customer_xyz(world.tenant)
    response = bearer_client(world.agent).get(f"/api/customers/{customer.uuid}")
    assert response.status_code == 200
    body = json_of(response)
    contact_id = str(Contact.objects.get(customer=customer).pk)
    contains(
        body,
        {
            "data": {
                "id": str(customer.uuid),
                "name": "Customer XYZ",
                "email": "orders@customerxyz.com",
                "phone": "+1-555-0456",
                "fax": "+1-555-0457",
                "website": "https://customerxyz.com",
                "tax_id": "98-7654321",
                "billing_address": SEED_BILLING,
                "shipping_address": SEED_SHIPPING,
                "contacts": [
                    {
                        "id": contact_id,
                        "name": "Alice Johnson",
                        "title": "Procurement Manager",
                        "email": "alice.johnson@customerxyz.com",
                        "phone": "+1-555-0458",
                        "is_primary": True,
                    }
                ],
                "payment_terms": "net_15",
                "currency": "USD",
                "credit_limit": 10000.00,
                "current_balance": 2500.00,
                "discount_rate": 5.0,
                "preferred_shipping": "UPS_GROUND",
                "customer_since": "2023-06-15T00:00:00Z",
                "lifetime_value": 45000.00,
                "total_orders": 75,
                "is_active": True,
                "notes": "High-value customer with consistent orders",
                "created_at": "2023-06-15T00:00:00Z",
                "updated_at": "2024-01-15T10:30:00Z",
            }
        },
    )
    assert b'"lifetime_value":45000.00' in response.content
    assert b'"discount_rate":5.00' in response.content


def test_seed_create_customer(world):
    response = bearer_client(world.agent).post("/api/customers", SEED_CREATE, format="json")
    assert response.status_code == 201
    data = json_of(response)["data"]
    contains(
        data,
        {
            "name": "New Customer Corp",
            "email": "orders@newcustomer.com",
            "phone": "+1-555-0999",
            "billing_address": SEED_CREATE["billing_address"],
            "contacts": [
                {
                    "name": "Bob Wilson",
                    "title": "Operations Manager",
                    "email": "bob.wilson@newcustomer.com",
                    "phone": "+1-555-1000",
                    "is_primary": True,
                }
            ],
            "payment_terms": "net_30",
            "currency": "USD",
            "credit_limit": 5000.00,
            "current_balance": 0.00,
            "discount_rate": 2.5,
            "is_active": True,
        },
    )
    assert data["billing_address"] == SEED_CREATE["billing_address"]
    assert data["shipping_address"] == SEED_CREATE["shipping_address"]
    assert data["customer_since"] == data["created_at"]
    assert data["created_at"].endswith("Z") and data["updated_at"].endswith("Z")
    assert b'"credit_limit":5000.00' in response.content
    assert b'"current_balance":0.00' in response.content
    customer = Customer.objects.get(uuid=data["id"])
    assert customer.tenant == world.tenant
    assert customer.account.website == "https://newcustomer.com"
    assert customer.account.preferred_shipping == "FEDEX_GROUND"
    assert customer.account.credit_limit == Decimal("5000.00")
    assert customer.account.discount_rate == Decimal("2.50")
    assert customer.account.billing_address.key == "billing"
    assert customer.account.shipping_address.key == "shipping"
    assert data["contacts"][0]["id"] == str(customer.contacts.get().pk)


def test_seed_update_customer(world):
    customer = seed_customer_xyz(world.tenant)
    response = bearer_client(world.agent).put(
        f"/api/customers/{customer.uuid}",
        {
            "name": "Updated Customer Name",
            "email": "new.orders@customer.com",
            "credit_limit": 15000.00,
            "discount_rate": 7.5,
            "is_active": True,
        },
        format="json",
    )
    assert response.status_code == 200
    data = json_of(response)["data"]
    contains(
        data,
        {
            "id": str(customer.uuid),
            "name": "Updated Customer Name",
            "email": "new.orders@customer.com",
            "credit_limit": 15000.00,
            "discount_rate": 7.5,
        },
    )
    assert _ts(data["updated_at"]) > _ts("2024-01-15T10:30:00Z")
    # only the fields sent changed
    assert data["phone"] == "+1-555-0456"
    assert data["payment_terms"] == "net_15"
    assert data["billing_address"] == SEED_BILLING
    assert data["total_orders"] == 75
    customer.refresh_from_db()
    assert customer.name == "Updated Customer Name"
    assert customer.account.credit_limit == Decimal("15000.00")


# --- defaults, accounts on demand, addresses ----------------------------------------------


def test_customer_without_account_reads_with_defaults(world):
    customer = CustomerFactory(tenant=world.tenant, name="Plain", email="plain@example.com")
    data = json_of(bearer_client(world.agent).get(f"/api/customers/{customer.uuid}"))["data"]
    contains(
        data,
        {
            "payment_terms": "net_30",
            "currency": "USD",
            "credit_limit": 0,
            "discount_rate": 0,
            "current_balance": 0,
            "lifetime_value": 0,
            "total_orders": 0,
            "billing_address": None,
            "shipping_address": None,
            "contacts": [],
            "fax": "",
            "website": "",
        },
    )
    assert data["customer_since"] == data["created_at"]
    assert not Account.objects.filter(customer=customer).exists()


def test_put_creates_the_account_on_demand(world):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.agent).put(
        f"/api/customers/{customer.uuid}",
        {"payment_terms": "net_60", "shipping_address": {"line1": "1 Dock Rd", "country": "US"}},
        format="json",
    )
    assert response.status_code == 200
    data = json_of(response)["data"]
    assert data["payment_terms"] == "net_60"
    assert data["shipping_address"] == {"line1": "1 Dock Rd", "country": "US"}
    assert data["customer_since"] == data["created_at"]
    account = Account.objects.get(customer=customer)
    assert account.currency == "USD"
    assert account.shipping_address == Address.objects.get(customer=customer, key="shipping")


def test_put_changes_address_parts_and_null_unlinks(world):
    customer = account_customer(world.tenant, billing=SEED_BILLING, shipping=SEED_SHIPPING)
    client = bearer_client(world.agent)
    data = json_of(
        client.put(
            f"/api/customers/{customer.uuid}",
            {"billing_address": {"line2": "", "city": "New City"}, "shipping_address": None},
            format="json",
        )
    )["data"]
    expected = dict(SEED_BILLING, city="New City")
    del expected["line2"]
    assert data["billing_address"] == expected
    assert data["shipping_address"] is None


def test_put_of_an_empty_body_changes_nothing(world):
    customer = seed_customer_xyz(world.tenant)
    response = bearer_client(world.agent).put(f"/api/customers/{customer.uuid}", {}, format="json")
    assert response.status_code == 200
    assert json_of(response)["data"]["name"] == "Customer XYZ"


def test_currency_is_upper_cased(world):
    response = bearer_client(world.agent).post(
        "/api/customers", {"name": "Euro GmbH", "currency": "eur"}, format="json"
    )
    assert response.status_code == 201
    assert json_of(response)["data"]["currency"] == "EUR"


def test_money_accepts_numeric_strings(world):
    response = bearer_client(world.agent).post(
        "/api/customers",
        {"name": "Strings Ltd", "credit_limit": "1234.5", "discount_rate": "10"},
        format="json",
    )
    assert response.status_code == 201
    assert b'"credit_limit":1234.50' in response.content
    assert b'"discount_rate":10.00' in response.content


def test_price_list_can_be_assigned_and_must_be_the_tenants_and_active(world, other):
    client = bearer_client(world.agent)
    ok = client.post(
        "/api/customers",
        {"name": "Listed", "price_list_id": str(world.price_list.pk)},
        format="json",
    )
    assert ok.status_code == 201
    assert json_of(ok)["data"]["price_list_id"] == str(world.price_list.pk)
    for price_list in (other.price_list, world.inactive_price_list):
        response = client.post(
            "/api/customers",
            {"name": "Listed 2", "price_list_id": str(price_list.pk)},
            format="json",
        )
        assert response.status_code == 404
        assert json_of(response)["error"]["code"] == "price_list_not_found"
    assert not Customer.objects.filter(name="Listed 2").exists()


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "Nul\x00Corp"}, "name"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "payment_terms": "net_10"}, "payment_terms"),
        ({"name": "A", "currency": "XYZ"}, "currency"),
        ({"name": "A", "currency": "US"}, "currency"),
        ({"name": "A", "credit_limit": -1}, "credit_limit"),
        ({"name": "A", "credit_limit": "NaN"}, "credit_limit"),
        ({"name": "A", "credit_limit": "Infinity"}, "credit_limit"),
        ({"name": "A", "credit_limit": "-Infinity"}, "credit_limit"),
        ({"name": "A", "credit_limit": 1e13}, "credit_limit"),
        ({"name": "A", "credit_limit": "1234567890123"}, "credit_limit"),
        ({"name": "A", "credit_limit": 1.234}, "credit_limit"),
        ({"name": "A", "credit_limit": "abc"}, "credit_limit"),
        ({"name": "A", "credit_limit": True}, "credit_limit"),
        ({"name": "A", "discount_rate": 100.01}, "discount_rate"),
        ({"name": "A", "discount_rate": -0.5}, "discount_rate"),
        ({"name": "A", "website": "not a url"}, "website"),
        ({"name": "A", "phone": "1" * 33}, "phone"),
        ({"name": "A", "tax_id": "1" * 65}, "tax_id"),
        (
            {"name": "A", "billing_address": {"postal_code": "1" * 21}},
            "billing_address.postal_code",
        ),
        ({"name": "A", "billing_address": "Main St"}, "billing_address.non_field_errors"),
        ({"name": "A", "contacts": [{"title": "No name"}]}, "contacts.0.name"),
        ({"name": "A", "contacts": [{"name": "B", "email": "bad"}]}, "contacts.0.email"),
        (
            {"name": "A", "contacts": [{"name": "B", "is_primary": True}] * 2},
            "contacts",
        ),
        ({"name": "A", "is_active": "perhaps"}, "is_active"),
        ({"name": "A", "customer_since": "yesterday"}, "customer_since"),
    ],
)
def test_invalid_customer_is_400_with_details(world, body, field):
    response = bearer_client(world.agent).post("/api/customers", body, format="json")
    assert response.status_code == 400, response.content
    error = json_of(response)["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert error["request_id"] == response["X-Request-ID"]
    assert not Customer.objects.filter(tenant=world.tenant, name="A").exists()


def test_nan_literal_in_json_is_400(world):
    response = bearer_client(world.agent).post(
        "/api/customers",
        data='{"name": "A", "credit_limit": NaN}',
        content_type="application/json",
    )
    assert response.status_code == 400


def test_duplicate_email_is_400_email_taken(world):
    CustomerFactory(tenant=world.tenant, email="taken@example.com")
    client = bearer_client(world.agent)
    response = client.post(
        "/api/customers", {"name": "Dup", "email": "TAKEN@example.com"}, format="json"
    )
    assert response.status_code == 400
    error = json_of(response)["error"]
    assert error["code"] == "email_taken"
    assert "email" in error["details"]
    other = CustomerFactory(tenant=world.tenant, email="mine@example.com")
    response = client.put(
        f"/api/customers/{other.uuid}", {"email": "taken@example.com"}, format="json"
    )
    assert response.status_code == 400
    assert json_of(response)["error"]["code"] == "email_taken"


def test_same_email_in_another_tenant_is_fine(world, other):
    CustomerFactory(tenant=other.tenant, email="shared@example.com")
    response = bearer_client(world.agent).post(
        "/api/customers", {"name": "Shared", "email": "shared@example.com"}, format="json"
    )
    assert response.status_code == 201


def test_put_cannot_blank_the_name(world):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.agent).put(
        f"/api/customers/{customer.uuid}", {"name": ""}, format="json"
    )
    assert response.status_code == 400


def test_malformed_json_and_wrong_content_type(world):
    client = bearer_client(world.agent)
    response = client.post("/api/customers", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert json_of(response)["error"]["code"] == "malformed_request"
    response = client.post("/api/customers", data="name=A", content_type="text/plain")
    assert response.status_code == 415
    assert json_of(response)["error"]["code"] == "unsupported_media_type"


def test_create_is_one_transaction(world, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "contact_create", fail)
    client = bearer_client(world.agent)
    client.raise_request_exception = False
    response = client.post("/api/customers", SEED_CREATE, format="json")
    assert response.status_code == 500
    assert set(json_of(response)["error"]) == {"code", "message", "request_id"}
    assert not Customer.objects.filter(email="orders@newcustomer.com").exists()
    assert not Address.objects.filter(line1="123 New Customer St").exists()


# --- list: filters and pagination ---------------------------------------------------------


def test_list_filters_and_search(world):
    CustomerFactory(tenant=world.tenant, name="Globe Trotters", email="a@trot.example")
    CustomerFactory(tenant=world.tenant, name="Other", email="sales@GLOBEX-buyers.example")
    inactive = CustomerFactory(tenant=world.tenant, name="Globular", is_active=False)
    client = bearer_client(world.agent)
    names = [c["name"] for c in json_of(client.get("/api/customers?search=GLOB"))["data"]]
    assert sorted(names) == ["Globe Trotters", "Globular", "Other"]
    data = json_of(client.get("/api/customers?search=glob&is_active=false"))["data"]
    assert [c["id"] for c in data] == [str(inactive.uuid)]
    data = json_of(client.get("/api/customers?search=glob&is_active=true"))["data"]
    assert sorted(c["name"] for c in data) == ["Globe Trotters", "Other"]


def test_pagination_meta(world):
    for n in range(5):
        CustomerFactory(tenant=world.tenant, name=f"Paged {n}")
    client = bearer_client(world.agent)
    body = json_of(client.get("/api/customers?search=paged&limit=2&page=2"))
    assert body["meta"] == {"total": 5, "page": 2, "limit": 2, "hasMore": True}
    assert [c["name"] for c in body["data"]] == ["Paged 2", "Paged 1"]
    body = json_of(client.get("/api/customers?search=paged&limit=2&page=3"))
    assert body["meta"]["hasMore"] is False and len(body["data"]) == 1
    body = json_of(client.get("/api/customers?search=paged&limit=2&page=9"))
    assert body["data"] == [] and body["meta"]["hasMore"] is False
    assert json_of(client.get("/api/customers?search=paged"))["meta"]["limit"] == 20


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "page=0", "page=-1", "page=abc", "is_active=maybe"]
)
def test_bad_list_parameters_are_400(world, query):
    response = bearer_client(world.agent).get(f"/api/customers?{query}")
    assert response.status_code == 400
    assert json_of(response)["error"]["code"] == "validation_error"


def test_list_query_count_is_constant_in_page_size(world):
    for n in range(100):
        customer = account_customer(world.tenant, shipping={"line1": f"{n} Road"})
        ContactFactory(customer=customer, is_primary=True)
        SalesOrder.objects.create(
            tenant=world.tenant,
            customer=customer,
            order_number=f"SO-Q-{n}",
            order_date=datetime(2025, 1, 1, tzinfo=UTC),
            total_amount=Decimal("10.00"),
        )
    client = bearer_client(world.agent)
    counts = {}
    for limit in (10, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/customers?limit={limit}")
        assert response.status_code == 200
        assert len(json_of(response)["data"]) == limit
        counts[limit] = len(ctx.captured_queries)
    assert counts[10] == counts[100]
    assert counts[10] <= 8


def test_detail_query_count(world, django_assert_max_num_queries):
    customer = seed_customer_xyz(world.tenant)
    client = bearer_client(world.agent)
    with django_assert_max_num_queries(7):
        assert client.get(f"/api/customers/{customer.uuid}").status_code == 200


def test_write_query_counts(world, django_assert_max_num_queries):
    client = bearer_client(world.agent)
    # the billing address becomes the customer's default address (one-address rule)
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    # + 1 since issue 20: the INSERT of the new customer's identifiers (customers/identity.py)
    with django_assert_max_num_queries(52):
        response = client.post("/api/customers", SEED_CREATE, format="json")
    assert response.status_code == 201
    # the record is read before the change too, to leave out what is sent unchanged
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(33):
        response = client.put(
            f"/api/customers/{json_of(response)['data']['id']}",
            {"credit_limit": 1, "billing_address": {"city": "X"}},
            format="json",
        )
    assert response.status_code == 200


# --- access and tenancy -------------------------------------------------------------------


def test_another_tenants_customer_is_404(world, other):
    foreign = account_customer(other.tenant)
    client = bearer_client(world.agent)
    for response in (
        client.get(f"/api/customers/{foreign.uuid}"),
        client.put(f"/api/customers/{foreign.uuid}", {"name": "Mine now"}, format="json"),
    ):
        assert response.status_code == 404
        assert json_of(response)["error"]["code"] == "not_found"
    foreign.refresh_from_db()
    assert foreign.name != "Mine now"
    ids = [c["id"] for c in json_of(client.get("/api/customers?limit=100"))["data"]]
    assert str(foreign.uuid) not in ids
    assert len(ids) == Customer.objects.filter(tenant=world.tenant).count()


@pytest.mark.parametrize("bad", ["not-a-uuid", "123", "00000000-0000-0000-0000-000000000000"])
def test_malformed_or_missing_id_is_404(world, bad):
    response = bearer_client(world.agent).get(f"/api/customers/{bad}")
    assert response.status_code == 404
    assert set(json_of(response)["error"]) == {"code", "message", "request_id"}


def test_no_credentials_is_401(db):
    response = HubClient().get("/api/customers")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert json_of(response)["error"]["code"] == "unauthenticated"


def test_api_key_and_tenant_header(world, other):
    own = CustomerFactory(tenant=world.tenant)
    response = api_key_client(world.api_key).get(f"/api/customers/{own.uuid}")
    assert response.status_code == 200
    response = api_key_client(world.api_key, **{"x-tenant-id": "globex"}).get("/api/customers")
    assert response.status_code == 403
    response = bearer_client(world.agent, **{"x-tenant-id": "acme"}).get("/api/customers")
    assert response.status_code == 200


def test_viewer_reads_but_cannot_write(world):
    client = bearer_client(world.viewer)
    assert client.get("/api/customers").status_code == 200
    response = client.post("/api/customers", {"name": "Nope"}, format="json")
    assert response.status_code == 403
    assert json_of(response)["error"]["code"] == "forbidden"
    response = api_key_client(world.viewer_key).post("/api/customers", {"name": "N"}, format="json")
    assert response.status_code == 403


def test_user_of_two_tenants_must_send_the_header(world, other):
    from tenants.models import Membership

    user = UserFactory()
    Membership.objects.create(user=user, tenant=world.tenant, role="agent")
    Membership.objects.create(user=user, tenant=other.tenant, role="agent")
    response = bearer_client(user).get("/api/customers")
    assert response.status_code == 400
    assert json_of(response)["error"]["code"] == "missing_tenant"
    assert bearer_client(user, **{"x-tenant-id": "globex"}).get("/api/customers").status_code == 200


def test_unknown_url_under_the_prefix_is_a_b2b_404(world):
    response = bearer_client(world.agent).get("/api/customers/x/y/z")
    assert response.status_code == 404
    assert "error" in json_of(response)


def _record_kinds(world) -> dict:
    """Customers of every shape the b2b record has: with an account and both, one or no
    addresses (its time later or earlier than the customer's), without an account, and
    name-less ones created by other dialects."""
    full = seed_customer_xyz(world.tenant)
    ContactFactory(customer=full, is_primary=False)
    billing_only = account_customer(
        world.tenant, billing={"line1": "1 Bill St", "country": "US"}, price_list=world.price_list
    )
    shipping_only = account_customer(world.tenant, shipping={"city": "Shipton"}, fax="+1-5")
    no_addresses = account_customer(world.tenant, credit_limit=Decimal("12.30"))
    Account.objects.filter(customer=no_addresses).update(
        updated_at=_ts("2020-01-01T00:00:00Z"), customer_since=None
    )
    Account.objects.filter(customer=shipping_only).update(
        customer_since=_ts("2019-05-05T00:00:00Z")
    )
    Customer.objects.filter(pk=billing_only.pk).update(updated_at=_ts("2020-01-01T00:00:00Z"))
    bare = CustomerFactory(tenant=world.tenant, name="", first_name="Ada", last_name="Lovelace")
    # created by the other dialects (no account), their names then emptied, as a record
    # imported with only first/last, local or Discord names has it: shown by display name
    slug = world.tenant.slug
    created = api_key_client(world.api_key, "bare").post(
        f"/v1/{slug}/peppered/customer",
        {"email": "pep@example.com", "customerFirstName": "Pep", "customerLastName": "Per"},
        format="json",
    )
    assert created.status_code == 201, created.content
    by_peppered = Customer.objects.get(pk=json_of(created)["customerId"])
    created = bearer_client(world.agent, **{"x-store-id": str(world.store.id)}).post(
        "/customers", {"localName": "Shop Nelly"}, format="json"
    )
    assert created.status_code in (200, 201), created.content
    by_store = Customer.objects.get(uuid=json_of(created)["customer"]["id"])
    created = bearer_client(world.agent, **{"x-tenant-id": slug}).post(
        "/api/data/customer",
        {
            "discordId": "80351110224678912",
            "discordUsername": "nelly",
            "discordDisplayName": "Nelly",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    by_data = Customer.objects.get(uuid=json_of(created)["id"])
    others = (by_peppered, by_store, by_data)
    Customer.objects.filter(pk__in=[c.pk for c in others]).update(name="")
    assert not Account.objects.filter(customer__in=[bare, *others]).exists()
    return {
        "full": full,
        "billing only": billing_only,
        "shipping only": shipping_only,
        "no addresses": no_addresses,
        "no account": bare,
        "peppered": by_peppered,
        "store": by_store,
        "data": by_data,
    }


def test_the_compiled_record_is_what_the_declared_fields_render(world):
    """The record (a Customer) and the list's rows (b2b_customer_rows) render exactly what
    DRF's own fields render of the declaration, and a row exactly what its customer does."""
    from rest_framework import serializers as drf

    from b2b import selectors
    from b2b.api.serializers import (
        B2B_CUSTOMER_COLUMNS,
        B2BCustomerSerializer,
        B2BCustomerSummarySerializer,
    )
    from tenants.api.compiled import declared
    from tenants.api.renderers import JSONRenderer

    kinds = _record_kinds(world)
    rows, total = selectors.b2b_customers_page(
        tenant=world.tenant, offset=0, limit=100, columns=B2B_CUSTOMER_COLUMNS
    )
    assert total == len(rows) >= len(kinds)
    rows_by_uuid = {row["uuid"]: row for row in rows}
    summary = B2BCustomerSummarySerializer()
    for kind, customer in kinds.items():
        record = selectors.b2b_customer_get(tenant=world.tenant, customer_id=customer.uuid)
        for serializer_class in (B2BCustomerSerializer, B2BCustomerSummarySerializer):
            serializer = serializer_class(record)
            expected = drf.Serializer.to_representation(serializer, record)
            assert serializer.data == expected, kind
            assert list(serializer.data) == list(expected), kind
        row = rows_by_uuid[customer.uuid]
        compiled = summary.to_representation(row)
        expected = declared(summary, row)
        assert compiled == expected, kind
        assert list(compiled) == list(expected), kind
        assert compiled == summary.to_representation(record), kind
        # what the record was before rows: read from the model instances
        assert JSONRenderer().render(compiled) == JSONRenderer().render(
            _legacy_summary().to_representation(_model_view(record))
        ), kind
    shown = {kind: summary.to_representation(rows_by_uuid[c.uuid]) for kind, c in kinds.items()}
    assert shown["no account"]["name"] == "Ada Lovelace"
    assert shown["peppered"]["name"] == "Pep Per"
    assert shown["store"]["name"] == "Shop Nelly"
    assert shown["data"]["name"] == "Nelly"
    assert shown["no account"]["billing_address"] is None
    assert shown["billing only"]["billing_address"] == {"line1": "1 Bill St", "country": "US"}
    assert shown["billing only"]["shipping_address"] is None
    assert shown["shipping only"]["shipping_address"] == {"city": "Shipton"}
    assert shown["shipping only"]["billing_address"] is None
    # the whole page, as the list renders it, byte for byte what the model instances render
    customers = list(selectors.b2b_customers_list(tenant=world.tenant))
    instances = selectors.attach_account_figures(customers)
    render = JSONRenderer().render
    assert render(B2BCustomerSummarySerializer(rows, many=True).data) == render(
        [_legacy_summary().to_representation(_model_view(c)) for c in instances]
    )


def _legacy_summary():
    """The list's customer as it was declared before its fields read the record's sources
    (DRF's own rendering of ``_model_view``)."""
    from rest_framework import serializers as drf

    from b2b.api.base import CurrencyField, MoneyField, PercentField, PhoneField
    from b2b.api.serializers import PAYMENT_TERMS, B2BAddressSerializer

    class Legacy(drf.Serializer):
        id = drf.UUIDField()
        name = drf.CharField()
        email = drf.CharField()
        phone = PhoneField()
        fax = drf.CharField()
        website = drf.CharField()
        tax_id = drf.CharField()
        billing_address = B2BAddressSerializer(allow_null=True)
        shipping_address = B2BAddressSerializer(allow_null=True)
        payment_terms = drf.ChoiceField(choices=PAYMENT_TERMS)
        currency = CurrencyField()
        credit_limit = MoneyField()
        current_balance = MoneyField()
        discount_rate = PercentField()
        preferred_shipping = drf.CharField()
        price_list_id = drf.UUIDField(allow_null=True)
        customer_since = drf.DateTimeField()
        lifetime_value = MoneyField()
        total_orders = drf.IntegerField()
        is_active = drf.BooleanField()
        notes = drf.CharField()
        created_at = drf.DateTimeField()
        updated_at = drf.DateTimeField()

    return Legacy()


def _model_view(customer):
    """The record as it was read from a Customer's model instances before lists read rows:
    what the rows must still render."""
    from types import SimpleNamespace

    from b2b.selectors import account_of

    account = account_of(customer)
    return SimpleNamespace(
        id=customer.uuid,
        name=customer.name or customer.display_name,
        email=customer.email,
        phone=customer.phone,
        fax=account.fax if account else "",
        website=account.website if account else "",
        tax_id=account.tax_id if account else "",
        billing_address=account.billing_address if account else None,
        shipping_address=account.shipping_address if account else None,
        contacts=getattr(customer, "contact_list", []),
        payment_terms=account.payment_terms if account else "net_30",
        currency=account.currency if account else "USD",
        credit_limit=account.credit_limit if account else 0,
        current_balance=getattr(customer, "b2b_current_balance", 0),
        discount_rate=account.discount_rate if account else 0,
        preferred_shipping=account.preferred_shipping if account else "",
        price_list_id=account.price_list_id if account else None,
        customer_since=(account.customer_since if account else None) or customer.created_at,
        lifetime_value=getattr(customer, "b2b_lifetime_value", 0),
        total_orders=getattr(customer, "b2b_total_orders", 0),
        is_active=customer.is_active,
        notes=customer.notes,
        created_at=customer.created_at,
        updated_at=max(customer.updated_at, account.updated_at)
        if account and account.updated_at
        else customer.updated_at,
    )


def test_one_change_has_one_time_in_every_dialect(world):
    """Creating or changing a b2b record stamps the customer and its account alike, so the
    b2b dialect (the later of the two) and the others (the customer's) show one time."""
    client = bearer_client(world.agent)
    created = client.post("/api/customers", SEED_CREATE, format="json")
    assert created.status_code == 201
    uuid = json_of(created)["data"]["id"]
    both = lambda: Customer.objects.values_list("updated_at", "account__updated_at").get(uuid=uuid)  # noqa: E731
    customer_time, account_time = both()
    assert customer_time == account_time
    assert (
        client.put(f"/api/customers/{uuid}", {"credit_limit": 5}, format="json").status_code == 200
    )
    customer_time_after, account_time_after = both()
    assert customer_time_after == account_time_after > customer_time


# --- the account's price list, named by id (b2b.services) ---------------------------------


def test_account_services_take_the_price_list_by_id(world, other):
    mine = PriceListFactory(tenant=world.tenant)
    customer = services.account_create(tenant=world.tenant, name="Corp", price_list_id=mine.pk)
    assert Account.objects.get(customer=customer).price_list == mine
    services.account_update(customer=customer, price_list_id=None)
    assert Account.objects.get(customer=customer).price_list is None
    inactive = PriceListFactory(tenant=world.tenant, is_active=False)
    for refused in (PriceListFactory(tenant=other.tenant).pk, inactive.pk, "not-a-uuid"):
        with pytest.raises(errors.NotFound):
            services.account_update(customer=customer, price_list_id=refused)
        with pytest.raises(errors.NotFound):
            services.account_create(tenant=world.tenant, name="Other", price_list_id=refused)
    assert Account.objects.get(customer=customer).price_list is None
    assert not Customer.objects.filter(tenant=world.tenant, name="Other").exists()
