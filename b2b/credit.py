"""The internal credit scoring model (no external bureau): deterministic, explainable.

The score starts at CREDIT_BASE_SCORE (680) and each factor adds or removes points; the
result is clamped to 300..850. Figures come from the customer's counted orders (not draft,
not cancelled), in SQL aggregates (b2b.analytics.payment_figures).

Factors (every one is reported with its impact, 0 meaning neutral):
  payment_punctuality  paid orders only: round(200 * on-time share) - 100 (-100..+100), less
                       2 points per day paid late on average (at most 60); 0 without any
                       paid order. "On time" = paid by the due date (order date + terms).
  overdue_balance      unpaid orders past their due date: -(40 + 2 per day the oldest is
                       overdue), at most -150; +20 when nothing is overdue and the customer
                       has orders; 0 otherwise.
  credit_utilization   balance / credit limit: <= 30 % +40, <= 50 % +20, <= 80 % 0,
                       <= 100 % -40, above -100; 0 without a credit limit.
  tenure               time since customer_since: < 180 days -20, < 1 year 0, < 2 years
                       +20, < 5 years +40, longer +60.
  order_volume         counted orders in the last 365 days: none -10, 1-4 0, 5-11 +20,
                       12-23 +30, 24 or more +40.

Rating bands (settings.HUB_B2B CREDIT_BANDS): excellent >= 750, good >= 700, fair >= 650,
poor >= 600, very_poor below. Risk assessment: low >= 700, medium >= 600, high below. This
is the b2b dialect's one risk model: the analytics' ``risk_score`` is this assessment, made
from the same figures at the same moment, so both always agree.
Recommended credit limit: the average monthly revenue of the last 365 days times the
rating's multiplier (excellent 3, good 2, fair 1, poor 0.5, very_poor 0), rounded down to
a multiple of 100; ratings fair and better get at least CREDIT_STARTER_LIMIT (1000.00).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from b2b.analytics import AccountTerms, account_terms, payment_figures, utilization
from b2b.conf import b2b_decimal, b2b_setting
from customers.models import Customer
from tenants.money import money

MIN_SCORE, MAX_SCORE = 300, 850


@dataclass
class Assessment:
    score: int
    rating: str
    risk: str
    recommended_limit: Decimal
    current_limit: Decimal
    factors: list[dict]
    inputs: dict


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _factor(code: str, impact: int, description: str) -> dict:
    return {"factor": code, "impact": int(impact), "description": description}


def punctuality_factor(f: dict) -> dict:
    paid = f["paid_orders"]
    if not paid:
        return _factor("payment_punctuality", 0, "No paid orders yet.")
    on_time = f["paid_on_time"]
    late_days = f["avg_days_late"] or 0.0
    impact = _half_up(Decimal(200 * on_time) / paid) - 100
    impact -= min(60, _half_up(Decimal(str(late_days)) * 2))
    return _factor(
        "payment_punctuality",
        impact,
        f"{on_time} of {paid} paid orders were paid by their due date; "
        f"{late_days:.1f} days late on average.",
    )


def overdue_factor(f: dict) -> dict:
    if f["overdue_orders"]:
        days = f["max_days_overdue"]
        return _factor(
            "overdue_balance",
            -min(150, 40 + 2 * days),
            f"{f['overdue_amount']} overdue on {f['overdue_orders']} order(s); "
            f"the oldest is {days} days past due.",
        )
    if f["total_orders"]:
        return _factor("overdue_balance", 20, "Nothing is overdue.")
    return _factor("overdue_balance", 0, "No orders yet.")


def utilization_factor(pct: Decimal | None) -> dict:
    if pct is None:
        return _factor("credit_utilization", 0, "No credit limit is set.")
    if pct <= 30:
        impact = 40
    elif pct <= 50:
        impact = 20
    elif pct <= 80:
        impact = 0
    elif pct <= 100:
        impact = -40
    else:
        impact = -100
    return _factor("credit_utilization", impact, f"The balance uses {pct}% of the credit limit.")


def tenure_factor(days: int) -> dict:
    if days < 180:
        impact = -20
    elif days < 365:
        impact = 0
    elif days < 730:
        impact = 20
    elif days < 1825:
        impact = 40
    else:
        impact = 60
    return _factor("tenure", impact, f"Customer for {max(days, 0)} days.")


def volume_factor(orders: int) -> dict:
    if orders == 0:
        impact = -10
    elif orders < 5:
        impact = 0
    elif orders < 12:
        impact = 20
    elif orders < 24:
        impact = 30
    else:
        impact = 40
    return _factor("order_volume", impact, f"{orders} order(s) in the last 365 days.")


def rating_for(score: int) -> str:
    for minimum, rating in b2b_setting("CREDIT_BANDS"):
        if score >= int(minimum):
            return rating
    return b2b_setting("CREDIT_LOWEST_BAND")


def risk_for(score: int) -> str:
    if score >= int(b2b_setting("CREDIT_LOW_RISK_MIN_SCORE")):
        return "low"
    if score >= int(b2b_setting("CREDIT_MEDIUM_RISK_MIN_SCORE")):
        return "medium"
    return "high"


def recommended_limit(*, rating: str, revenue_last_year: Decimal) -> Decimal:
    multiplier = Decimal(str(b2b_setting("CREDIT_LIMIT_MULTIPLIERS").get(rating, "0")))
    monthly = revenue_last_year / 12
    limit = (monthly * multiplier / 100).quantize(Decimal(1), rounding=ROUND_DOWN) * 100
    if rating in ("excellent", "good", "fair"):
        limit = max(limit, b2b_decimal("CREDIT_STARTER_LIMIT"))
    return money(limit)


def assess(*, customer: Customer, now: datetime) -> Assessment:
    """The credit check of ``customer`` at ``now``."""
    terms = account_terms(customer)
    return assess_figures(
        figures=payment_figures(customer=customer, terms=terms, now=now), terms=terms, now=now
    )


def assess_figures(*, figures: dict, terms: AccountTerms, now: datetime) -> Assessment:
    """The model itself, on a customer's figures (``b2b.analytics.payment_figures``): the
    one risk model of the b2b dialect, also behind the analytics' ``risk_score``."""
    f = figures
    pct = utilization(f["current_balance"], terms.credit_limit)
    tenure_days = (now - terms.customer_since).days
    factors = [
        punctuality_factor(f),
        overdue_factor(f),
        utilization_factor(pct),
        tenure_factor(tenure_days),
        volume_factor(f["orders_last_year"]),
    ]
    raw = int(b2b_setting("CREDIT_BASE_SCORE")) + sum(x["impact"] for x in factors)
    score = max(MIN_SCORE, min(MAX_SCORE, raw))
    rating = rating_for(score)
    inputs = {
        "payment_terms": terms.payment_terms,
        "credit_limit": str(terms.credit_limit),
        "current_balance": str(f["current_balance"]),
        "credit_utilization": str(pct) if pct is not None else None,
        "overdue_amount": str(f["overdue_amount"]),
        "overdue_orders": f["overdue_orders"],
        "max_days_overdue": f["max_days_overdue"],
        "paid_orders": f["paid_orders"],
        "paid_on_time": f["paid_on_time"],
        "avg_days_late": f["avg_days_late"],
        "tenure_days": tenure_days,
        "total_orders": f["total_orders"],
        "orders_last_year": f["orders_last_year"],
        "revenue_last_year": str(f["revenue_last_year"]),
        "base_score": int(b2b_setting("CREDIT_BASE_SCORE")),
        "raw_score": raw,
    }
    return Assessment(
        score=score,
        rating=rating,
        risk=risk_for(score),
        recommended_limit=recommended_limit(
            rating=rating, revenue_last_year=f["revenue_last_year"]
        ),
        current_limit=terms.credit_limit,
        factors=factors,
        inputs=inputs,
    )
