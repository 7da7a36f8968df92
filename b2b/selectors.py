"""Tenant-scoped reads of B2B accounts, contacts, orders and credit checks.

Money figures of a customer (``current_balance``, ``lifetime_value``, ``total_orders``) are
read for a whole page of customers in one aggregate query (``attach_account_figures``), so a
page costs the same number of queries whatever its size. Draft and cancelled orders never
count.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial

from django.db.models import Count, DecimalField, Q, QuerySet, Sum

from b2b.error_codes import B2BErrorCode
from b2b.models import (
    NOT_COUNTED,
    Account,
    Contact,
    SalesOrder,
)
from customers.models import Customer
from customers.selectors import (
    customer_survivor,
    customers_counted,
    customers_for_tenant,
    customers_total,
)
from tenants import errors, paging
from tenants.ids import parse_uuid

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def counted_orders() -> QuerySet[SalesOrder]:
    """Orders that count (not draft, not cancelled), of any customer: filter further."""
    return SalesOrder.objects.exclude(status__in=NOT_COUNTED)


def with_account(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    """Join the account, its billing and shipping addresses, and the customer's default
    address (the billing address shown when the account links none)."""
    return qs.select_related(
        "account", "account__billing_address", "account__shipping_address", "default_address"
    )


def _figures():
    return {
        "balance": Sum("total_amount", filter=Q(paid_at__isnull=True), output_field=MONEY),
        "lifetime": Sum("total_amount", output_field=MONEY),
        "orders": Count("id"),
    }


def _customers_figures(ids: list) -> QuerySet:
    """The figures of the customers ``ids``: filtered on them (a WHERE, before the GROUP BY)."""
    return (
        counted_orders()
        .filter(customer_id__in=ids)
        .order_by()
        .values("customer_id")
        .annotate(**_figures())
    )


def attach_account_figures(customers: list) -> list:
    """Set ``b2b_current_balance`` (unpaid), ``b2b_lifetime_value`` and ``b2b_total_orders``
    from the counted orders of each of ``customers`` (Customer instances, or rows of
    ``b2b_customer_rows``, whose keys they become): one ``GROUP BY`` query, whatever their
    number (a correlated subquery per figure costs more to build than to run)."""
    ids = [c["id"] if isinstance(c, dict) else c.pk for c in customers]
    rows = list(_customers_figures(ids)) if ids else []
    figures = {row["customer_id"]: row for row in rows}
    for customer, pk in zip(customers, ids, strict=True):
        row = figures.get(pk, {})
        values = {
            "b2b_current_balance": row.get("balance") or ZERO,
            "b2b_lifetime_value": row.get("lifetime") or ZERO,
            "b2b_total_orders": row.get("orders") or 0,
        }
        if isinstance(customer, dict):
            customer.update(values)
        else:
            for name, value in values.items():
                setattr(customer, name, value)
    return customers


def b2b_customers_list(
    *, tenant, is_active: bool | None = None, search: str | None = None
) -> QuerySet[Customer]:
    """The tenant's customers, newest first, with their account, filtered on ``is_active``
    and a search on name and email (case-insensitive substring); ``b2b_customers_page``
    reads a page of it with the figures."""
    qs = customers_for_tenant(tenant=tenant)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    if search:
        # served on PostgreSQL by the trigram indexes of customers/migrations/0002
        qs = qs.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return with_account(qs).order_by("-created_at", "-id")


def b2b_customer_rows(qs: QuerySet[Customer], columns: tuple[str, ...]) -> QuerySet:
    """``b2b_customers_list`` as rows (dicts of ``columns``, the ones the dialect renders, and
    ``id``) instead of four model instances per customer (customer, account, two addresses).
    ``values()`` drops the select_related: the rows join only what ``columns`` name (LEFT
    JOINs)."""
    return qs.values(*dict.fromkeys(("id", *columns)))


def b2b_customers_page(
    *,
    tenant,
    offset: int,
    limit: int,
    is_active: bool | None = None,
    search: str | None = None,
    columns: tuple[str, ...],
) -> tuple[list[dict], int]:
    """``(rows of b2b_customer_rows with their figures, total)``: one page of
    ``b2b_customers_list``. A search is paged by finding its matches once
    (``tenants.paging.page_keys``); otherwise the total is the one the database keeps
    (``customers_total``); the page is read by a deferred join (tenants/paging.py), deep
    pages of the whole list from a landmark (creation times and ids never change)."""
    counted = customers_counted(tenant=tenant) if not search and is_active is None else None
    customers, total = paging.page(
        b2b_customers_list(tenant=tenant, is_active=is_active, search=search),
        key="pk",
        offset=offset,
        limit=limit,
        selective=bool(search),
        total=None if search or counted else customers_total(tenant=tenant, is_active=is_active),
        counted=counted,
        rows=partial(b2b_customer_rows, columns=columns),
    )
    return attach_account_figures(customers), total


def _one(qs: QuerySet[Customer], customer_id, *, tenant) -> Customer:
    uid = parse_uuid(customer_id)
    customer = next(iter(qs.filter(uuid=uid).order_by()[:1]), None) if uid else None
    if customer is None and uid:  # a merged-away customer's id answers as its survivor
        survivor = customer_survivor(tenant=tenant, uuid=uid)
        if survivor is not None:
            customer = next(iter(qs.filter(pk=survivor.pk).order_by()[:1]), None)
    if customer is None:
        raise errors.NotFound("Customer not found.")
    return customer


def b2b_customer_get(*, tenant, customer_id) -> Customer:
    """One customer of the tenant with its account, addresses, ``contact_list`` and figures
    (the b2b record); 404 otherwise."""
    customer = _one(with_account(customers_for_tenant(tenant=tenant)), customer_id, tenant=tenant)
    customer.contact_list = list(Contact.objects.filter(customer=customer))  # primary first
    return attach_account_figures([customer])[0]


def b2b_customer_with_terms(*, tenant, customer_id) -> Customer:
    """One customer of the tenant with its account (payment terms, credit limit): what
    analytics and credit checks start from; 404 otherwise."""
    return _one(
        customers_for_tenant(tenant=tenant).select_related("account"), customer_id, tenant=tenant
    )


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
        raise errors.NotFound("Contact not found.", code=B2BErrorCode.CONTACT_NOT_FOUND)
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
        raise errors.NotFound("Order not found.", code=B2BErrorCode.ORDER_NOT_FOUND)
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
