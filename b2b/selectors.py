"""Tenant-scoped reads of B2B accounts, contacts, orders and credit checks.

Money figures of a customer (``current_balance``, ``lifetime_value``, ``total_orders``) are SQL
subquery annotations, so a page of customers costs the same number of queries whatever its
size. Draft and cancelled orders never count.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from b2b.models import Account, Contact, CreditCheck, OrderStatus, SalesOrder
from customers.models import Customer
from customers.selectors import customer_get, customers_for_tenant
from tenants import errors
from tenants.ids import parse_uuid

#: statuses of orders that count for balances, revenue and analytics
NOT_COUNTED = (OrderStatus.DRAFT, OrderStatus.CANCELLED)
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def counted_orders() -> QuerySet[SalesOrder]:
    """Orders that count (not draft, not cancelled), of any customer: filter further."""
    return SalesOrder.objects.exclude(status__in=NOT_COUNTED)


def _per_customer(qs: QuerySet, aggregate):
    """A correlated subquery: ``aggregate`` over ``qs`` for the outer customer."""
    return Subquery(
        qs.filter(customer=OuterRef("pk"))
        .order_by()
        .values("customer")
        .annotate(value=aggregate)
        .values("value")[:1]
    )


def with_account_figures(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """Join the account and its addresses; annotate balance, lifetime value and order count."""
    counted = counted_orders()
    return qs.select_related(
        "account", "account__billing_address", "account__shipping_address"
    ).annotate(
        b2b_current_balance=Coalesce(
            _per_customer(counted.filter(paid_at__isnull=True), Sum("total_amount")),
            Value(ZERO),
            output_field=MONEY,
        ),
        b2b_lifetime_value=Coalesce(
            _per_customer(counted, Sum("total_amount")), Value(ZERO), output_field=MONEY
        ),
        b2b_total_orders=Coalesce(
            _per_customer(counted, Count("id")), Value(0), output_field=IntegerField()
        ),
    )


def b2b_customers_list(
    *, tenant, is_active: bool | None = None, search: str | None = None
) -> QuerySet[Customer]:
    """The tenant's customers, newest first, filtered on ``is_active`` and a search on name
    and email (case-insensitive substring)."""
    qs = customers_for_tenant(tenant=tenant)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    if search:
        # served on PostgreSQL by the trigram indexes of customers/migrations/0002
        qs = qs.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return with_account_figures(qs).order_by("-created_at", "-id")


def b2b_customer_get(*, tenant, customer_id, contacts: bool = True) -> Customer:
    """One customer of the tenant with its account figures (and contacts); 404 otherwise."""
    uid = parse_uuid(customer_id)
    if uid is None:
        raise errors.NotFound("Customer not found.")
    qs = with_account_figures(customers_for_tenant(tenant=tenant).filter(uuid=uid))
    if contacts:
        qs = qs.prefetch_related(Prefetch("contacts", queryset=Contact.objects.all()))
    customer = qs.first()
    if customer is None:
        raise errors.NotFound("Customer not found.")
    return customer


def customer_for_write(*, tenant, customer_id) -> Customer:
    """A plain customer of the tenant (no figures), for services to change; 404 otherwise."""
    return customer_get(tenant=tenant, customer_id=customer_id)


def account_of(customer: Customer) -> Account | None:
    """The customer's account, or None (no query when it was select_related)."""
    try:
        return customer.account
    except Account.DoesNotExist:
        return None


def contact_get(*, customer: Customer, contact_id) -> Contact:
    uid = parse_uuid(contact_id)
    contact = Contact.objects.filter(customer=customer, pk=uid).first() if uid else None
    if contact is None:
        raise errors.NotFound("Contact not found.", code="contact_not_found")
    contact.customer = customer
    return contact


def orders_for_tenant(*, tenant) -> QuerySet[SalesOrder]:
    return SalesOrder.objects.filter(tenant=tenant)


def order_get(*, tenant, order_id, lines: bool = True) -> SalesOrder:
    """One order of the tenant, with its customer (and lines); 404 otherwise."""
    uid = parse_uuid(order_id)
    qs = orders_for_tenant(tenant=tenant).select_related("customer")
    if lines:
        qs = qs.prefetch_related("lines__product")
    order = qs.filter(pk=uid).first() if uid else None
    if order is None:
        raise errors.NotFound("Order not found.", code="order_not_found")
    return order


def orders_for_customer(
    *,
    customer: Customer,
    status: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> QuerySet[SalesOrder]:
    """A customer's orders, newest first; ``date_to`` is exclusive (the caller makes a plain
    date inclusive by passing the next midnight)."""
    qs = SalesOrder.objects.filter(tenant_id=customer.tenant_id, customer=customer)
    if status:
        qs = qs.filter(status=status)
    if date_from is not None:
        qs = qs.filter(order_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(order_date__lt=date_to)
    return qs.select_related("customer").order_by("-order_date", "-id")


def credit_checks_for_customer(*, customer: Customer) -> QuerySet[CreditCheck]:
    return CreditCheck.objects.filter(customer=customer).order_by("-checked_at")
