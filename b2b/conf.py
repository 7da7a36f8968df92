"""The b2b thresholds: these defaults, each overridable in ``settings.HUB_B2B``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

DEFAULTS: dict = {
    # customer_segment (analytics): the first rule that matches wins.
    "NEW_CUSTOMER_DAYS": 90,
    "AT_RISK_AFTER_DAYS": 90,
    "INACTIVE_AFTER_DAYS": 365,
    "HIGH_VALUE_MIN_LTV": "25000.00",
    "MID_VALUE_MIN_LTV": "5000.00",
    # credit check (also the analytics' risk_score: b2b/credit.py)
    "CREDIT_BASE_SCORE": 680,
    "CREDIT_BANDS": [[750, "excellent"], [700, "good"], [650, "fair"], [600, "poor"]],
    "CREDIT_LOWEST_BAND": "very_poor",
    "CREDIT_LOW_RISK_MIN_SCORE": 700,
    "CREDIT_MEDIUM_RISK_MIN_SCORE": 600,
    "CREDIT_LIMIT_MULTIPLIERS": {
        "excellent": "3",
        "good": "2",
        "fair": "1",
        "poor": "0.5",
        "very_poor": "0",
    },
    "CREDIT_STARTER_LIMIT": "1000.00",
}


def b2b_setting(name: str):
    value = getattr(settings, "HUB_B2B", {}).get(name, DEFAULTS[name])
    return value


def b2b_decimal(name: str) -> Decimal:
    return Decimal(str(b2b_setting(name)))
