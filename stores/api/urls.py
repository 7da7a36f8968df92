"""Mounted at ``customers`` by config/urls.py: patterns start with a slash, never end with one.

``/bulk`` comes first and the price-list route needs two segments, so ``bulk`` is never
taken for a customer id.
"""

from django.urls import path

from stores.api import views

urlpatterns = [
    path("", views.StoreCustomersView.as_view(), name="store-customers"),
    path("/bulk", views.StoreCustomersBulkView.as_view(), name="store-customers-bulk"),
    path(
        "/<str:customerId>/price-list",
        views.StoreCustomerPriceListView.as_view(),
        name="store-customer-price-list",
    ),
]
