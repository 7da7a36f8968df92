"""The hub dialect's customer routes, mounted at /api/hub/ by config/urls.py."""

from django.urls import path

from customers.api.hub import merges, views

urlpatterns = [
    path(
        "customers/<str:customer_id>/history",
        views.CustomerHistoryView.as_view(),
        name="hub-customer-history",
    ),
    path("merges", merges.MergeListView.as_view(), name="hub-merges"),
    path("merges/<str:merge_id>", merges.MergeDetailView.as_view(), name="hub-merge"),
    path("merges/<str:merge_id>/undo", merges.MergeUndoView.as_view(), name="hub-merge-undo"),
]
