"""The hub dialect's routes of the shared kernel (the events API), mounted at /api/hub/ by
config/urls.py."""

from django.urls import path

from tenants.api import events

urlpatterns = [
    path("events", events.EventListView.as_view(), name="hub-event-list"),
    path("events/<str:event_id>", events.EventDetailView.as_view(), name="hub-event-detail"),
]
