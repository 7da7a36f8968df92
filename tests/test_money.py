"""One money rule (tenants/money.py): two places, half up, wherever an amount is computed or
rendered."""

from decimal import Decimal

import pytest

from b2b.api.base import cents
from tenants.money import money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("0.005"), Decimal("0.01")),
        (Decimal("2.675"), Decimal("2.68")),
        (Decimal("2.665"), Decimal("2.67")),  # half-even would give 2.66
        (Decimal("-2.665"), Decimal("-2.67")),
        ("10", Decimal("10.00")),
        (None, Decimal("0.00")),
    ],
)
def test_money_rounds_half_up_to_cents(value, expected):
    assert money(value) == expected
    assert str(money(value)) == str(expected)


def test_the_b2b_renderings_round_as_the_computations_do():
    assert cents(Decimal("2.665")) == money(Decimal("2.665")) == Decimal("2.67")
    assert cents(None) is None
