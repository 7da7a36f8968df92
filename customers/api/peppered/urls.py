"""Routes under ``/v1/<client_name>/peppered/`` (config/urls.py); every view gets
``client_name``. ``customerId`` is captured as a string so that a malformed id is the
dialect's own 404."""

from django.urls import path

from customers.api.peppered import views

urlpatterns = [
    path("customer", views.CustomerCreateView.as_view(), name="peppered-customer-create"),
    path(
        "customer/findByEmail",
        views.FindByEmailView.as_view(),
        name="peppered-customer-find-by-email",
    ),
    path(
        "customer/<str:customerId>",
        views.CustomerDetailView.as_view(),
        name="peppered-customer-detail",
    ),
    path(
        "customer/<str:customerId>/clienttypes",
        views.CustomerClientTypesView.as_view(),
        name="peppered-customer-clienttypes",
    ),
    path(
        "export/clienttypes",
        views.ExportClientTypesView.as_view(),
        name="peppered-export-clienttypes",
    ),
    path(
        "export/customers",
        views.ExportCustomersView.as_view(),
        name="peppered-export-customers",
    ),
]
