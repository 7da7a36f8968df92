"""b2b dialect: sales orders (POST/GET/PATCH /api/orders, GET /api/customers/:id/orders)."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from b2b.models import OrderLine, OrderNumberSequence, SalesOrder
from tests.b2b_support import account_customer, contains, order
from tests.conftest import bearer_client, json_of
from tests.factories import CustomerFactory, PriceListItemFactory, ProductFactory

pytestmark = pytest.mark.django_db

SEED_SHIPPING = {
    "line1": "456 Customer Blvd",
    "city": "Customer City",
    "state": "NY",
    "postal_code": "10001",
}


def _post(client, body):
    return client.post("/api/orders", body, format="json")


def _line(product, quantity=1, **extra):
    return {"product_id": str(product.pk), "quantity": quantity, **extra}


# --- the seed's example -------------------------------------------------------------------


def test_seed_customer_orders(world, django_assert_max_num_queries):
    customer = account_customer(world.tenant, shipping={**SEED_SHIPPING, "country": "US"})
    a = ProductFactory(tenant=world.tenant, base_price=Decimal("99.99"))
    b = ProductFactory(tenant=world.tenant, base_price=Decimal("99.98"))
    client = bearer_client(world.agent)
    created = _post(
        client,
        {
            "customer_id": str(customer.uuid),
            "order_date": "2024-01-15T00:00:00Z",
            "status": "delivered",
            "ship_date": "2024-01-16T00:00:00Z",
            "delivery_date": "2024-01-18T00:00:00Z",
            "shipping_address": SEED_SHIPPING,
            "lines": [_line(a, 1), _line(b, 2)],
        },
    )
    assert created.status_code == 201, created.content
    order_id = json_of(created)["data"]["id"]
    with django_assert_max_num_queries(9):
        response = client.get(f"/api/customers/{customer.uuid}/orders")
    assert response.status_code == 200
    body = json_of(response)
    contains(
        body,
        {
            "data": [
                {
                    "id": order_id,
                    "order_number": "SO-2024-000001",
                    "status": "delivered",
                    "order_date": "2024-01-15T00:00:00Z",
                    "ship_date": "2024-01-16T00:00:00Z",
                    "delivery_date": "2024-01-18T00:00:00Z",
                    "total_amount": 299.95,
                    "items_count": 3,
                    "shipping_address": SEED_SHIPPING,
                }
            ],
            "meta": {"total": 1, "page": 1, "limit": 20, "hasMore": False},
        },
    )
    assert body["data"][0]["shipping_address"] == SEED_SHIPPING
    assert b'"total_amount":299.95' in response.content


# --- creation and pricing -----------------------------------------------------------------


def test_create_order_prices_numbers_and_dates(world, django_assert_max_num_queries):
    customer = account_customer(
        world.tenant,
        payment_terms="net_15",
        discount_rate=Decimal("5.00"),
        shipping={"line1": "1 Dock Rd", "city": "Port", "country": "US"},
    )
    product = ProductFactory(tenant=world.tenant, sku="W-1", base_price=Decimal("10.00"))
    client = bearer_client(world.agent)
    with django_assert_max_num_queries(30):
        response = _post(
            client,
            {
                "customer_id": str(customer.uuid),
                "order_date": "2026-03-01T12:00:00Z",
                "lines": [
                    _line(product, 3),
                    {"sku": "W-1", "quantity": 2, "unit_price": "7.25"},
                ],
            },
        )
    assert response.status_code == 201, response.content
    data = json_of(response)["data"]
    contains(
        data,
        {
            "order_number": "SO-2026-000001",
            "customer_id": str(customer.uuid),
            "status": "confirmed",
            "order_date": "2026-03-01T12:00:00Z",
            "due_date": "2026-03-16T12:00:00Z",
            "ship_date": None,
            "delivery_date": None,
            "paid_at": None,
            "currency": "USD",
            "total_amount": 43.00,  # 3 x 9.50 + 2 x 7.25
            "items_count": 5,
            "shipping_address": {"line1": "1 Dock Rd", "city": "Port", "country": "US"},
            "lines": [
                {
                    "product_id": str(product.pk),
                    "sku": "W-1",
                    "quantity": 3,
                    "unit_price": 9.50,
                    "line_total": 28.50,
                },
                {"sku": "W-1", "quantity": 2, "unit_price": 7.25, "line_total": 14.50},
            ],
        },
    )
    assert b'"unit_price":9.50' in response.content
    second = _post(client, {"customer_id": str(customer.uuid), "lines": [_line(product)]})
    year = timezone.now().year
    expected = f"SO-{year}-{2 if year == 2026 else 1:06d}"
    assert json_of(second)["data"]["order_number"] == expected


def test_numbers_are_per_tenant_and_year(world, other):
    mine = account_customer(world.tenant)
    theirs = account_customer(other.tenant)
    numbers = []
    for client, customer, product, day in [
        (bearer_client(world.agent), mine, world.products[0], "2025-05-01"),
        (bearer_client(world.agent), mine, world.products[0], "2025-06-01"),
        (bearer_client(world.agent), mine, world.products[0], "2026-01-02"),
        (bearer_client(other.agent), theirs, other.products[0], "2025-05-01"),
    ]:
        response = _post(
            client,
            {"customer_id": str(customer.uuid), "order_date": day, "lines": [_line(product)]},
        )
        assert response.status_code == 201, response.content
        numbers.append(json_of(response)["data"]["order_number"])
    assert numbers == ["SO-2025-000001", "SO-2025-000002", "SO-2026-000001", "SO-2025-000001"]


def test_price_list_then_discount_rounded_half_up(world):
    product = ProductFactory(tenant=world.tenant, base_price=Decimal("10.99"))
    listed = ProductFactory(tenant=world.tenant, base_price=Decimal("10.00"))
    PriceListItemFactory(price_list=world.price_list, product=listed, price=Decimal("0.05"))
    customer = account_customer(
        world.tenant, price_list=world.price_list, discount_rate=Decimal("10.00")
    )
    response = _post(
        bearer_client(world.agent),
        {"customer_id": str(customer.uuid), "lines": [_line(product), _line(listed, 2)]},
    )
    lines = json_of(response)["data"]["lines"]
    # 10.99 * 0.90 = 9.891 -> 9.89; 0.05 * 0.90 = 0.045 -> 0.05 (half-up, not half-even)
    assert [(line["unit_price"], line["line_total"]) for line in lines] == [
        (9.89, 9.89),
        (0.05, 0.10),
    ]


def test_inactive_price_list_falls_back_to_base_price(world):
    product = ProductFactory(tenant=world.tenant, base_price=Decimal("4.00"))
    PriceListItemFactory(price_list=world.inactive_price_list, product=product, price="1.00")
    customer = account_customer(world.tenant, price_list=world.inactive_price_list)
    response = _post(
        bearer_client(world.agent), {"customer_id": str(customer.uuid), "lines": [_line(product)]}
    )
    assert json_of(response)["data"]["lines"][0]["unit_price"] == 4.0


def test_customer_without_account_gets_defaults(world):
    customer = CustomerFactory(tenant=world.tenant)
    product = ProductFactory(tenant=world.tenant, base_price=Decimal("2.50"))
    response = _post(
        bearer_client(world.agent),
        {
            "customer_id": str(customer.uuid),
            "order_date": "2026-01-01",
            "lines": [_line(product, 4)],
        },
    )
    assert response.status_code == 201
    data = json_of(response)["data"]
    assert data["total_amount"] == 10.0
    assert data["due_date"] == "2026-01-31T00:00:00Z"  # net_30
    assert data["shipping_address"] == {}


def test_imported_history_gets_ship_and_delivery_dates(world):
    customer = account_customer(world.tenant)
    response = _post(
        bearer_client(world.agent),
        {
            "customer_id": str(customer.uuid),
            "order_date": "2025-02-03T10:00:00Z",
            "status": "delivered",
            "paid_at": "2025-02-20T10:00:00Z",
            "lines": [_line(world.products[0])],
        },
    )
    data = json_of(response)["data"]
    assert data["ship_date"] == data["delivery_date"] == "2025-02-03T10:00:00Z"
    assert data["paid_at"] == "2025-02-20T10:00:00Z"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": "x"}, "lines"),
        ({"lines": [{"quantity": 1}]}, "lines.0.non_field_errors"),
        ({"lines": [{"sku": "A", "product_id": "PRODUCT", "quantity": 1}]}, "lines.0"),
        ({"lines": [{"sku": "A", "quantity": 0}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "A", "quantity": -2}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "A", "quantity": 1.5}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "A", "quantity": 1, "unit_price": "NaN"}]}, "lines.0.unit_price"),
        ({"lines": [{"sku": "A", "quantity": 1, "unit_price": -1}]}, "lines.0.unit_price"),
        ({"lines": [{"sku": "A", "quantity": 1, "unit_price": 0.001}]}, "lines.0.unit_price"),
        ({"customer_id": "cust_456"}, "customer_id"),
        ({"customer_id": None}, "customer_id"),
        ({"status": "lost"}, "status"),
        ({"order_date": "someday"}, "order_date"),
        ({"shipping_address": {"postal_code": "9" * 21}}, "shipping_address.postal_code"),
        (
            {"lines": [{"sku": "A", "quantity": 1_000_000, "unit_price": "9999999999.99"}]},
            "lines",
        ),
        (
            {"order_date": "2025-01-10", "status": "shipped", "ship_date": "2025-01-09"},
            "ship_date",
        ),
        (
            {
                "order_date": "2025-01-10",
                "status": "delivered",
                "ship_date": "2025-01-12",
                "delivery_date": "2025-01-11",
            },
            "delivery_date",
        ),
        ({"status": "cancelled", "paid_at": "2025-01-11"}, "paid_at"),
    ],
)
def test_invalid_order_is_400(world, change, field):
    customer = account_customer(world.tenant)
    ProductFactory(tenant=world.tenant, sku="A")
    body = {"customer_id": str(customer.uuid), "lines": [{"sku": "A", "quantity": 1}], **change}
    body["lines"] = (
        [
            {**line, "product_id": str(world.products[0].pk)}
            if isinstance(line, dict) and line.get("product_id") == "PRODUCT"
            else line
            for line in body["lines"]
        ]
        if isinstance(body["lines"], list)
        else body["lines"]
    )
    response = _post(bearer_client(world.agent), body)
    assert response.status_code == 400, response.content
    details = json_of(response)["error"]["details"]
    assert any(key == field or key.startswith(field + ".") for key in details), details
    assert not SalesOrder.objects.filter(customer=customer).exists()
    assert not OrderNumberSequence.objects.filter(last_value__gt=0).exists()


def test_another_tenants_customer_or_product_is_404(world, other):
    mine = account_customer(world.tenant)
    theirs = account_customer(other.tenant)
    client = bearer_client(world.agent)
    response = _post(client, {"customer_id": str(theirs.uuid), "lines": [_line(world.products[0])]})
    assert response.status_code == 404
    assert json_of(response)["error"]["code"] == "not_found"
    response = _post(client, {"customer_id": str(mine.uuid), "lines": [_line(other.products[0])]})
    assert response.status_code == 404
    assert json_of(response)["error"]["code"] == "product_not_found"
    response = _post(
        client,
        {
            "customer_id": str(mine.uuid),
            "lines": [_line(world.products[0]), {"sku": other.products[0].sku, "quantity": 1}],
        },
    )
    assert response.status_code == 404
    assert not SalesOrder.objects.exists()
    assert not OrderLine.objects.exists()


# --- reading and changing -----------------------------------------------------------------


def test_get_order(world, django_assert_max_num_queries):
    customer = account_customer(world.tenant)
    client = bearer_client(world.agent)
    created = json_of(
        _post(
            client,
            {"customer_id": str(customer.uuid), "lines": [_line(p) for p in world.products]},
        )
    )["data"]
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/orders/{created['id']}")
    assert response.status_code == 200
    assert json_of(response)["data"] == created


def test_status_transitions(world, django_assert_max_num_queries):
    customer = account_customer(world.tenant)
    client = bearer_client(world.agent)
    data = json_of(
        _post(
            client,
            {
                "customer_id": str(customer.uuid),
                "status": "draft",
                "order_date": "2026-01-01",
                "lines": [_line(world.products[0])],
            },
        )
    )["data"]
    path = f"/api/orders/{data['id']}"

    def patch(body):
        return client.patch(path, body, format="json")

    assert patch({"status": "shipped"}).status_code == 409  # draft -> shipped skips a step
    assert patch({"paid_at": "2026-01-05T00:00:00Z"}).status_code == 409  # drafts are not paid
    with django_assert_max_num_queries(14):
        confirmed = patch({"status": "confirmed"})
    assert json_of(confirmed)["data"]["status"] == "confirmed"
    assert patch({"status": "confirmed"}).status_code == 200  # repeating is a no-op
    shipped = json_of(patch({"status": "shipped"}))["data"]
    assert shipped["ship_date"] is not None and shipped["delivery_date"] is None
    delivered = json_of(patch({"status": "delivered", "paid_at": "2026-02-01T00:00:00Z"}))["data"]
    assert delivered["delivery_date"] is not None
    assert delivered["paid_at"] == "2026-02-01T00:00:00Z"
    response = patch({"status": "cancelled"})
    assert response.status_code == 409
    error = json_of(response)["error"]
    assert error["code"] == "invalid_transition"
    assert "delivered" in error["message"]
    assert json_of(patch({"paid_at": None}))["data"]["paid_at"] is None


def test_cancel_and_explicit_dates(world):
    customer = account_customer(world.tenant)
    client = bearer_client(world.agent)
    data = json_of(
        _post(
            client,
            {
                "customer_id": str(customer.uuid),
                "order_date": "2026-01-01",
                "lines": [_line(world.products[0])],
            },
        )
    )["data"]
    path = f"/api/orders/{data['id']}"
    shipped = client.patch(
        path, {"status": "shipped", "ship_date": "2026-01-03T08:00:00Z"}, format="json"
    )
    assert json_of(shipped)["data"]["ship_date"] == "2026-01-03T08:00:00Z"
    bad = client.patch(path, {"delivery_date": "2026-01-02T00:00:00Z"}, format="json")
    assert bad.status_code == 400
    assert "delivery_date" in json_of(bad)["error"]["details"]
    assert (
        json_of(client.patch(path, {"status": "cancelled"}, format="json"))["data"]["status"]
        == "cancelled"
    )
    for target in ("confirmed", "shipped", "delivered", "draft"):
        assert client.patch(path, {"status": target}, format="json").status_code == 409
    assert client.patch(path, {"status": "gone"}, format="json").status_code == 400


def test_orders_of_another_tenant_are_404(world, other):
    theirs = account_customer(other.tenant)
    foreign = json_of(
        _post(
            bearer_client(other.agent),
            {"customer_id": str(theirs.uuid), "lines": [_line(other.products[0])]},
        )
    )["data"]
    client = bearer_client(world.agent)
    assert client.get(f"/api/orders/{foreign['id']}").status_code == 404
    response = client.patch(f"/api/orders/{foreign['id']}", {"status": "shipped"}, format="json")
    assert response.status_code == 404
    assert SalesOrder.objects.get(pk=foreign["id"]).status == "confirmed"
    assert client.get(f"/api/customers/{theirs.uuid}/orders").status_code == 404
    assert client.get("/api/orders/not-a-uuid").status_code == 404


def test_viewer_cannot_create_or_change_orders(world):
    customer = account_customer(world.tenant)
    response = _post(
        bearer_client(world.viewer),
        {"customer_id": str(customer.uuid), "lines": [_line(world.products[0])]},
    )
    assert response.status_code == 403


# --- a customer's order list --------------------------------------------------------------


def _history(customer):
    base = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    return [
        order(customer, total="10.00", order_date=base, status="delivered"),
        order(customer, total="20.00", order_date=base + timedelta(days=1), status="confirmed"),
        order(customer, total="30.00", order_date=base + timedelta(days=2), status="cancelled"),
        order(customer, total="40.00", order_date=base + timedelta(days=31), status="confirmed"),
    ]


def test_order_list_filters(world):
    customer = account_customer(world.tenant)
    first, second, third, fourth = _history(customer)
    client = bearer_client(world.agent)
    path = f"/api/customers/{customer.uuid}/orders"

    def ids(query):
        response = client.get(path, query)
        assert response.status_code == 200, response.content
        return [o["id"] for o in json_of(response)["data"]]

    assert ids({}) == [str(o.pk) for o in (fourth, third, second, first)]
    assert ids({"status": "confirmed"}) == [str(fourth.pk), str(second.pk)]
    assert ids({"date_from": "2025-03-11"}) == [str(o.pk) for o in (fourth, third, second)]
    assert ids({"date_to": "2025-03-11"}) == [str(second.pk), str(first.pk)]  # whole day
    assert ids({"date_from": "2025-03-11", "date_to": "2025-03-12"}) == [
        str(third.pk),
        str(second.pk),
    ]
    assert ids({"date_from": "2025-03-11T12:00:00Z", "date_to": "2025-03-12T12:00:00Z"}) == [
        str(second.pk)
    ]
    body = json_of(client.get(path, {"limit": 3, "page": 2}))
    assert body["meta"] == {"total": 4, "page": 2, "limit": 3, "hasMore": False}


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "yesterday"},
        {"date_to": "2025-13-01"},
        {"date_from": "2025-02-30"},
        {"date_from": "2025-03-12", "date_to": "2025-03-11"},
        {"status": "lost"},
        {"limit": 500},
        {"page": 0},
    ],
)
def test_bad_order_list_parameters_are_400(world, query):
    customer = account_customer(world.tenant)
    response = bearer_client(world.agent).get(f"/api/customers/{customer.uuid}/orders", query)
    assert response.status_code == 400
    assert json_of(response)["error"]["code"] == "validation_error"


def test_order_list_query_count_is_constant_in_page_size(world):
    customer = account_customer(world.tenant)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    SalesOrder.objects.bulk_create(
        SalesOrder(
            tenant=world.tenant,
            customer=customer,
            order_number=f"SO-B-{n}",
            order_date=base + timedelta(hours=n),
            total_amount=Decimal("1.00"),
            shipping_address={"line1": "x"},
        )
        for n in range(100)
    )
    client = bearer_client(world.agent)
    counts = {}
    for limit in (10, 100):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/customers/{customer.uuid}/orders?limit={limit}")
        assert len(json_of(response)["data"]) == limit
        counts[limit] = len(ctx.captured_queries)
    assert counts[10] == counts[100] <= 8


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_orders_get_unique_consecutive_numbers(postgres_only):
    from tests.conftest import make_tenant_world

    world = make_tenant_world("acme")
    customer = account_customer(world.tenant)
    count = 8
    barrier = threading.Barrier(count)
    numbers, statuses = [], []

    def create():
        try:
            client = bearer_client(world.api_key)
            barrier.wait()
            response = _post(
                client,
                {
                    "customer_id": str(customer.uuid),
                    "order_date": "2031-06-01",
                    "lines": [_line(world.products[0])],
                },
            )
            statuses.append(response.status_code)
            if response.status_code == 201:
                numbers.append(json_of(response)["data"]["order_number"])
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * count
    assert sorted(numbers) == [f"SO-2031-{n:06d}" for n in range(1, count + 1)]
    assert OrderNumberSequence.objects.get(tenant=world.tenant, year=2031).last_value == count


# --- demo ---------------------------------------------------------------------------------


def test_demo_seed_is_idempotent(world):
    from b2b.demo import seed
    from customers.services import customer_create

    for handle in ("ada", "grace"):
        customer_create(tenant=world.tenant, name=handle, email=f"{handle}@acme.example.com")
    seed(tenant=world.tenant, world={})
    orders = SalesOrder.objects.filter(tenant=world.tenant).count()
    assert orders == 9
    seed(tenant=world.tenant, world={})
    assert SalesOrder.objects.filter(tenant=world.tenant).count() == orders
    ada = CustomerFactory._meta.model.objects.get(email="ada@acme.example.com")
    body = json_of(bearer_client(world.agent).get(f"/api/customers/{ada.uuid}"))["data"]
    assert body["total_orders"] == 5  # the cancelled one does not count
    assert len(body["contacts"]) == 2
