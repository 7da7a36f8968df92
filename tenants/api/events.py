"""The hub dialect's events API: ``GET /api/hub/events`` and ``GET /api/hub/events/{id}``.

The outbox (``tenants.models.Event``) as the hub dialect lists things: newest first, cursor
paged, filtered by type (or type family), customer and time. The shape of each type's
``data`` is declared once, beside its builder (``b2b/events.py``), and the OpenAPI document
describes an event as one of a component per type (a discriminator on ``type``).
"""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiTypes,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.response import Response

from tenants import errors
from tenants.api.dialect import iso_timestamp
from tenants.api.hub import (
    TENANT_HEADER,
    CursorQuerySerializer,
    HubView,
    cursor_list_envelope,
    cursor_meta,
    data_envelope,
    page_by_id,
)
from tenants.events import KIND_OF, EventType, payload_schema, retention_days
from tenants.selectors import event_get, events_filter, events_visible

TAGS = ["hub: events"]

#: the types an event may have
EMITTED = [t.value for t in EventType]
#: ``customer.*``, ``address.*``...: every type of one record kind
FAMILIES = sorted({f"{t.partition('.')[0]}.*" for t in EMITTED})
MAX_TYPES = 50


# --- output ------------------------------------------------------------------------------------


class HubEventActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["user", "api_key", "system"],
        help_text="Who made the change: a user, an API key, or the system.",
    )
    id = serializers.CharField(
        allow_null=True, help_text="The user's id or the API key's id; null for the system."
    )
    name = serializers.CharField(
        help_text="The user's name, the API key's name (when the change was made), or what "
        "the system was doing (e.g. `manage.py import_customers`)."
    )
    origin = serializers.CharField(
        help_text="Through what: `admin`, `api:<dialect>` (e.g. `api:b2b`), "
        "`manage.py <command>`, or `system`."
    )


def _component(event_type: str) -> str:
    return "HubEvent" + "".join(p.title() for p in event_type.replace(".", "_").split("_"))


def _event_serializer(event_type: str):
    data = payload_schema(KIND_OF[event_type])
    return inline_serializer(
        name=_component(event_type),
        fields={
            "id": serializers.UUIDField(help_text="The event's id (the webhook-id)."),
            "type": serializers.ChoiceField(choices=[event_type]),
            "tenant": serializers.CharField(help_text="The tenant's slug."),
            "occurred_at": serializers.DateTimeField(
                help_text="When the change was made (ISO 8601, UTC)."
            ),
            "customer_id": serializers.UUIDField(
                allow_null=True, help_text="The customer the event is about."
            ),
            "actor": HubEventActorSerializer(),
            "request_id": serializers.CharField(
                allow_null=True, help_text="The X-Request-ID of the request that made it."
            ),
            "data": data(help_text="The record after the change (before it, for a deletion)."),
            "previous_attributes": serializers.DictField(
                allow_null=True,
                help_text="For an update: the earlier value of each field of `data` that "
                "changed; null otherwise.",
            ),
        },
    )


def event_schema(**kwargs) -> PolymorphicProxySerializer:
    return PolymorphicProxySerializer(
        component_name="HubEvent",
        serializers={t: _event_serializer(t) for t in EMITTED},
        resource_type_field_name="type",
        **kwargs,
    )


def event_output(event, tenant) -> dict:
    return {
        "id": str(event.uuid),
        "type": event.type,
        "tenant": tenant.slug,
        "occurred_at": iso_timestamp(event.occurred_at),
        "customer_id": None if event.customer_uuid is None else str(event.customer_uuid),
        "actor": {
            "type": event.actor.get("type", "system"),
            "id": event.actor.get("id"),
            "name": event.actor.get("name", ""),
            "origin": event.actor.get("origin", "system"),
        },
        "request_id": event.request_id or None,
        "data": event.data,
        "previous_attributes": event.previous_attributes,
    }


# --- input -------------------------------------------------------------------------------------


class EventListQuerySerializer(CursorQuerySerializer):
    customer = serializers.UUIDField(
        required=False, help_text="Only the events about this customer (its id)."
    )
    occurred_after = serializers.DateTimeField(
        required=False, help_text="Only the events that occurred after this time (exclusive)."
    )
    occurred_before = serializers.DateTimeField(
        required=False, help_text="Only the events that occurred before this time (exclusive)."
    )


TYPE_PARAMETER = OpenApiParameter(
    "type",
    {"type": "array", "items": {"type": "string", "enum": EMITTED + FAMILIES}},
    OpenApiParameter.QUERY,
    explode=True,
    description=(
        "Only these types: repeat the parameter (`type=customer.created&type=address.created`) "
        "or give a comma-separated list; `customer.*` stands for every type of a record kind. "
        "An unknown type is a 400."
    ),
)


def parse_types(values: list[str]) -> tuple[set[str], set[str]]:
    """``(types, family prefixes)`` of the ``type`` parameters; a 400 for an unknown one."""
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    unknown = [item for item in items if item not in EMITTED and item not in FAMILIES]
    if unknown or len(items) > MAX_TYPES:
        message = f"Unknown event type: {unknown[0][:64]}." if unknown else "Too many event types."
        raise errors.ValidationError(f"type: {message}", fields={"type": [message]})
    types = {item for item in items if item in EMITTED}
    families = {item[:-1] for item in items if item in FAMILIES}  # "customer.*" -> "customer."
    return types, families


EventListEnvelope = cursor_list_envelope("HubEventListEnvelope", event_schema(many=True))
EventEnvelope = data_envelope("HubEventEnvelope", event_schema())
EVENT_ID = OpenApiParameter(
    "event_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The event's id (a UUID)."
)


class EventListView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_event_list",
        summary="The tenant's change events",
        description=(
            "Every change of the tenant's customers and of what belongs to them (addresses, "
            "client-type tags, store links, B2B accounts, contacts, orders), whichever dialect, "
            "the admin, an import or a command made it: newest first (the order they were "
            f"written in), kept {retention_days()} days (HUB_EVENTS_RETENTION_DAYS). Each "
            "event carries the record after the change in the b2b dialect's shape (`data`) "
            "and, for an update, the earlier values of the fields that changed "
            "(`previous_attributes`); the type says which `data` it is. Viewers may read it. "
            "A member whose role is not admin does not see the store links of stores it has "
            "no active relation with. See docs/events.md."
        ),
        parameters=[TENANT_HEADER, EventListQuerySerializer, TYPE_PARAMETER],
        responses={200: EventListEnvelope},
    )
    def get(self, request):
        access = self.access(request)
        query = self.query(EventListQuerySerializer)
        types, families = parse_types(request.query_params.getlist("type"))
        qs = events_filter(
            events_visible(access=access),
            types=types,
            families=families,
            customer_uuid=query.get("customer"),
            after=query.get("occurred_after"),
            before=query.get("occurred_before"),
        )
        page, next_cursor = page_by_id(qs, query, descending=True, as_key=int, key_type=int)
        return Response(
            {
                "data": [event_output(event, access.tenant) for event in page],
                "meta": cursor_meta(limit=query["limit"], next_cursor=next_cursor),
            }
        )


class EventDetailView(HubView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_event_get",
        summary="One change event",
        description=(
            "One event by its id. Another tenant's event, one older than the retention, and a "
            "store link of a store the caller does not reach are a 404."
        ),
        parameters=[EVENT_ID, TENANT_HEADER],
        responses={200: EventEnvelope},
    )
    def get(self, request, event_id):
        access = self.access(request)
        event = event_get(access=access, event_id=event_id)
        return Response({"data": event_output(event, access.tenant)})
