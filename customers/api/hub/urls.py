"""The hub dialect's customer routes, mounted at /api/hub/ by config/urls.py."""

from django.urls import path

from customers.api.hub import duplicates, merges, privacy, views

urlpatterns = [
    path(
        "customers/<str:customer_id>/history",
        views.CustomerHistoryView.as_view(),
        name="hub-customer-history",
    ),
    path(
        "customers/<str:customer_id>/export",
        privacy.CustomerExportView.as_view(),
        name="hub-customer-export",
    ),
    path(
        "customers/<str:customer_id>/erase",
        privacy.CustomerEraseView.as_view(),
        name="hub-customer-erase",
    ),
    path("exports/<str:export_id>", privacy.ExportDetailView.as_view(), name="hub-export"),
    path(
        "exports/<str:export_id>/download",
        privacy.ExportDownloadView.as_view(),
        name="hub-export-download",
    ),
    path("merges", merges.MergeListView.as_view(), name="hub-merges"),
    path("merges/<str:merge_id>", merges.MergeDetailView.as_view(), name="hub-merge"),
    path("merges/<str:merge_id>/undo", merges.MergeUndoView.as_view(), name="hub-merge-undo"),
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
