"""The store dialect's edge (seed 001): ``/customers``.

Everything that makes this dialect look like the original NestJS service lives here:

- errors: ``{"message": str, "statusCode": int, "requestId": str}`` for every status (400,
  401, 403, 404, 405, 413, 415, 429, 500); validation failures are 400 with one readable
  message ("limit must be between 1 and 100"), worded as class-validator words them;
- unknown routes answer 404 ``"Cannot <METHOD> <path>"`` (NestJS's wording); unexpected
  errors answer 500 with the seed's per-operation message ("Failed to fetch customers"…);
- timestamps as JavaScript's ``Date.toISOString()`` prints them (``…T10:00:00.000Z``);
- the wire names of the sort fields, and the ``{data, pagination}`` page arithmetic;
- authentication: ``Authorization: Bearer <user token | API key>`` only, as in the seed.
"""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from stores.access import store_from_header
from tenants.api.compiled import renders
from tenants.api.dialect import Dialect, ErrorInfo, register
from tenants.api.viewsets import DialectSchema, DialectViewSet
from tenants.authentication import BearerAuthentication

#: wire ``sortBy`` -> the selector's sort key
SORT_FIELDS = {
    "name": "name",
    "isActive": "is_active",
    "updatedAt": "updated_at",
    "createdAt": "created_at",
}
SORT_ORDERS = ("asc", "desc")
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_PAGE = 2_147_483_647
MAX_BULK_IDS = 1000

#: model field name -> wire name (for errors raised by the shared services)
MODEL_TO_WIRE = {"local_name": "localName", "price_list": "priceListId", "is_active": "isActive"}

#: the seed's message for an unexpected error, per operation
FAILURE_MESSAGES = (
    ("GET", re.compile(r"^/customers$"), "Failed to fetch customers"),
    ("POST", re.compile(r"^/customers$"), "Failed to create customer"),
    ("PUT", re.compile(r"^/customers/[^/]+/price-list$"), "Failed to update customer price list"),
    (
        "DELETE",
        re.compile(r"^/customers/[^/]+/price-list$"),
        "Failed to remove customer price list",
    ),
)


class StoreDialect(Dialect):
    name = "store"
    path_pattern = re.compile(r"^/customers(/|$)")
    validation_status = 400
    error_component = "StoreError"

    def caller_access(self, request, view_kwargs):
        return store_from_header(request, write=False)

    def error_info(self, exc, request) -> ErrorInfo:
        info = super().error_info(exc, request)
        if info.status == 400 and info.fields:
            info.message = readable_message(info.fields, info.message)
        elif info.status == 404 and isinstance(exc, Http404) and request is not None:
            info.message = f"Cannot {request.method} {request.path}"
        elif info.status == 500:
            info.message = failure_message(request)
        return info

    def render_error(self, info: ErrorInfo) -> dict:
        return {"message": info.message, "statusCode": info.status, "requestId": info.request_id}

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "description": (
                "Every error of the store dialect, whatever its status (the seed's format, "
                "plus the request id that is also sent as the X-Request-ID header). "
                "Validation failures are 400 with one readable message naming the field."
            ),
            "properties": {
                "message": {"type": "string", "examples": ["You do not have access to this store"]},
                "statusCode": {"type": "integer", "examples": [403]},
                "requestId": {"type": "string"},
            },
            "required": ["message", "statusCode", "requestId"],
            "additionalProperties": False,
        }


STORE = register(StoreDialect())


def readable_message(fields: dict[str, list[str]], fallback: str) -> str:
    """The first field error as one sentence that names its field (by its wire name)."""
    for name, messages in fields.items():
        if not messages:
            continue
        message = messages[0]
        if name in ("non_field_errors", ""):
            return message
        head = name.split(".")[0]
        wire = MODEL_TO_WIRE.get(head, head)
        if wire.lower() in message.lower():
            return message
        return f"{wire}: {message}"
    return fallback


def failure_message(request) -> str:
    if request is not None:
        for method, pattern, message in FAILURE_MESSAGES:
            if request.method == method and pattern.match(request.path):
                return message
    return "Internal Server Error"


def messages(field: str, **extra: str) -> dict[str, str]:
    """DRF error messages for ``field``, worded as class-validator words them."""
    base = {
        "required": f"{field} is required",
        "null": f"{field} is required",
        "blank": f"{field} must not be empty",
        "invalid": f"{field} must be a string",
        "max_length": (f"{field} must be shorter than or equal to {{max_length}} characters"),
    }
    base.update(extra)
    return base


# --- fields -----------------------------------------------------------------------------------


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's CharField also accepts numbers and booleans)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string (DRF's UUIDField also turns integers into UUIDs)."""

    def to_internal_value(self, data):
        if isinstance(data, uuid.UUID):
            return data
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


def js_timestamp(value):
    """UTC with milliseconds and ``Z``, as JavaScript's ``Date.toISOString()``."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@renders(js_timestamp)
class IsoDateTimeField(serializers.DateTimeField):
    """UTC with milliseconds and ``Z``, as JavaScript's ``Date.toISOString()``."""

    def to_representation(self, value):
        return js_timestamp(value)


# --- pagination -------------------------------------------------------------------------------


def pagination(*, page: int, limit: int, total: int) -> dict:
    """The seed's pagination object. ``totalPages`` is ``ceil(total / limit)`` (0 when there
    is nothing); a page beyond the last is not an error: it has no ``data``, ``hasNext``
    false and ``hasPrev`` true."""
    total_pages = math.ceil(total / limit)
    return {
        "page": page,
        "limit": limit,
        "total": total,
        "totalPages": total_pages,
        "hasNext": page < total_pages,
        "hasPrev": page > 1,
    }


# --- success envelopes (the seed's) ----------------------------------------------------------


def page_envelope(*, items, page: int, limit: int, total: int) -> dict:
    """``GET /customers``: the page's links and the seed's pagination object."""
    return {"data": items, "pagination": pagination(page=page, limit=limit, total=total)}


def removed_envelope(count: int) -> dict:
    """``DELETE /customers/bulk``: how many of the store's links went."""
    return {"message": "Customers removed from store", "deletedCount": count}


def price_list_envelope(link, *, removed: bool = False) -> dict:
    """``PUT``/``DELETE /customers/{customerId}/price-list``: the link, with the seed's
    message."""
    message = (
        "Customer price list has been removed"
        if removed
        else "Customer price list has been updated"
    )
    return {"success": True, "message": message, "customer": link}


# --- views and OpenAPI ------------------------------------------------------------------------

#: a UUID in its usual text form; declared as a string with a pattern rather than
#: ``format: uuid``, which makes generated clients send a UUID object as a header value
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
STORE_HEADER = OpenApiParameter(
    "x-store-id",
    {
        "type": "string",
        "pattern": UUID_PATTERN,
        "examples": ["0190a6e4-6b8e-7c41-9d2a-5f3e8b1c2d4e"],
    },
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "The store whose customers are read or changed: its id, a UUID as text. Missing or "
        "not a UUID: 400; an unknown or inactive store, or one the caller has no active "
        "relation with: 403. Tenant admins and the tenant's API keys reach every store of "
        "the tenant."
    ),
)
ERROR_REF = {"$ref": f"#/components/schemas/{STORE.error_component}"}


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_REF, description=description)


class DeleteWithBodySchema(DialectSchema):
    """drf-spectacular documents a request body only for POST, PUT and PATCH; this dialect's
    bulk removal is a DELETE with a JSON body (``{"ids": [...]}``), as the seed says."""

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class StoreViewSet(DialectViewSet):
    """Base of every store-dialect viewset: its envelope, and Bearer authentication only."""

    dialect = STORE
    authentication_classes = [BearerAuthentication]
    schema = DeleteWithBodySchema()
