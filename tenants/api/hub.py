"""The hub dialect's edge: the hub's own API under ``/api/hub/`` (DESIGN §4).

Each app serves its hub routes from ``<app>/api/hub/urls.py`` (mounted by config/urls.py)
over ``HubView``; everything that makes the dialect what it is lives here:

- authentication: a Bearer token (a user's, or an API key) or an API key (bare or Basic);
- the tenant: ``x-tenant-id`` (slug or UUID) when sent, otherwise the credential's only
  tenant, as in the b2b dialect (tenants.access.tenant_from_header_or_credential); a viewer
  reads, only admins and agents write;
- snake_case names; success bodies ``{"data": ...}``; lists ``{"data": [...], "meta":
  {"limit", "next_cursor"}}``, paged by an opaque cursor (``next_cursor`` is null on the
  last page; pass it back as ``cursor`` for the next);
- errors as b2b's: ``{"error": {"code", "message", "details"?, "request_id"}}``, 400 for
  invalid input (a bad cursor included), 401/403 for access, 404 for a missing or another
  tenant's id, 409 for a conflict with the current state.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from tenants import errors
from tenants.access import Access, tenant_from_header_or_credential
from tenants.api.dialect import DialectViewMixin, register
from tenants.api.envelopes import ErrorObjectDialect
from tenants.authentication import ApiKeyAuthentication, BearerAuthentication
from tenants.error_codes import ErrorCode

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR = 512


class HubDialect(ErrorObjectDialect):
    name = "hub"
    path_pattern = re.compile(r"^/api/hub(/|$)")
    validation_status = 400
    error_component = "HubError"
    error_description = "The hub API's error envelope (the b2b dialect's)."

    def caller_access(self, request, view_kwargs):
        """The caller's access to the tenant the request names, for reading (as b2b's)."""
        return tenant_from_header_or_credential(request, write=False)


HUB = register(HubDialect())

TENANT_HEADER = OpenApiParameter(
    "x-tenant-id",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The tenant: its slug or its UUID. Optional: without it, the credential's only tenant "
        "(an API key's; a user of several tenants gets a 400). Unknown, or not one the caller "
        "may use: 403."
    ),
)


def error_ref(description: str) -> OpenApiResponse:
    return OpenApiResponse(
        description=description,
        response={"$ref": f"#/components/schemas/{HUB.error_component}"},
    )


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(values: list) -> str:
    """An opaque cursor carrying ``values`` (JSON-serialisable)."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


INVALID_CURSOR = "Invalid cursor: pass back a next_cursor this API answered."


def decode_cursor(token: str) -> list:
    """The values of a cursor made by ``encode_cursor``; a 400 for anything else."""
    try:
        if len(token) > MAX_CURSOR:
            raise ValueError
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_cursor() from None
    return values


def invalid_cursor() -> errors.ValidationError:
    return errors.ValidationError(
        f"cursor: {INVALID_CURSOR}",
        fields={"cursor": [INVALID_CURSOR]},
        code=ErrorCode.INVALID_CURSOR,
    )


class CursorQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        max_length=MAX_CURSOR,
        help_text="The `meta.next_cursor` of the previous page; omit it for the first page.",
    )
    limit = serializers.IntegerField(
        required=False,
        default=DEFAULT_LIMIT,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text=f"Items per page, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    )


class CursorMetaSerializer(serializers.Serializer):
    limit = serializers.IntegerField()
    next_cursor = serializers.CharField(
        allow_null=True, help_text="The cursor of the next page; null on the last page."
    )


def uuid_key(value: str) -> uuid.UUID:
    """A cursor's key as a UUID primary key (``page_by_id``'s ``as_key``); ValueError when
    it is not one."""
    return uuid.UUID(value)


def page_by_id(queryset, query: dict, *, descending: bool, as_key=str, key_type: type = str):
    """A page of ``queryset`` by primary key after the ``query``'s cursor, and the next cursor.
    The cursor holds the last row's key as a ``key_type`` (a string, or an integer), which
    ``as_key`` turns into the primary key; anything else is the hub's 400 ``invalid_cursor``."""
    cursor = query.get("cursor")
    if cursor is not None:
        values = decode_cursor(cursor)
        if len(values) != 1 or type(values[0]) is not key_type:
            raise invalid_cursor()
        try:
            after = as_key(values[0])
        except (TypeError, ValueError):
            raise invalid_cursor() from None
        queryset = queryset.filter(pk__lt=after) if descending else queryset.filter(pk__gt=after)
    limit = query["limit"]
    rows = list(queryset.order_by("-pk" if descending else "pk")[: limit + 1])
    last = rows[limit - 1].pk if len(rows) > limit else None
    next_cursor = None if last is None else encode_cursor([key_type(last)])
    return rows[:limit], next_cursor


def cursor_meta(*, limit: int, next_cursor: str | None) -> dict:
    return {"limit": limit, "next_cursor": next_cursor}


# --- envelopes (OpenAPI) ------------------------------------------------------------------------


def data_envelope(name: str, serializer) -> serializers.Serializer:
    """``{"data": <serializer>}`` as a named component."""
    return inline_serializer(name=name, fields={"data": serializer})


def cursor_list_envelope(name: str, serializer) -> serializers.Serializer:
    """``{"data": [<serializer>], "meta": {"limit", "next_cursor"}}`` as a named component."""
    return inline_serializer(name=name, fields={"data": serializer, "meta": CursorMetaSerializer()})


# --- views --------------------------------------------------------------------------------------


class HubView(DialectViewMixin, APIView):
    """Base of every hub view: the dialect's credentials, errors and tenant resolution."""

    dialect = HUB
    authentication_classes = [BearerAuthentication, ApiKeyAuthentication]

    def access(self, request) -> Access:
        """The tenant: ``x-tenant-id`` when sent, else the credential's only tenant; a write
        needs a role that writes."""
        return tenant_from_header_or_credential(request)

    def query(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.query_params.dict())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
