"""The hub dialect's customer routes, mounted at /api/hub/ by config/urls.py."""

from django.urls import path

from customers.api.hub import views

urlpatterns = [
    path(
        "customers/<str:customer_id>/history",
        views.CustomerHistoryView.as_view(),
        name="hub-customer-history",
    ),
]
