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
from drf_spectacular.utils import OpenApiParameter, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from b2b.currencies import ISO_4217_CODES
from customers.identity import existing_of
from tenants import paging
from tenants.access import tenant_from_header_or_credential
from tenants.api.compiled import renders
from tenants.api.dialect import register
from tenants.api.envelopes import ErrorObjectDialect
from tenants.api.renderers import JSONRenderer
from tenants.api.viewsets import DialectSchema, DialectViewSet
from tenants.money import money
from tenants.phones import phone_dashed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAGE = 1_000_000


class B2BDialect(ErrorObjectDialect):
    name = "b2b"
    path_pattern = re.compile(r"^/api/(customers|orders)(/|$)")
    validation_status = 400
    error_component = "B2BError"
    error_description = "The b2b dialect's error envelope."

    def caller_access(self, request, view_kwargs):
        return tenant_from_header_or_credential(request, write=False)

    def error_info(self, exc, request):
        info = super().error_info(exc, request)
        if (existing := existing_of(exc)) is not None:
            # a taken email names the customer that has it (issue 20), in ``details`` as
            # every field of this envelope: ``existing_customer_id``
            info.message = f"{info.message} It belongs to customer {existing.uuid}."
            info.fields = {**info.fields, EXISTING_CUSTOMER: [str(existing.uuid)]}
        return info


#: the ``details`` entry of a taken email: the id of the customer that has it
EXISTING_CUSTOMER = "existing_customer_id"
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


def cents(value) -> Decimal | None:
    """Money as ``MoneyField`` renders it (two decimals), without DRF's field machinery."""
    return None if value is None else money(value)


renders(money)(MoneyField)  # what DRF's DecimalField renders of money (tenants.api.compiled)


class PercentField(MoneyField):
    """A percentage 0..100 with at most two decimals."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 5)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("max_value", Decimal(100))
        super().__init__(**kwargs)


CURRENCIES = sorted(ISO_4217_CODES)


@extend_schema_field(
    {
        "type": "string",
        "enum": CURRENCIES,
        "description": "An active ISO 4217 code (List One), e.g. USD. Sent in lower case, it "
        "is upper-cased; a withdrawn or unknown code is a 400.",
    }
)
class CurrencyField(serializers.CharField):
    """An ISO 4217 code (b2b.currencies): upper-cased on input, checked against the list."""

    default_error_messages = {"not_iso": "{value!r} is not an ISO 4217 currency code."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 3)
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if code not in ISO_4217_CODES:
            self.fail("not_iso", value=data)
        return code


PHONE_HELP = (
    'Written in any common form ("+1 201 555 0123", "(201) 555-0123" for a tenant whose '
    "default region is US); stored in E.164 and shown as the seed shows phones, the country "
    'code and the groups joined by hyphens: "+1-201-555-0123". An empty string: no phone. '
    "A value that is not a phone number is a 400 naming the field."
)


@renders(phone_dashed)
class PhoneField(serializers.CharField):
    """A phone: any common form in, the seed's ``+1-555-0456`` style out (tenants/phones.py
    checks and stores it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", PHONE_HELP)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return phone_dashed(str(value))


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


def data_response(data, *, status: int = 200) -> Response:
    """The seed's success envelope: ``{"data": ...}``."""
    return Response({"data": data}, status=status)


def list_response(data, meta: dict) -> Response:
    """The seed's list envelope: ``{"data": [...], "meta": {...}}``."""
    return Response({"data": data, "meta": meta})


def message_response(message: str) -> Response:
    """The seed's answer to a removal: ``{"data": {"message": ...}}``."""
    return data_response({"message": message})


# --- views --------------------------------------------------------------------------------


TENANT_HEADER = OpenApiParameter(
    "x-tenant-id",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional (the seed's clients send no tenant header): the tenant, by its slug or its "
        "UUID. Without it the tenant is the credential's: an API key's own tenant, or the "
        "user's only tenant; a user of several tenants must send it (400 otherwise). An "
        "unknown tenant, or one the caller may not use: 403 (tenants/access.py)."
    ),
)


class B2BSchema(DialectSchema):
    """Every b2b operation documents the optional ``x-tenant-id`` header."""

    def get_override_parameters(self):
        return [TENANT_HEADER, *super().get_override_parameters()]


class B2BViewSet(DialectViewSet):
    """Base of every b2b viewset: the dialect's errors and renderer."""

    dialect = B2B
    renderer_classes = [B2BJSONRenderer]
    schema = B2BSchema()

    def access(self, request):
        """The tenant: ``x-tenant-id`` when sent, else the credential's only tenant."""
        return tenant_from_header_or_credential(request)

    def query(self, serializer_class):
        serializer = serializer_class(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
