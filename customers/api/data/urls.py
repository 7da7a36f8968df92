"""Mounted at ``api/data/customer`` (no trailing slash) by config/urls.py: the collection is
"" and everything else hangs under "/" (so ids follow a slash, and nothing ends in one)."""

from django.urls import include, path

from customers.api.data import views

customer_patterns = [
    path("<str:id>", views.CustomerDetailView.as_view(), name="data-customer"),
    path("<str:id>/address", views.AddressCollectionView.as_view(), name="data-addresses"),
    path(
        "<str:id>/address/<path:addressId>",
        views.AddressDetailView.as_view(),
        name="data-address",
    ),
    path(
        "<str:id>/default-address",
        views.DefaultAddressView.as_view(),
        name="data-default-address",
    ),
    path("<str:id>/link", views.LinkView.as_view(), name="data-link"),
]

urlpatterns = [
    path("", views.CustomerCollectionView.as_view(), name="data-customers"),
    path("/", include(customer_patterns)),
]
