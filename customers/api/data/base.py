"""The data dialect's edge (seed 000, ``/api/data/customer``).

Quirks of this dialect, and only of this dialect, live here:

- errors: ``{"message": str, "errors"?: {field: [str]}, "requestId": str}``, validation
  failures are 400, field names in ``errors`` are the wire's camelCase names;
- the list is a bare JSON array, streamed in keyset batches so memory stays flat;
- optional keyset pages (``limit``/``cursor``) with the next cursor in the ``X-Next-Cursor``
  and ``Link: <…>; rel="next"`` response headers.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.models import Source
from tenants import errors
from tenants.access import tenant_from_header
from tenants.api.compiled import Computed, renders
from tenants.api.dialect import Dialect, ErrorInfo, register
from tenants.api.renderers import JSONRenderer
from tenants.error_codes import ErrorCode

#: rows fetched per query when the whole list is streamed
BATCH_SIZE = 1000
#: keyset pages: ``limit`` is 1..MAX_PAGE_LIMIT, DEFAULT_PAGE_LIMIT when only a cursor is sent
MAX_PAGE_LIMIT = 1000
DEFAULT_PAGE_LIMIT = 100
NEXT_CURSOR_HEADER = "X-Next-Cursor"

# Model field names that services may report, as this dialect names them on the wire.
_WIRE_NAMES = {
    "user": "userId",
    "user_id": "userId",
    "key": "addressId",
    "default_address": "defaultAddressId",
    "uuid": "id",
}


def wire_name(name: str) -> str:
    """A field name as the data dialect spells it (camelCase)."""
    if name == "non_field_errors":
        return name
    head, dot, rest = name.partition(".")
    if head in _WIRE_NAMES:
        head = _WIRE_NAMES[head]
    elif "_" in head:
        first, *others = head.split("_")
        head = first + "".join(part[:1].upper() + part[1:] for part in others)
    return head + dot + (wire_name(rest) if rest else "")


class DataDialect(Dialect):
    name = "data"
    path_pattern = re.compile(r"^/api/data/customer(/|$)")
    validation_status = 400
    error_component = "DataError"

    def caller_access(self, request, view_kwargs):
        return tenant_from_header(request, write=False)

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "description": (
                "Every error of the data dialect. `errors` (validation failures only) maps a "
                "request field (camelCase) to its messages; `requestId` is the request's "
                "X-Request-ID."
            ),
            "properties": {
                "message": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "requestId": {"type": "string"},
            },
            "required": ["message", "requestId"],
            "additionalProperties": False,
        }

    def render_error(self, info: ErrorInfo) -> dict:
        body: dict = {"message": info.message}
        if info.fields:
            fields: dict[str, list[str]] = {}
            for name, messages in info.fields.items():
                fields.setdefault(wire_name(name), []).extend(messages)
            body["errors"] = fields
        body["requestId"] = info.request_id
        return body


DATA = register(DataDialect())


# --- the seed's values -----------------------------------------------------------------------

#: the customer sources the seed knows, and how every other origin is shown: DISCORD and
#: EMAIL as they are; a customer made by a store, for a platform user or through another
#: API was entered by a person or a system, not through Discord or an email sign-up, which
#: is what the seed's MANUAL stands for
WIRE_SOURCE = {
    Source.DISCORD: Source.DISCORD,
    Source.EMAIL: Source.EMAIL,
    Source.MANUAL: Source.MANUAL,
    Source.STORE: Source.MANUAL,
    Source.USER: Source.MANUAL,
    Source.API: Source.MANUAL,
}
WIRE_SOURCES = [Source.DISCORD, Source.EMAIL, Source.MANUAL]
SOURCE_HELP = (
    "How the record was created: DISCORD, EMAIL or MANUAL, the seed's values. A customer "
    "created by a store, for a platform user or through another dialect shows MANUAL."
)
DISCORD_HELP = "null for a customer that did not come from Discord (created elsewhere)."
PHONE_OUT_HELP = (
    'E.164 (e.g. "+31612345678"), the one form every phone is stored in; "" when unknown.'
)
PHONE_IN_HELP = (
    'Any common form: "+31 6 12345678", or a national number of the tenant\'s default region '
    '("06 12345678" in a tenant whose region is NL). Stored and shown in E.164; a value that '
    'is not a phone number is a 400 naming the field. null or "" clears it.'
)


def wire_source(source: str) -> str:
    """A stored source as the seed names it (``WIRE_SOURCE``)."""
    return WIRE_SOURCE.get(source, Source.MANUAL)


# --- output fields ----------------------------------------------------------------------------


@renders(wire_source)
class WireSourceField(serializers.ChoiceField):
    """``source``, as the seed names it (``wire_source``)."""

    def to_representation(self, value):
        return wire_source(value)


@extend_schema_field({"type": ["string", "null"], "description": "An `addressId`, or null."})
class DefaultAddressIdField(Computed, serializers.Field):
    """The ``addressId`` of the customer's default address, found among its addresses (a
    customer's ``address_list``, or a row's): null without one."""

    reads = ("default_address_id", "address_list")
    columns = ("default_address_id",)  # the addresses are attached to the rows

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def compute(self, default, addresses):
        if default is None:
            return None
        for address in addresses:
            if address.__class__ is dict:
                if address["id"] == default:
                    return address["key"]
            elif address.id == default:
                return address.key
        return None

    def to_representation(self, value):
        return value


# --- keyset pagination ------------------------------------------------------------------------

_CURSOR_PREFIX = "after:"


def encode_cursor(pk: int) -> str:
    raw = f"{_CURSOR_PREFIX}{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The primary key a cursor points after; a malformed cursor is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError(raw)
        digits = raw[len(_CURSOR_PREFIX) :]
        if not digits.isdigit() or len(digits) > 19:
            raise ValueError(raw)
        pk = int(digits)
        if pk >= 2**63:
            raise ValueError(raw)
        return pk
    except (ValueError, UnicodeError, binascii.Error):
        message = "Invalid cursor: use the X-Next-Cursor value of a previous page."
        raise errors.ValidationError(
            message, fields={"cursor": [message]}, code=ErrorCode.INVALID_CURSOR
        ) from None


def next_page_headers(request, *, limit: int, last_pk: int) -> dict[str, str]:
    cursor = encode_cursor(last_pk)
    url = request.build_absolute_uri(
        request.path + "?" + urlencode({"limit": limit, "cursor": cursor})
    )
    return {NEXT_CURSOR_HEADER: cursor, "Link": f'<{url}>; rel="next"'}


# --- streaming --------------------------------------------------------------------------------


def _items(data: list) -> bytes:
    """A rendered JSON array without its brackets (the items, comma-separated)."""
    return JSONRenderer().render(data)[1:-1]


def stream_json_array(
    fetch: Callable[[int, int], list],
    pk_of: Callable[[object], int],
    render: Callable[[list], list],
    *,
    batch_size: int | None = None,
) -> StreamingHttpResponse:
    """Stream every row as one bare JSON array.

    ``fetch(after_pk, size)`` returns the next keyset batch (ascending primary key),
    ``render(rows)`` turns a batch into JSON-ready data. At most one batch is in memory.
    """
    size = batch_size or BATCH_SIZE

    def chunks() -> Iterator[bytes]:
        yield b"["
        after, first = 0, True
        while True:
            rows = fetch(after, size)
            if rows:
                items = _items(render(rows))
                yield items if first else b"," + items
                first = False
                after = pk_of(rows[-1])
            if len(rows) < size:
                break
        yield b"]"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response
