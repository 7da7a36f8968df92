"""Customer analytics: SQL aggregates over a customer's counted orders (never a Python loop
over orders). Draft and cancelled orders never count.

Which figures follow ``period`` (30d, 90d, 1y = 365 days, all; a window ending now):
``financial_summary.total_revenue``, ``financial_summary.avg_payment_days``,
``order_history`` and ``top_products``. The ``overview`` (lifetime figures),
``current_balance``, ``credit_limit`` and ``credit_utilization`` (the state now), and the
``customer_segment`` and ``risk_score`` (judgements about the customer, from lifetime
figures) do not depend on the period.

customer_segment: the first rule that matches (thresholds in settings.HUB_B2B):
  1. no counted order: ``new`` while the customer is at most NEW_CUSTOMER_DAYS old, else
     ``inactive``;
  2. last order more than INACTIVE_AFTER_DAYS ago: ``inactive``;
  3. last order more than AT_RISK_AFTER_DAYS ago: ``at_risk``;
  4. lifetime value >= HIGH_VALUE_MIN_LTV: ``high_value``;
  5. customer for at most NEW_CUSTOMER_DAYS: ``new``;
  6. lifetime value >= MID_VALUE_MIN_LTV: ``mid_value``;
  7. otherwise ``low_value``.

risk_score (``low``, ``medium`` or ``high``): the risk assessment of the credit model
(b2b/credit.py, the "Run a credit check" operation), made from the same figures at the same
moment: a credit check run now answers the same ``risk_assessment``. Its factors (payment
punctuality, overdue balance, credit utilization, tenure, order volume) are listed, with
their weights, in the credit check's description and in every check's ``factors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth

from b2b.conf import b2b_decimal, b2b_setting
from b2b.models import COUNTED, PAYMENT_TERM_DAYS, Account, OrderLine
from b2b.selectors import account_of, counted_orders
from customers.models import Customer
from tenants import errors
from tenants.money import ZERO, money
from tenants.query_params import Param, bound

PERIODS = {"30d": 30, "90d": 90, "1y": 365, "all": None}


def _days(delta: timedelta | None) -> float | None:
    if delta is None:
        return None
    if not isinstance(delta, timedelta):  # some backends hand back microseconds
        delta = timedelta(microseconds=float(delta))
    return delta.total_seconds() / 86400


def _round_days(days: float | None) -> int | None:
    if days is None:
        return None
    return int(Decimal(str(days)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class AccountTerms:
    payment_terms: str
    term_days: int
    credit_limit: Decimal
    currency: str
    customer_since: datetime


def account_terms(customer: Customer) -> AccountTerms:
    """The customer's account terms, or the defaults when it has no account."""
    account = account_of(customer)
    if account is None:
        account = Account.objects.filter(customer=customer).first()
    terms = account or Account()  # no account: the defaults
    return AccountTerms(
        payment_terms=terms.payment_terms,
        term_days=PAYMENT_TERM_DAYS[terms.payment_terms],
        credit_limit=money(terms.credit_limit),
        currency=terms.currency,
        customer_since=terms.customer_since or customer.created_at,
    )


# The queries below are built and resolved once per process and run with each customer's
# values bound (tenants.query_params): building these expressions cost Django more than the
# database took to answer them, the one such hook the benchmark showed worth keeping
# (docs/performance.md, items 5 and 17).
CUSTOMER = Param("customer", BigIntegerField())
NOW = Param("now", DateTimeField())
SINCE = Param("since", DateTimeField())  # the period's start; the beginning of time for "all"
YEAR_AGO = Param("year_ago", DateTimeField())
TERM = Param("term", DurationField())  # the account's payment term
BEGINNING = datetime(1, 1, 1, tzinfo=UTC)

DURATION = DurationField()
PAID = Q(paid_at__isnull=False)
UNPAID = Q(paid_at__isnull=True)


def _counted_orders_of_customer():
    return counted_orders().filter(customer_id=CUSTOMER)


@cache
def _monthly_query():
    """The customer's counted orders by month (none without orders), newest first: each
    month's orders and revenue of the period (the order history) and its part of every
    figure; ``_monthly`` adds the months up (sums, counts, the earliest and latest date;
    averages as a sum and a count). One query, where a row of figures and the history
    were two scans of the same orders. An order imported without a due date is due ``TERM``
    after its order date."""
    due = Coalesce(
        F("due_date"),
        ExpressionWrapper(F("order_date") + TERM, output_field=DateTimeField()),
        output_field=DateTimeField(),
    )
    overdue = UNPAID & Q(effective_due__lt=NOW)
    in_period = Q(order_date__gte=SINCE)
    return (
        _counted_orders_of_customer()
        .annotate(effective_due=due, month=TruncMonth("order_date"))
        .order_by()
        .values("month")
        .annotate(
            period_orders=Count("id", filter=in_period),
            period_revenue=Sum("total_amount", filter=in_period),
            period_paid=Count("id", filter=PAID & in_period),
            period_payment_time=Sum(
                ExpressionWrapper(F("paid_at") - F("order_date"), output_field=DURATION),
                filter=PAID & in_period,
            ),
            lifetime_value=Sum("total_amount"),
            total_orders=Count("id"),
            last_order_date=Max("order_date"),
            current_balance=Sum("total_amount", filter=UNPAID),
            overdue_amount=Sum("total_amount", filter=overdue),
            overdue_orders=Count("id", filter=overdue),
            oldest_overdue_due=Min("effective_due", filter=overdue),
            paid_orders=Count("id", filter=PAID),
            paid_on_time=Count("id", filter=PAID & Q(paid_at__lte=F("effective_due"))),
            time_late=Sum(
                Case(
                    When(
                        paid_at__gt=F("effective_due"),
                        then=ExpressionWrapper(
                            F("paid_at") - F("effective_due"), output_field=DURATION
                        ),
                    ),
                    default=Value(timedelta(0), output_field=DURATION),
                    output_field=DURATION,
                ),
                filter=PAID,
            ),
            orders_last_year=Count("id", filter=Q(order_date__gte=YEAR_AGO)),
            revenue_last_year=Sum("total_amount", filter=Q(order_date__gte=YEAR_AGO)),
        )
        .order_by("-month")
    )


@cache
def _top_products_query():
    """The customer's counted lines of the period, from their copies of the order's customer,
    date and status (b2b/migrations/0005): one range of a partial covering index."""
    return (
        OrderLine.objects.filter(
            order_customer_id=CUSTOMER, order_status__in=COUNTED, order_date__gte=SINCE
        )
        .values("product_id", "product__name")
        .annotate(quantity=Sum("quantity"), revenue=Sum("line_total"))
        .order_by("-revenue", "product__name", "product_id")[:5]
    )


def _bound(customer: Customer, terms: AccountTerms, now: datetime, since: datetime | None):
    return bound(
        customer=customer.pk,
        now=now,
        since=since or BEGINNING,
        year_ago=now - timedelta(days=365),
        term=timedelta(days=terms.term_days),
    )


def _duration(value) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))  # some backends hand back microseconds


def _total(rows: list[dict], name: str):
    values = [row[name] for row in rows if row[name] is not None]
    return sum(values[1:], values[0]) if values else None


def _monthly(customer, terms, now, since) -> tuple[dict, list[dict]]:
    """The figures of ``payment_figures`` and the monthly rows of the period."""
    with _bound(customer, terms, now, since):
        months = list(_monthly_query().all())  # none: no counted order
    total = {name: _total(months, name) for name in SUMMED}
    figures = {name: total[name] or 0 for name in COUNTS}
    for name in AMOUNTS:
        figures[name] = money(total[name])
    figures["period_revenue"] = total["period_revenue"]
    payment_time = _duration(total["period_payment_time"])
    figures["period_avg_payment"] = (
        payment_time / total["period_paid"] if total["period_paid"] else None
    )
    time_late = _duration(total["time_late"])
    figures["avg_days_late"] = (
        _days(time_late / figures["paid_orders"]) if figures["paid_orders"] else None
    )
    dates = [row["last_order_date"] for row in months]
    figures["last_order_date"] = max(dates) if dates else None
    oldest = [row["oldest_overdue_due"] for row in months if row["oldest_overdue_due"]]
    figures["max_days_overdue"] = (now - min(oldest)).days if oldest else 0
    return figures, [row for row in months if row["period_orders"]]


def payment_figures(
    *, customer: Customer, terms: AccountTerms, now: datetime, since: datetime | None = None
) -> dict:
    """Lifetime figures of the customer's counted orders, and the figures of the period
    from ``since`` (``period_revenue``, ``period_avg_payment``; the whole life when None),
    from one aggregate query."""
    return _monthly(customer, terms, now, since)[0]


COUNTS = ("total_orders", "overdue_orders", "paid_orders", "paid_on_time", "orders_last_year")
AMOUNTS = ("lifetime_value", "current_balance", "overdue_amount", "revenue_last_year")
#: the monthly columns added up over the months
SUMMED = (
    *COUNTS,
    *AMOUNTS,
    "period_revenue",
    "period_paid",
    "period_payment_time",
    "time_late",
)


def utilization(balance: Decimal, credit_limit: Decimal) -> Decimal | None:
    """The balance over the credit limit, in percent (None without a credit limit)."""
    if not credit_limit:
        return None
    return money(balance * 100 / credit_limit)


def customer_segment(*, figures: dict, tenure_days: int, now: datetime) -> str:
    new_days = int(b2b_setting("NEW_CUSTOMER_DAYS"))
    if not figures["total_orders"]:
        return "new" if tenure_days <= new_days else "inactive"
    since_last = (now - figures["last_order_date"]).days
    if since_last > int(b2b_setting("INACTIVE_AFTER_DAYS")):
        return "inactive"
    if since_last > int(b2b_setting("AT_RISK_AFTER_DAYS")):
        return "at_risk"
    if figures["lifetime_value"] >= b2b_decimal("HIGH_VALUE_MIN_LTV"):
        return "high_value"
    if tenure_days <= new_days:
        return "new"
    if figures["lifetime_value"] >= b2b_decimal("MID_VALUE_MIN_LTV"):
        return "mid_value"
    return "low_value"


def customer_analytics(*, customer: Customer, period: str = "all", now: datetime) -> dict:
    """The analytics document of one customer (see the module docstring)."""
    from b2b import credit  # the credit model is built on this module's figures

    if period not in PERIODS:
        raise errors.ValidationError(
            f"period: Must be one of: {', '.join(PERIODS)}.",
            fields={"period": [f"Must be one of: {', '.join(PERIODS)}."]},
        )
    terms = account_terms(customer)
    since = now - timedelta(days=PERIODS[period]) if PERIODS[period] is not None else None
    figures, history = _monthly(customer, terms, now, since)
    with _bound(customer, terms, now, since):
        top = list(_top_products_query().all())

    total_orders = figures["total_orders"]
    lifetime_value = figures["lifetime_value"]
    last = figures["last_order_date"]
    tenure_days = (now - terms.customer_since).days
    utilization_pct = utilization(figures["current_balance"], terms.credit_limit)
    return {
        "customer": {"id": customer.uuid, "name": customer.name or customer.display_name},
        "period": period,
        "overview": {
            "lifetime_value": lifetime_value,
            "total_orders": total_orders,
            "avg_order_value": money(lifetime_value / total_orders) if total_orders else ZERO,
            "last_order_date": last,
            "customer_since": terms.customer_since,
            "days_since_last_order": (now - last).days if last is not None else None,
        },
        "financial_summary": {
            "total_revenue": money(figures["period_revenue"]),
            "current_balance": figures["current_balance"],
            "credit_limit": money(terms.credit_limit),
            "credit_utilization": utilization_pct,
            "avg_payment_days": _round_days(_days(figures["period_avg_payment"])),
        },
        "order_history": [
            {
                "month": row["month"].strftime("%Y-%m"),
                "orders": row["period_orders"],
                "revenue": money(row["period_revenue"]),
                "avg_order_value": money(row["period_revenue"] / row["period_orders"]),
            }
            for row in history
        ],
        "top_products": [
            {
                "product_id": row["product_id"],
                "product_name": row["product__name"],
                "quantity_ordered": row["quantity"],
                "revenue": money(row["revenue"]),
            }
            for row in top
        ],
        "customer_segment": customer_segment(figures=figures, tenure_days=tenure_days, now=now),
        "risk_score": credit.assess_figures(figures=figures, terms=terms, now=now).risk,
    }
