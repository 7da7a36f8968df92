"""The hub dialect's customer routes, mounted at /api/hub/ by config/urls.py."""

from django.urls import path

from customers.api.hub import privacy, views

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
]
