"""The hub dialect's customer routes, mounted at /api/hub/ by config/urls.py."""

from django.urls import path

from customers.api.hub import duplicates, views

urlpatterns = [
    path(
        "customers/<str:customer_id>/history",
        views.CustomerHistoryView.as_view(),
        name="hub-customer-history",
    ),
    path(
        "customers/<str:customer_id>/duplicates",
        duplicates.CustomerDuplicatesView.as_view(),
        name="hub-customer-duplicates",
    ),
    path("duplicates", duplicates.DuplicatePairListView.as_view(), name="hub-duplicates"),
    path(
        "duplicates/<str:pair_id>/dismiss",
        duplicates.DuplicatePairDismissView.as_view(),
        name="hub-duplicates-dismiss",
    ),
]
