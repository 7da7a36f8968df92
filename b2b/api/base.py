"""The b2b dialect's edge (seed 003): ``/api/customers``, ``/api/orders``.

Everything that makes this dialect look like the original B2B API lives here:

- snake_case field names;
- success bodies ``{"data": ...}``; lists ``{"data": [...], "meta": {"total", "page",
  "limit", "hasMore"}}`` (``page`` from 1, ``limit`` 1..100, default 20);
- errors ``{"error": {"code", "message", "details"?: {field: [messages]}, "request_id"}}``:
  400 for invalid input, 401/403 for access, 404 for a missing or another tenant's id, 409
  for a conflict with the current state (an illegal order transition, a concurrent change);
- money as JSON numbers with two decimals (``10000.00``), rendered from ``Decimal`` without
  a detour through binary floating point; accepted as numbers or numeric strings.
"""

from __future__ import annotations

import re
from decimal import Decimal

import orjson
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from tenants import paging
from tenants.access import tenant_from_header_or_credential
from tenants.api.dialect import DialectViewMixin, register
from tenants.api.envelopes import ErrorObjectDialect
from tenants.api.renderers import JSONRenderer

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAGE = 1_000_000


class B2BDialect(ErrorObjectDialect):
    name = "b2b"
    path_pattern = re.compile(r"^/api/(customers|orders)(/|$)")
    validation_status = 400
    error_component = "B2BError"
    error_description = "The b2b dialect's error envelope."


B2B = register(B2BDialect())


# --- rendering ------------------------------------------------------------------------------

_MARK = "\x00b2b-decimal:"
_MARKED = re.compile(rb'"\\u0000b2b-decimal:(-?[0-9]+(?:\.[0-9]+)?)\\u0000"')


class _DecimalAsNumberEncoder(JSONEncoder):
    def default(self, obj):
        if isinstance(obj, Decimal) and obj.is_finite():
            return f"{_MARK}{obj:f}\x00"
        return super().default(obj)


class B2BJSONRenderer(JSONRenderer):
    """JSON with ``Decimal`` values written as exact numbers (``5000.00``, not ``5000.0``).

    orjson writes a finite Decimal as a raw JSON fragment. When DRF renders (pretty-printed
    responses), a Decimal is first encoded as a marked string, which is then unquoted; the
    marker starts with a NUL character, which no stored string can contain (every input
    rejects it).
    """

    encoder_class = _DecimalAsNumberEncoder

    def default(self, obj):
        if isinstance(obj, Decimal) and obj.is_finite():
            return orjson.Fragment(f"{obj:f}")
        return super().default(obj)

    def render_with_drf(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        body = super().render_with_drf(data, accepted_media_type, renderer_context)
        return _MARKED.sub(rb"\1", body) if body else body


# --- fields -------------------------------------------------------------------------------


class MoneyField(serializers.DecimalField):
    """Money: a number (or numeric string) with at most 2 decimals and 12 integer digits;
    NaN and infinities are rejected. Rendered as a JSON number with two decimals."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)


CENT = Decimal("0.01")


def cents(value) -> Decimal | None:
    """Money as ``MoneyField`` renders it (two decimals), for hand-written output."""
    if value is None:
        return None
    return Decimal(value).quantize(CENT)


class PercentField(MoneyField):
    """A percentage 0..100 with at most two decimals."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal(100))
        super().__init__(**kwargs)


# --- pagination ---------------------------------------------------------------------------


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(
        required=False, default=1, min_value=1, max_value=MAX_PAGE, help_text="From 1."
    )
    limit = serializers.IntegerField(
        required=False,
        default=DEFAULT_LIMIT,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=f"Items per page, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    )


class B2BListMetaSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    hasMore = serializers.BooleanField()


def page_meta(*, page: int, limit: int, total: int) -> dict:
    """The seed's ``meta`` of a list page."""
    return {"total": total, "page": page, "limit": limit, "hasMore": page * limit < total}


def paginate(queryset, *, page: int, limit: int) -> tuple[list, dict]:
    """One page of ``queryset`` (ordered; its primary key identifies a row) and the seed's
    ``meta``: a ``COUNT`` and a deferred join (tenants/paging.py). A page past the end is
    empty."""
    items, total = paging.page(
        queryset, key="pk", offset=(page - 1) * limit, limit=limit, selective=False
    )
    return items, page_meta(page=page, limit=limit, total=total)


# --- envelopes (OpenAPI) ------------------------------------------------------------------


def data_envelope(name: str, serializer) -> serializers.Serializer:
    """``{"data": <serializer>}`` as a named component."""
    return inline_serializer(name=name, fields={"data": serializer})


def list_envelope(name: str, serializer) -> serializers.Serializer:
    """``{"data": [<serializer>], "meta": {...}}`` as a named component."""
    return inline_serializer(
        name=name, fields={"data": serializer, "meta": B2BListMetaSerializer()}
    )


class B2BMessageSerializer(serializers.Serializer):
    message = serializers.CharField()


# --- views --------------------------------------------------------------------------------


class B2BView(DialectViewMixin, APIView):
    """Base of every b2b view: the dialect's errors and renderer."""

    dialect = B2B
    renderer_classes = [B2BJSONRenderer]

    def access(self, request):
        """The tenant: ``x-tenant-id`` when sent, else the credential's only tenant."""
        return tenant_from_header_or_credential(request)

    def query(self, serializer_class):
        serializer = serializer_class(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
