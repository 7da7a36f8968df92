"""The hub dialect's customer routes: parse, resolve access, call one selector, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from customers.api.hub.serializers import HubHistoryEntrySerializer, entry_output
from customers.history import Position, customer_timeline
from customers.selectors import customer_get
from tenants.api.hub import (
    TENANT_HEADER,
    CursorQuerySerializer,
    HubView,
    cursor_list_envelope,
    cursor_meta,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
)
from tenants.selectors import store_ids_reached

TAGS = ["hub: customers"]
CUSTOMER_ID = OpenApiParameter(
    "customer_id", str, OpenApiParameter.PATH, description="The customer's id (a UUID)."
)
HistoryEnvelope = cursor_list_envelope(
    "HubCustomerHistoryEnvelope", HubHistoryEntrySerializer(many=True)
)


def position_from(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    try:
        return Position.from_values(decode_cursor(cursor))
    except ValueError:
        raise invalid_cursor() from None


class CustomerHistoryView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_customer_history",
        summary="A customer's history",
        description=(
            "One timeline of every recorded change of the customer and of what belongs to it "
            "(its addresses, store links, B2B account, contacts and orders), newest first: "
            "who (a user, an API key by its name, or the system), when, what, and for a "
            "change each field's old and new value as a person reads them (labels, not ids). "
            "A save that changed nothing is not an entry, so a page may hold fewer than "
            "`limit` entries and still have a `next_cursor`. Viewers may read it. Another "
            "tenant's customer is a 404. A user whose role is not admin sees the store links of "
            "the stores it has an active relation with only, as in the store dialect."
        ),
        parameters=[CUSTOMER_ID, TENANT_HEADER, CursorQuerySerializer],
        responses={200: HistoryEnvelope},
    )
    def get(self, request, customer_id):
        access = self.access(request)
        query = self.query(CursorQuerySerializer)
        after = position_from(query.get("cursor"))
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        page = customer_timeline(
            customer=customer,
            limit=query["limit"],
            after=after,
            store_ids=store_ids_reached(access=access),
        )
        next_cursor = encode_cursor(page.next.as_values()) if page.next is not None else None
        return Response(
            {
                "data": [entry_output(entry) for entry in page.entries],
                "meta": cursor_meta(limit=query["limit"], next_cursor=next_cursor),
            }
        )
