"""Helpers shared by the b2b dialect's tests (tests/test_b2b_*.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from b2b.models import Account, OrderLine, SalesOrder
from customers.services import address_set
from tests.factories import CustomerFactory

D = Decimal


def contains(actual, expected, path="$"):
    """Every key of ``expected`` is in ``actual`` with an equal value (recursively; lists
    must have the same length). Numbers compare by value (5000.0 == 5000)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} is missing (have {sorted(actual)})"
            contains(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(actual) == len(expected), f"{path}: {len(actual)} items, want {len(expected)}"
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            contains(a, e, f"{path}[{index}]")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def account_customer(tenant, *, billing=None, shipping=None, **account_fields):
    """A customer of ``tenant`` with a B2B account (and optional addresses)."""
    customer = CustomerFactory(tenant=tenant)
    account = Account(customer=customer, customer_since=customer.created_at)
    for name, value in account_fields.items():
        setattr(account, name, value)
    if billing is not None:
        account.billing_address = address_set(customer=customer, key="billing", **billing)
    if shipping is not None:
        account.shipping_address = address_set(customer=customer, key="shipping", **shipping)
    account.save()
    return customer


_counter = [0]


def order(
    customer,
    *,
    total,
    order_date: datetime,
    status="confirmed",
    paid_at=None,
    due_date=None,
    lines=(),
):
    """An order with a fixed total (bypassing pricing), and optional lines
    ``[(product, quantity, unit_price)]``."""
    _counter[0] += 1
    sales_order = SalesOrder.objects.create(
        tenant_id=customer.tenant_id,
        customer=customer,
        order_number=f"SO-T-{_counter[0]:07d}",
        status=status,
        order_date=order_date,
        due_date=due_date,
        paid_at=paid_at,
        total_amount=D(str(total)),
        items_count=sum(q for _, q, _ in lines),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=sales_order,
            product=product,
            quantity=quantity,
            unit_price=D(str(price)),
            line_total=D(str(price)) * quantity,
        )
        for product, quantity, price in lines
    )
    return sales_order


def days(n: float) -> timedelta:
    return timedelta(days=n)
