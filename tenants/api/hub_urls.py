"""The hub dialect's routes of the shared kernel (the events API, webhook endpoints), mounted
at /api/hub/ by config/urls.py."""

from django.urls import path

from tenants.api import events, webhooks

ENDPOINT = "webhook-endpoints/<str:endpoint_id>"
DELIVERY = f"{ENDPOINT}/deliveries/<str:delivery_id>"

urlpatterns = [
    path("events", events.EventListView.as_view(), name="hub-event-list"),
    path("events/<str:event_id>", events.EventDetailView.as_view(), name="hub-event-detail"),
    path(
        "events/<str:event_id>/resend",
        webhooks.EventResendView.as_view(),
        name="hub-event-resend",
    ),
    path(
        "webhook-endpoints",
        webhooks.WebhookEndpointListView.as_view(),
        name="hub-webhook-endpoints",
    ),
    path(ENDPOINT, webhooks.WebhookEndpointDetailView.as_view(), name="hub-webhook-endpoint"),
    path(
        f"{ENDPOINT}/rotate-secret",
        webhooks.WebhookEndpointRotateView.as_view(),
        name="hub-webhook-endpoint-rotate",
    ),
    path(
        f"{ENDPOINT}/replay",
        webhooks.WebhookEndpointReplayView.as_view(),
        name="hub-webhook-endpoint-replay",
    ),
    path(
        f"{ENDPOINT}/deliveries",
        webhooks.WebhookDeliveryListView.as_view(),
        name="hub-webhook-deliveries",
    ),
    path(
        f"{DELIVERY}/attempts",
        webhooks.WebhookAttemptListView.as_view(),
        name="hub-webhook-attempts",
    ),
    path(
        f"{DELIVERY}/resend",
        webhooks.WebhookDeliveryResendView.as_view(),
        name="hub-webhook-delivery-resend",
    ),
]
