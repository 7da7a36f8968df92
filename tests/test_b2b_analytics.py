"""b2b dialect: customer analytics and credit checks, against hand-computed figures."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from b2b import analytics, credit
from b2b.models import CreditCheck
from tests.b2b_support import D, account_customer, contains, days, order
from tests.conftest import bearer_client, json_of
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def book(world):
    """A net_30 customer with a credit limit of 10000.00, customer since 2025-01-01, and:

    o1 2026-03-15 confirmed  500.00 unpaid           P1 10 x 50
    o2 2026-03-05 delivered  400.00 paid 15 days on  P2 4 x 100
    o3 2026-01-24 shipped   1000.00 unpaid, due 2026-02-23 (30 days overdue)   P1 20 x 50
    o4 2025-09-06 delivered 2000.00 paid after 10 days                          P3 1 x 2000
    o5 2024-11-10 delivered 1100.00 paid after 45 days (15 days late)  P2 10 x 100, P4 5 x 20
    and a cancelled (999.00) and a draft (888.00) order that never count.
    """
    p = [
        ProductFactory(tenant=world.tenant, name=name)
        for name in ("Smart Widget", "Gizmo", "Turbine", "Bolt", "Ghost", "Draft thing")
    ]
    customer = account_customer(
        world.tenant,
        payment_terms="net_30",
        credit_limit=D("10000.00"),
        customer_since=at("2025-01-01T00:00:00"),
    )

    def put(when, status, total, lines, paid_after=None):
        order_date = at(when)
        return order(
            customer,
            total=total,
            order_date=order_date,
            status=status,
            due_date=order_date + days(30),
            paid_at=order_date + days(paid_after) if paid_after is not None else None,
            lines=lines,
        )

    put("2026-03-15T12:00:00", "confirmed", "500.00", [(p[0], 10, "50.00")])
    put("2026-03-05T12:00:00", "delivered", "400.00", [(p[1], 4, "100.00")], paid_after=15)
    put("2026-01-24T12:00:00", "shipped", "1000.00", [(p[0], 20, "50.00")])
    put("2025-09-06T12:00:00", "delivered", "2000.00", [(p[2], 1, "2000.00")], paid_after=10)
    put(
        "2024-11-10T12:00:00",
        "delivered",
        "1100.00",
        [(p[1], 10, "100.00"), (p[3], 5, "20.00")],
        paid_after=45,
    )
    put("2026-03-10T12:00:00", "cancelled", "999.00", [(p[4], 1, "999.00")])
    put("2026-03-20T12:00:00", "draft", "888.00", [(p[5], 1, "888.00")])
    return customer, p


def _top(products, *rows):
    return [
        {
            "product_id": products[i].pk,
            "product_name": products[i].name,
            "quantity_ordered": q,
            "revenue": D(r),
        }
        for i, q, r in rows
    ]


def _month(month, orders, revenue, avg):
    return {"month": month, "orders": orders, "revenue": D(revenue), "avg_order_value": D(avg)}


PERIOD_EXPECTATIONS = {
    "30d": {
        "total_revenue": "900.00",
        "avg_payment_days": 15,
        "order_history": [("2026-03", 2, "900.00", "450.00")],
        "top_products": [(0, 10, "500.00"), (1, 4, "400.00")],
    },
    "90d": {
        "total_revenue": "1900.00",
        "avg_payment_days": 15,
        "order_history": [
            ("2026-03", 2, "900.00", "450.00"),
            ("2026-01", 1, "1000.00", "1000.00"),
        ],
        "top_products": [(0, 30, "1500.00"), (1, 4, "400.00")],
    },
    "1y": {
        "total_revenue": "3900.00",
        "avg_payment_days": 13,  # (15 + 10) / 2 = 12.5, rounded half-up
        "order_history": [
            ("2026-03", 2, "900.00", "450.00"),
            ("2026-01", 1, "1000.00", "1000.00"),
            ("2025-09", 1, "2000.00", "2000.00"),
        ],
        "top_products": [(2, 1, "2000.00"), (0, 30, "1500.00"), (1, 4, "400.00")],
    },
    "all": {
        "total_revenue": "5000.00",
        "avg_payment_days": 23,  # (15 + 10 + 45) / 3 = 23.3
        "order_history": [
            ("2026-03", 2, "900.00", "450.00"),
            ("2026-01", 1, "1000.00", "1000.00"),
            ("2025-09", 1, "2000.00", "2000.00"),
            ("2024-11", 1, "1100.00", "1100.00"),
        ],
        "top_products": [
            (2, 1, "2000.00"),
            (0, 30, "1500.00"),
            (1, 14, "1400.00"),
            (3, 5, "100.00"),
        ],
    },
}


@pytest.mark.parametrize("period", list(PERIOD_EXPECTATIONS))
def test_analytics_figures_for_each_period(book, period):
    customer, products = book
    expected = PERIOD_EXPECTATIONS[period]
    result = analytics.customer_analytics(customer=customer, period=period, now=NOW)
    assert result["overview"] == {  # lifetime figures: the same for every period
        "lifetime_value": D("5000.00"),
        "total_orders": 5,
        "avg_order_value": D("1000.00"),
        "last_order_date": at("2026-03-15T12:00:00"),
        "customer_since": at("2025-01-01T00:00:00"),
        "days_since_last_order": 10,
    }
    assert result["financial_summary"] == {
        "total_revenue": D(expected["total_revenue"]),
        "current_balance": D("1500.00"),  # o1 + o3
        "credit_limit": D("10000.00"),
        "credit_utilization": D("15.00"),
        "avg_payment_days": expected["avg_payment_days"],
    }
    assert result["order_history"] == [_month(*row) for row in expected["order_history"]]
    assert result["top_products"] == _top(products, *expected["top_products"])
    # 5000.00 lifetime >= MID_VALUE_MIN_LTV, last order 10 days ago, customer for 448 days
    assert result["customer_segment"] == "mid_value"
    # the credit model's risk (score 663: test_credit_model_on_the_book)
    assert result["risk_score"] == "medium"


def test_analytics_through_the_api(world, django_assert_max_num_queries):
    customer = account_customer(world.tenant, credit_limit=D("10000.00"))
    product = ProductFactory(tenant=world.tenant, name="Smart Widget")
    now = timezone.now()
    for n in range(3):
        order_date = now - days(2 + n)
        order(
            customer,
            total="600.00",
            order_date=order_date,
            paid_at=order_date + days(12) if n else None,
            lines=[(product, 50, "12.00")],
        )
    order(customer, total="100.00", order_date=now - days(2), status="cancelled")
    client = bearer_client(world.agent)
    # token (with its user), the caller's tenant (no x-tenant-id), tenant, role; the
    # customer with its account, the monthly figures and history, the top products
    with django_assert_max_num_queries(7):
        response = client.get(f"/api/customers/{customer.uuid}/analytics?period=30d")
    assert response.status_code == 200
    data = json_of(response)["data"]
    contains(
        data,
        {
            "customer": {"id": str(customer.uuid), "name": customer.name},
            "period": "30d",
            "overview": {
                "lifetime_value": 1800.00,
                "total_orders": 3,
                "avg_order_value": 600.00,
                "days_since_last_order": 2,
            },
            "financial_summary": {
                "total_revenue": 1800.00,
                "current_balance": 600.00,
                "credit_limit": 10000.00,
                "credit_utilization": 6.0,
                "avg_payment_days": 12,
            },
            "top_products": [
                {
                    "product_id": str(product.pk),
                    "product_name": "Smart Widget",
                    "quantity_ordered": 150,
                    "revenue": 1800.00,
                }
            ],
            "customer_segment": "new",
            "risk_score": "low",
        },
    )
    assert sum(m["orders"] for m in data["order_history"]) == 3
    assert b'"avg_order_value":600.00' in response.content
    # default period is all
    assert json_of(client.get(f"/api/customers/{customer.uuid}/analytics"))["data"]["period"] == (
        "all"
    )


def test_top_products_are_the_five_best_by_revenue(world):
    customer = account_customer(world.tenant)
    products = [ProductFactory(tenant=world.tenant, name=f"P{n}") for n in range(7)]
    order(
        customer,
        total="28.00",
        order_date=NOW - days(1),
        lines=[(p, 1, str(n + 1)) for n, p in enumerate(products)],
    )
    top = analytics.customer_analytics(customer=customer, period="30d", now=NOW)["top_products"]
    assert [t["product_name"] for t in top] == ["P6", "P5", "P4", "P3", "P2"]


def test_analytics_of_a_customer_without_orders_or_account(world):
    customer = CustomerFactory(tenant=world.tenant)
    data = json_of(
        bearer_client(world.agent).get(f"/api/customers/{customer.uuid}/analytics?period=1y")
    )["data"]
    contains(
        data,
        {
            "overview": {
                "lifetime_value": 0,
                "total_orders": 0,
                "avg_order_value": 0,
                "last_order_date": None,
                "days_since_last_order": None,
            },
            "financial_summary": {
                "total_revenue": 0,
                "current_balance": 0,
                "credit_limit": 0,
                "credit_utilization": None,
                "avg_payment_days": None,
            },
            "order_history": [],
            "top_products": [],
            "customer_segment": "new",
            # the credit model: 680, new (-20), no orders (-10): 650, fair, medium risk
            "risk_score": "medium",
        },
    )


@pytest.mark.parametrize("period", ["7d", "", "ALL", "1Y"])
def test_bad_period_is_400(world, period):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.agent).get(
        f"/api/customers/{customer.uuid}/analytics", {"period": period}
    )
    assert response.status_code == 400
    assert "period" in json_of(response)["error"]["details"]


def test_analytics_and_credit_check_of_another_tenant_are_404(world, other):
    foreign = account_customer(other.tenant)
    client = bearer_client(world.agent)
    assert client.get(f"/api/customers/{foreign.uuid}/analytics").status_code == 404
    assert client.post(f"/api/customers/{foreign.uuid}/credit-check").status_code == 404
    assert not CreditCheck.objects.exists()


# --- segments and risk rules --------------------------------------------------------------


def _figures(**overrides):
    base = {
        "total_orders": 3,
        "lifetime_value": D("1000.00"),
        "last_order_date": NOW - days(5),
        "avg_days_late": 0.0,
        "overdue_orders": 0,
        "max_days_overdue": 0,
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("figures", "tenure", "segment"),
    [
        ({"total_orders": 0, "last_order_date": None}, 30, "new"),
        ({"total_orders": 0, "last_order_date": None}, 300, "inactive"),
        ({"last_order_date": NOW - days(366)}, 1000, "inactive"),
        ({"last_order_date": NOW - days(91), "lifetime_value": D("90000")}, 1000, "at_risk"),
        ({"lifetime_value": D("25000.00")}, 10, "high_value"),
        ({"lifetime_value": D("24999.99")}, 10, "new"),
        ({"lifetime_value": D("5000.00")}, 100, "mid_value"),
        ({"lifetime_value": D("4999.99")}, 100, "low_value"),
    ],
)
def test_segment_rules(figures, tenure, segment):
    result = analytics.customer_segment(figures=_figures(**figures), tenure_days=tenure, now=NOW)
    assert result == segment


@override_settings(HUB_B2B={"HIGH_VALUE_MIN_LTV": "500.00"})
def test_thresholds_come_from_settings():
    result = analytics.customer_segment(figures=_figures(), tenure_days=1000, now=NOW)
    assert result == "high_value"


# --- credit checks ------------------------------------------------------------------------


def test_credit_model_on_the_book(book):
    customer, _ = book
    result = credit.assess(customer=customer, now=NOW)
    impacts = {f["factor"]: f["impact"] for f in result.factors}
    assert impacts == {
        "payment_punctuality": 23,  # 2 of 3 on time: 133 - 100 = 33; 5 days late: -10
        "overdue_balance": -100,  # -(40 + 2 x 30 days)
        "credit_utilization": 40,  # 15 %
        "tenure": 20,  # 448 days
        "order_volume": 0,  # 4 orders in the last 365 days
    }
    assert result.score == 680 + 23 - 100 + 40 + 20 == 663
    assert (result.rating, result.risk) == ("fair", "medium")
    # 3900.00 / 12 x 1 = 325 -> 300, raised to the starter limit of a fair rating
    assert result.recommended_limit == D("1000.00")
    assert result.current_limit == D("10000.00")
    descriptions = {f["factor"]: f["description"] for f in result.factors}
    assert descriptions["payment_punctuality"].startswith("2 of 3 paid orders")
    assert "30 days past due" in descriptions["overdue_balance"]
    assert result.inputs["overdue_amount"] == "1000.00"


def test_excellent_customer(world):
    customer = account_customer(
        world.tenant, credit_limit=D("50000.00"), customer_since=NOW - days(6 * 365)
    )
    for n in range(24):
        order_date = NOW - days(10 + n * 14)
        order(
            customer,
            total="1000.00",
            order_date=order_date,
            due_date=order_date + days(30),
            paid_at=order_date + days(10),
        )
    result = credit.assess(customer=customer, now=NOW)
    assert [f["impact"] for f in result.factors] == [100, 20, 40, 60, 40]
    assert (result.score, result.rating, result.risk) == (850, "excellent", "low")
    assert result.recommended_limit == D("6000.00")  # 24000 / 12 x 3


def test_very_poor_customer(world):
    customer = account_customer(
        world.tenant, credit_limit=D("1000.00"), customer_since=NOW - days(100)
    )
    late = NOW - days(95)
    order(customer, total="500.00", order_date=late, due_date=late + days(30), paid_at=NOW)
    overdue = NOW - days(130)
    order(customer, total="1500.00", order_date=overdue, due_date=overdue + days(30))
    result = credit.assess(customer=customer, now=NOW)
    impacts = {f["factor"]: f["impact"] for f in result.factors}
    assert impacts == {
        "payment_punctuality": -160,  # 0 of 1 on time (-100), 65 days late (-60 at most)
        "overdue_balance": -150,  # 100 days overdue: capped
        "credit_utilization": -100,  # 150 %
        "tenure": -20,
        "order_volume": 0,
    }
    assert (result.score, result.rating, result.risk) == (300, "very_poor", "high")
    assert result.recommended_limit == D("0.00")


def test_imported_orders_without_due_date_use_the_payment_terms(world):
    customer = account_customer(world.tenant, payment_terms="net_7")
    order_date = NOW - days(50)
    order(customer, total="10.00", order_date=order_date, paid_at=order_date + days(8))
    figures = analytics.payment_figures(
        customer=customer, terms=analytics.account_terms(customer), now=NOW
    )
    assert (figures["paid_orders"], figures["paid_on_time"]) == (1, 0)
    assert figures["avg_days_late"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("score", "rating", "risk"),
    [
        (850, "excellent", "low"),
        (750, "excellent", "low"),
        (749, "good", "low"),
        (700, "good", "low"),
        (699, "fair", "medium"),
        (650, "fair", "medium"),
        (649, "poor", "medium"),
        (600, "poor", "medium"),
        (599, "very_poor", "high"),
        (300, "very_poor", "high"),
    ],
)
def test_rating_bands_and_risk(score, rating, risk):
    assert credit.rating_for(score) == rating
    assert credit.risk_for(score) == risk


def test_credit_check_endpoint_stores_history(world, django_assert_max_num_queries):
    customer = account_customer(
        world.tenant, credit_limit=D("10000.00"), customer_since=timezone.now() - days(400)
    )
    client = bearer_client(world.agent)
    with django_assert_max_num_queries(12):
        response = client.post(f"/api/customers/{customer.uuid}/credit-check")
    assert response.status_code == 200
    data = json_of(response)["data"]
    check = CreditCheck.objects.get(customer=customer)
    # no orders: 680 + 0 (punctuality) + 0 (overdue) + 40 (0 % used) + 20 (400 days) - 10
    contains(
        data,
        {
            "id": str(check.pk),
            "customer_id": str(customer.uuid),
            "credit_score": 730,
            "credit_rating": "good",
            "recommended_credit_limit": 1000.00,
            "current_credit_limit": 10000.00,
            "risk_assessment": "low",
        },
    )
    assert data["last_checked"].endswith("Z")
    assert [f["factor"] for f in data["factors"]] == [
        "payment_punctuality",
        "overdue_balance",
        "credit_utilization",
        "tenure",
        "order_volume",
    ]
    assert b'"recommended_credit_limit":1000.00' in response.content
    assert check.inputs["tenure_days"] == 400
    assert check.recommended_credit_limit == Decimal("1000.00")
    client.post(f"/api/customers/{customer.uuid}/credit-check")
    assert CreditCheck.objects.filter(customer=customer).count() == 2


def test_viewer_cannot_run_a_credit_check(world):
    customer = CustomerFactory(tenant=world.tenant)
    response = bearer_client(world.viewer).post(f"/api/customers/{customer.uuid}/credit-check")
    assert response.status_code == 403
    viewer_reads = bearer_client(world.viewer).get(f"/api/customers/{customer.uuid}/analytics")
    assert viewer_reads.status_code == 200


@pytest.mark.parametrize("period", ["30d", "all"])
def test_the_compiled_analytics_output_is_what_the_declared_fields_render(world, book, period):
    from b2b.api.serializers import B2BAnalyticsSerializer
    from tenants.api.compiled import declared as drf_declared

    customer, _ = book
    empty = account_customer(world.tenant, credit_limit=D("0.00"))
    for who in (customer, empty):
        data = analytics.customer_analytics(customer=who, period=period, now=NOW)
        serializer = B2BAnalyticsSerializer(data)
        declared = drf_declared(serializer, data)
        assert serializer.data == declared
        assert [type(v) for v in serializer.data["overview"].values()] == [
            type(v) for v in declared["overview"].values()
        ]


# --- one risk model: analytics and credit checks agree -------------------------------------


def _scenario(world, name):
    """Customers the old analytics rules and the credit model judged differently."""
    if name == "new, without orders":
        return CustomerFactory(tenant=world.tenant)
    if name == "long-standing, one order overdue 40 days":
        customer = account_customer(
            world.tenant, credit_limit=D("100000.00"), customer_since=NOW - days(6 * 365)
        )
        for n in range(30):
            order_date = NOW - days(5 + n * 10)
            order(
                customer,
                total="100.00",
                order_date=order_date,
                due_date=order_date + days(30),
                paid_at=None if n == 7 else order_date + days(5),
            )
        return customer
    if name == "young, near its credit limit":
        customer = account_customer(
            world.tenant, credit_limit=D("1000.00"), customer_since=NOW - days(30)
        )
        order(customer, total="790.00", order_date=NOW - days(3), due_date=NOW + days(27))
        return customer
    raise ValueError(name)


SCENARIOS = [
    "new, without orders",
    "long-standing, one order overdue 40 days",
    "young, near its credit limit",
]


@pytest.mark.parametrize("name", SCENARIOS)
def test_risk_score_is_the_credit_checks_risk_assessment(world, name):
    customer = _scenario(world, name)
    risk = credit.assess(customer=customer, now=NOW).risk
    for period in analytics.PERIODS:
        result = analytics.customer_analytics(customer=customer, period=period, now=NOW)
        assert result["risk_score"] == risk, period


def test_risk_score_and_risk_assessment_agree_through_the_api(world):
    customer = _scenario(world, "new, without orders")
    client = bearer_client(world.agent)
    score = json_of(client.get(f"/api/customers/{customer.uuid}/analytics"))["data"]
    check = json_of(client.post(f"/api/customers/{customer.uuid}/credit-check"))["data"]
    assert score["risk_score"] == check["risk_assessment"] == "medium"
