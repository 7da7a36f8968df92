"""The order line's copies of its order's customer, date and status (b2b/migrations/0005),
kept by the database's triggers on both databases: after every way an order or a line is
written, the copies equal the order's values, and the customer's top products count the
lines of its counted orders only."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from b2b import analytics, services
from b2b.models import OrderLine, SalesOrder
from tests.b2b_support import account_customer, order
from tests.factories import CustomerFactory, ProductFactory, TenantFactory
from tests.threads import in_background

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)


def assert_copies_are_current():
    stale = [
        (line.pk, line.order_customer_id, line.order_date, line.order_status)
        for line in OrderLine.objects.select_related("order")
        for o in [line.order]
        if (line.order_customer_id, line.order_date, line.order_status)
        != (o.customer_id, o.order_date, o.status)
    ]
    assert stale == []


def top_names(customer, period="all") -> list[str]:
    document = analytics.customer_analytics(customer=customer, period=period, now=NOW)
    return [row["product_name"] for row in document["top_products"]]


@pytest.fixture
def tenant():
    return TenantFactory()


def test_every_way_of_writing_orders_and_lines_keeps_the_copies(tenant):
    customer = account_customer(tenant)
    widget = ProductFactory(tenant=tenant, name="Widget")
    gizmo = ProductFactory(tenant=tenant, name="Gizmo")
    made = services.order_create(  # the service (the API)
        tenant=tenant,
        customer=customer,
        lines=[{"product_id": widget.pk, "quantity": 2}, {"product_id": gizmo.pk, "quantity": 1}],
        order_date=NOW - timedelta(days=3),
    )
    imported = order(  # the ORM
        customer, total="10.00", order_date=NOW - timedelta(days=40), lines=[(gizmo, 1, "10.00")]
    )
    assert_copies_are_current()
    line = made.lines.first()
    assert (line.order_customer_id, line.order_date, line.order_status) == (
        customer.pk,
        made.order_date,
        "confirmed",
    )

    services.order_update(order=made, status="shipped")  # the service (the API, the admin)
    SalesOrder.objects.filter(pk=imported.pk).update(status="cancelled")  # QuerySet.update
    assert_copies_are_current()
    assert set(OrderLine.objects.values_list("order_status", flat=True)) == {"shipped", "cancelled"}

    # a stale instance saved whole does not write its stale copies back
    stale = OrderLine.objects.get(pk=line.pk)
    services.order_update(order=made, status="delivered")
    stale.position = 7
    stale.save()
    assert_copies_are_current()
    # nor does a write of the copies themselves
    OrderLine.objects.filter(pk=line.pk).update(
        order_customer_id=CustomerFactory(tenant=tenant).pk, order_status="confirmed"
    )
    assert_copies_are_current()

    # a line moved to another order takes that order's values, and an order moved to
    # another customer (raw SQL, an engineer's fix) moves its lines with it
    other = account_customer(tenant)
    elsewhere = order(other, total="1.00", order_date=NOW - timedelta(days=400), status="draft")
    OrderLine.objects.filter(pk=line.pk).update(order=elsewhere)
    assert_copies_are_current()
    assert OrderLine.objects.get(pk=line.pk).order_status == "draft"
    SalesOrder.objects.filter(pk=made.pk).update(customer=other, order_date=NOW)
    assert_copies_are_current()
    assert OrderLine.objects.filter(order_customer_id=other.pk).count() == 2


def test_a_line_of_an_order_that_does_not_exist_is_refused(tenant):
    product = ProductFactory(tenant=tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(
            order_id="01900000-0000-7000-8000-000000000000",
            product=product,
            quantity=1,
            unit_price="1.00",
            line_total="1.00",
        )
    assert OrderLine.objects.count() == 0


def test_top_products_follow_the_orders_status_and_date(tenant):
    customer = account_customer(tenant)
    bolt, nut = (
        ProductFactory(tenant=tenant, name="Bolt"),
        ProductFactory(tenant=tenant, name="Nut"),
    )
    recent = order(
        customer, total="90.00", order_date=NOW - timedelta(days=5), lines=[(bolt, 3, "30.00")]
    )
    order(customer, total="10.00", order_date=NOW - timedelta(days=200), lines=[(nut, 1, "10.00")])
    order(  # another customer's order never counts
        account_customer(tenant), total="500.00", order_date=NOW, lines=[(nut, 50, "10.00")]
    )
    assert top_names(customer) == ["Bolt", "Nut"]
    assert top_names(customer, "30d") == ["Bolt"]

    services.order_update(order=recent, status="cancelled")
    assert top_names(customer) == ["Nut"]
    assert top_names(customer, "30d") == []


@pytest.mark.django_db(transaction=True)
def test_a_status_change_committing_while_a_line_is_added_is_not_missed(postgres_only):
    """A line inserted while its order's status change is uncommitted waits for it (the
    line's trigger reads the order FOR SHARE): the order's own trigger cannot see the new
    line, so without the wait the line would keep the old status."""
    tenant = TenantFactory()
    product = ProductFactory(tenant=tenant)
    placed = order(account_customer(tenant), total="1.00", order_date=NOW, status="draft")
    changed = threading.Event()

    def add_line() -> None:
        changed.wait(timeout=30)
        OrderLine.objects.create(
            order=placed, product=product, quantity=1, unit_price="1.00", line_total="1.00"
        )

    join = in_background(add_line)
    with transaction.atomic():
        SalesOrder.objects.filter(pk=placed.pk).update(status="confirmed")
        changed.set()
        time.sleep(0.5)  # the line's INSERT is waiting for this transaction meanwhile
    assert join() == []
    assert OrderLine.objects.get(order=placed).order_status == "confirmed"


@pytest.mark.django_db(transaction=True)
def test_a_status_change_waits_for_a_line_being_added_and_then_updates_it(postgres_only):
    """The other order: the line's transaction holds its order FOR SHARE, so a status change
    waits for it to commit and then sees (and updates) the new line."""
    tenant = TenantFactory()
    product = ProductFactory(tenant=tenant)
    placed = order(account_customer(tenant), total="1.00", order_date=NOW, status="draft")
    added = threading.Event()

    def add_line() -> None:
        with transaction.atomic():
            OrderLine.objects.create(
                order=placed, product=product, quantity=1, unit_price="1.00", line_total="1.00"
            )
            added.set()
            time.sleep(0.5)  # the status change is waiting for this transaction meanwhile

    join = in_background(add_line)
    assert added.wait(timeout=30)
    SalesOrder.objects.filter(pk=placed.pk).update(status="confirmed")
    assert join() == []
    assert OrderLine.objects.get(order=placed).order_status == "confirmed"


def test_top_products_read_one_range_of_the_partial_index(postgres_only, tenant):
    """The query's condition on the status copy must imply the partial index's predicate
    (the same ``IN`` list), or PostgreSQL cannot use the index."""
    customer = account_customer(tenant)
    order(
        customer, total="1.00", order_date=NOW, lines=[(ProductFactory(tenant=tenant), 1, "1.00")]
    )
    terms = analytics.account_terms(customer)
    with analytics._bound(customer, terms, NOW, None):
        sql, params = analytics._top_products_query().all().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "orderline_customer_counted" in plan, plan
