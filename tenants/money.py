"""Money: amounts are decimals of two places, rounded half up (as the b2b seed's figures and
invoices are), in every dialect and every computation."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    """``value`` (a Decimal, int or numeric string; ``None`` is 0) rounded half up to cents."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)
