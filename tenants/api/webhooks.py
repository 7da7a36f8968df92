"""The hub dialect's webhook routes (``/api/hub/webhook-endpoints``): a tenant's admins manage
its endpoints, read their deliveries and attempts, rotate the secret, replay and resend.

Agents, viewers and API keys get a 403 (the endpoints decide where the tenant's data goes);
another tenant's endpoint is a 404 like a missing one. Nothing here delivers: a replay or a
resend only queues deliveries for the worker (tenants/delivery.py).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from tenants import errors, selectors, services
from tenants.api.dialect import iso_timestamp
from tenants.api.hub import (
    TENANT_HEADER,
    CursorQuerySerializer,
    HubView,
    cursor_list_envelope,
    cursor_meta,
    data_envelope,
    page_by_id,
    uuid_key,
)
from tenants.models import Role, WebhookDelivery

TAGS = ["hub: webhooks"]
ENDPOINT_ID = OpenApiParameter(
    "endpoint_id", str, OpenApiParameter.PATH, description="The webhook endpoint's id (a UUID)."
)
DELIVERY_ID = OpenApiParameter(
    "delivery_id", str, OpenApiParameter.PATH, description="The delivery's id (an integer)."
)
ADMINS_ONLY = (
    " Only the tenant's admins (a user token; API keys, agents and viewers get a 403); another "
    "tenant's endpoint is a 404."
)
EVENT_TYPES_HELP = (
    'Event types to deliver, e.g. `["customer.updated", "address.*"]` (`<prefix>.*` matches '
    "every type under the prefix); empty: every type."
)


# --- shapes -----------------------------------------------------------------------------------


class EndpointSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField(), help_text=EVENT_TYPES_HELP)
    enabled = serializers.BooleanField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField(
        help_text="Why the endpoint is disabled (a 410 answer, 3 days of failures, an admin); "
        "empty while enabled."
    )
    failing_since = serializers.DateTimeField(
        allow_null=True, help_text="Every attempt since this time failed; null when healthy."
    )
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True,
        help_text="After a rotation, the previous secret also signs until then; null otherwise.",
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (`whsec_...`, Standard Webhooks). Shown only in this "
        "answer: store it now; it cannot be read again, only rotated."
    )


def endpoint_output(endpoint, secret: str | None = None) -> dict:
    out = {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "enabled": endpoint.enabled,
        "disabled_at": iso_timestamp(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": iso_timestamp(endpoint.failing_since),
        "previous_secret_expires_at": iso_timestamp(endpoint.previous_secret_expires_at),
        "created_at": iso_timestamp(endpoint.created_at),
        "updated_at": iso_timestamp(endpoint.updated_at),
    }
    if secret is not None:
        out["secret"] = secret
    return out


class EndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=2000,
        help_text="The receiver: an https:// URL whose host resolves to public addresses only "
        "(checked now and at every delivery).",
    )
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=100,
        required=False,
        default=list,
        help_text=EVENT_TYPES_HELP,
    )
    description = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    enabled = serializers.BooleanField(required=False, default=True)


class EndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=100,
        required=False,
        help_text=EVENT_TYPES_HELP,
    )
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    enabled = serializers.BooleanField(
        required=False,
        help_text="false: no new deliveries, the pending ones wait; true: clears the disabled "
        "notice, and the pending deliveries resume.",
    )


class RotateSerializer(serializers.Serializer):
    overlap_hours = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=168,
        help_text="How long the previous secret keeps signing beside the new one (default "
        "HUB_WEBHOOKS_ROTATION_OVERLAP_HOURS, 24); 0 drops it at once.",
    )


class ReplaySerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        help_text="Deliver again every event of the endpoint's types since this time (as long "
        "as the outbox keeps it), in order."
    )


class QueuedSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Deliveries queued for the worker.")


class DeliverySerializer(serializers.Serializer):
    id = serializers.CharField()
    event_id = serializers.UUIDField(help_text="The event's id (its `webhook-id` header).")
    event_type = serializers.CharField()
    status = serializers.CharField(
        help_text="`pending` (queued or retrying), `delivered` (a 2xx answer), `failed` (given "
        "up after the retry window, or a 410).",
    )
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


def delivery_output(delivery) -> dict:
    pending = delivery.status == WebhookDelivery.Status.PENDING
    return {
        "id": str(delivery.id),
        "event_id": str(delivery.event.uuid),
        "event_type": delivery.event.type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": iso_timestamp(delivery.next_attempt_at) if pending else None,
        "last_status_code": delivery.last_status_code,
        "created_at": iso_timestamp(delivery.created_at),
        "delivered_at": iso_timestamp(delivery.delivered_at),
    }


class AttemptSerializer(serializers.Serializer):
    id = serializers.CharField()
    attempted_at = serializers.DateTimeField()
    succeeded = serializers.BooleanField()
    status_code = serializers.IntegerField(
        allow_null=True, help_text="The receiver's status; null when no answer came."
    )
    latency_ms = serializers.IntegerField()
    response_excerpt = serializers.CharField(help_text="The answer's first 1,000 characters.")
    error = serializers.CharField(help_text="A timeout, a refused connection, a refused URL.")


def attempt_output(attempt) -> dict:
    return {
        "id": str(attempt.id),
        "attempted_at": iso_timestamp(attempt.attempted_at),
        "succeeded": attempt.succeeded,
        "status_code": attempt.status_code,
        "latency_ms": attempt.latency_ms,
        "response_excerpt": attempt.response_excerpt,
        "error": attempt.error,
    }


EndpointEnvelope = data_envelope("HubWebhookEndpointEnvelope", EndpointSerializer())
EndpointSecretEnvelope = data_envelope(
    "HubWebhookEndpointWithSecretEnvelope", EndpointWithSecretSerializer()
)
EndpointListEnvelope = cursor_list_envelope(
    "HubWebhookEndpointListEnvelope", EndpointSerializer(many=True)
)
DeliveryEnvelope = data_envelope("HubWebhookDeliveryEnvelope", DeliverySerializer())
DeliveryListEnvelope = cursor_list_envelope(
    "HubWebhookDeliveryListEnvelope", DeliverySerializer(many=True)
)
AttemptListEnvelope = cursor_list_envelope(
    "HubWebhookAttemptListEnvelope", AttemptSerializer(many=True)
)
QueuedEnvelope = data_envelope("HubWebhookQueuedEnvelope", QueuedSerializer())


# --- views ------------------------------------------------------------------------------------


def _int_key(value: str) -> int:
    number = int(value)
    if not 0 < number < 2**63:
        raise ValueError
    return number


class WebhookView(HubView):
    def admin_access(self, request):
        access = self.access(request)
        if access.role != Role.ADMIN or access.api_key is not None:
            raise errors.PermissionDenied("Only the tenant's admins manage webhook endpoints.")
        return access

    def endpoint(self, request, endpoint_id):
        access = self.admin_access(request)
        return selectors.webhook_endpoint_get(tenant=access.tenant, endpoint_id=endpoint_id)

    def body(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class WebhookEndpointListView(WebhookView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_endpoints_list",
        summary="List the webhook endpoints",
        description="The tenant's endpoints, oldest first (no secrets)." + ADMINS_ONLY,
        parameters=[TENANT_HEADER, CursorQuerySerializer],
        responses={200: EndpointListEnvelope},
    )
    def get(self, request):
        access = self.admin_access(request)
        query = self.query(CursorQuerySerializer)
        rows, next_cursor = page_by_id(
            selectors.webhook_endpoints_for(tenant=access.tenant),
            query,
            descending=False,
            as_key=uuid_key,
        )
        return Response(
            {
                "data": [endpoint_output(e) for e in rows],
                "meta": cursor_meta(limit=query["limit"], next_cursor=next_cursor),
            }
        )

    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_endpoints_create",
        summary="Create a webhook endpoint",
        description=(
            "Events of the tenant (of the given types) are delivered to the URL from now on, "
            "signed per Standard Webhooks with the secret of this answer, which is shown only "
            "once. A URL that is not https, or whose host resolves to a loopback, private, "
            "link-local or metadata address, is a 400 `unsafe_url`." + ADMINS_ONLY
        ),
        parameters=[TENANT_HEADER],
        request=EndpointCreateSerializer,
        responses={201: EndpointSecretEnvelope},
    )
    def post(self, request):
        access = self.admin_access(request)
        data = self.body(EndpointCreateSerializer)
        endpoint, secret = services.webhook_endpoint_create(tenant=access.tenant, **data)
        return Response({"data": endpoint_output(endpoint, secret)}, status=201)


class WebhookEndpointDetailView(WebhookView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_endpoints_retrieve",
        summary="A webhook endpoint",
        description="The endpoint (no secret), with its disabled notice if any." + ADMINS_ONLY,
        parameters=[ENDPOINT_ID, TENANT_HEADER],
        responses={200: EndpointEnvelope},
    )
    def get(self, request, endpoint_id):
        return Response({"data": endpoint_output(self.endpoint(request, endpoint_id))})

    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_endpoints_update",
        summary="Change a webhook endpoint",
        description="Only the given fields change; `enabled` disables or re-enables it."
        + ADMINS_ONLY,
        parameters=[ENDPOINT_ID, TENANT_HEADER],
        request=EndpointUpdateSerializer,
        responses={200: EndpointEnvelope},
    )
    def patch(self, request, endpoint_id):
        endpoint = self.endpoint(request, endpoint_id)
        data = self.body(EndpointUpdateSerializer)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **data)
        return Response({"data": endpoint_output(endpoint)})

    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_endpoints_delete",
        summary="Delete a webhook endpoint",
        description="The endpoint, its deliveries and their attempts." + ADMINS_ONLY,
        parameters=[ENDPOINT_ID, TENANT_HEADER],
        responses={204: OpenApiResponse(description="Deleted.")},
    )
    def delete(self, request, endpoint_id):
        services.webhook_endpoint_delete(endpoint=self.endpoint(request, endpoint_id))
        return Response(status=204)


class WebhookEndpointRotateView(WebhookView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_endpoints_rotate_secret",
        summary="Rotate the signing secret",
        description=(
            "A new secret, shown only in this answer. During the overlap every delivery carries "
            "two signatures (the new and the previous secret's), so the receiver can switch "
            "without losing any." + ADMINS_ONLY
        ),
        parameters=[ENDPOINT_ID, TENANT_HEADER],
        request=RotateSerializer,
        responses={200: EndpointSecretEnvelope},
    )
    def post(self, request, endpoint_id):
        endpoint = self.endpoint(request, endpoint_id)
        data = self.body(RotateSerializer)
        endpoint, secret = services.webhook_secret_rotate(
            endpoint=endpoint, overlap_hours=data.get("overlap_hours")
        )
        return Response({"data": endpoint_output(endpoint, secret)})


class WebhookEndpointReplayView(WebhookView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_endpoints_replay",
        summary="Replay events since a time",
        description=(
            "Queues every event of the endpoint's types since `since` again (delivered or not), "
            "for the worker to deliver in order." + ADMINS_ONLY
        ),
        parameters=[ENDPOINT_ID, TENANT_HEADER],
        request=ReplaySerializer,
        responses={202: QueuedEnvelope},
    )
    def post(self, request, endpoint_id):
        endpoint = self.endpoint(request, endpoint_id)
        data = self.body(ReplaySerializer)
        queued = services.webhook_endpoint_replay(endpoint=endpoint, since=data["since"])
        return Response({"data": {"queued": queued}}, status=202)


class WebhookDeliveryListView(WebhookView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_deliveries_list",
        summary="An endpoint's deliveries",
        description="Newest first." + ADMINS_ONLY,
        parameters=[ENDPOINT_ID, TENANT_HEADER, CursorQuerySerializer],
        responses={200: DeliveryListEnvelope},
    )
    def get(self, request, endpoint_id):
        endpoint = self.endpoint(request, endpoint_id)
        query = self.query(CursorQuerySerializer)
        rows, next_cursor = page_by_id(
            selectors.webhook_deliveries_for(endpoint=endpoint),
            query,
            descending=True,
            as_key=_int_key,
        )
        return Response(
            {
                "data": [delivery_output(d) for d in rows],
                "meta": cursor_meta(limit=query["limit"], next_cursor=next_cursor),
            }
        )


class WebhookAttemptListView(WebhookView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_attempts_list",
        summary="A delivery's attempts",
        description="Every HTTP attempt, newest first: status, latency, the answer's start."
        + ADMINS_ONLY,
        parameters=[ENDPOINT_ID, DELIVERY_ID, TENANT_HEADER, CursorQuerySerializer],
        responses={200: AttemptListEnvelope},
    )
    def get(self, request, endpoint_id, delivery_id):
        endpoint = self.endpoint(request, endpoint_id)
        delivery = selectors.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        query = self.query(CursorQuerySerializer)
        rows, next_cursor = page_by_id(
            selectors.webhook_attempts_for(delivery=delivery),
            query,
            descending=True,
            as_key=_int_key,
        )
        return Response(
            {
                "data": [attempt_output(a) for a in rows],
                "meta": cursor_meta(limit=query["limit"], next_cursor=next_cursor),
            }
        )


class WebhookDeliveryResendView(WebhookView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_webhook_deliveries_resend",
        summary="Resend a delivery",
        description="Queues the delivery again, now (delivered or given up: once more)."
        + ADMINS_ONLY,
        parameters=[ENDPOINT_ID, DELIVERY_ID, TENANT_HEADER],
        request=None,
        responses={202: DeliveryEnvelope},
    )
    def post(self, request, endpoint_id, delivery_id):
        endpoint = self.endpoint(request, endpoint_id)
        delivery = selectors.webhook_delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        delivery = services.webhook_delivery_resend(delivery_obj=delivery)
        return Response({"data": delivery_output(delivery)}, status=202)


EVENT_ID = OpenApiParameter(
    "event_id", str, OpenApiParameter.PATH, description="The event's id (its `webhook-id`)."
)


class EventResendView(WebhookView):
    @extend_schema(
        tags=TAGS,
        operation_id="hub_events_resend",
        summary="Resend an event to the webhook endpoints",
        description=(
            "Queues the event again for every enabled endpoint of the tenant that takes its "
            "type (also one created since the event), for the worker to deliver." + ADMINS_ONLY
        ),
        parameters=[EVENT_ID, TENANT_HEADER],
        request=None,
        responses={202: QueuedEnvelope},
    )
    def post(self, request, event_id):
        access = self.admin_access(request)
        event = selectors.event_get(access=access, event_id=event_id)
        return Response(
            {"data": {"queued": services.webhook_event_resend(event=event)}}, status=202
        )
