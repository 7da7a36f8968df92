"""tenants.api.renderers.JSONRenderer writes what DRF's JSONRenderer writes, byte for byte."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from b2b.api.base import B2BJSONRenderer
from tenants.api.renderers import JSONRenderer

VALUES = [
    {"text": "plain", "unicode": "Zoë Lefèvre 東京 🎟", "separators": "a\u2028b\u2029c"},
    {"nested": [{"a": 1, "b": None, "c": True, "d": 1.5, "e": [1, 2, (3, 4)]}]},
    {"when": datetime(2025, 11, 3, 10, 0, 0, 123456, tzinfo=UTC), "day": date(2025, 1, 2)},
    {"clock": time(10, 30, 0, 250000), "naive": datetime(2025, 1, 1, 12, 0)},
    {"duration": timedelta(days=1, seconds=5), "money": Decimal("5000.00"), "big": 2**62},
    {"id": uuid.UUID("01a2266c-87b8-79dc-b4a3-e20ca95faea6"), "lazy": gettext_lazy("Not found.")},
    {1: "int key", "set": sorted({3, 1, 2}), "bytes": b"raw", "escapes": 'quote " \\ \n \t \x01'},
    ReturnDict({"data": ReturnList([{"x": 1}], serializer=None)}, serializer=None),
    OrderedDict([("b", 1), ("a", 2)]),
    [],
    "a bare string",
]


@pytest.mark.parametrize("data", VALUES)
def test_same_bytes_as_drf(data):
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)


def test_pretty_printing_and_what_orjson_refuses_are_left_to_drf():
    data = {"a": [1, 2], "huge": 2**70}
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)
    pretty = "application/json; indent=2"
    assert JSONRenderer().render({"a": 1}, pretty) == DRFJSONRenderer().render({"a": 1}, pretty)
    assert JSONRenderer().render(None) == b""


@pytest.mark.parametrize("accepted", [None, "application/json; indent=2"])
def test_b2b_writes_decimals_as_exact_numbers_either_way(accepted):
    data = {"credit_limit": Decimal("10000.00"), "rate": Decimal("5.5"), "n": Decimal("-0.01")}
    body = B2BJSONRenderer().render(data, accepted)
    compact = body.replace(b" ", b"").replace(b"\n", b"")
    assert compact == b'{"credit_limit":10000.00,"rate":5.5,"n":-0.01}'
