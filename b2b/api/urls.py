"""The b2b dialect (seed 003), mounted at /api/ by config/urls.py."""

from django.urls import path

from b2b.api import views

urlpatterns = [
    path("customers", views.CustomerListView.as_view(), name="b2b-customers"),
    path("customers/<str:customer_id>", views.CustomerDetailView.as_view(), name="b2b-customer"),
    path(
        "customers/<str:customer_id>/contacts",
        views.ContactListView.as_view(),
        name="b2b-contacts",
    ),
    path(
        "customers/<str:customer_id>/contacts/<str:contact_id>",
        views.ContactDetailView.as_view(),
        name="b2b-contact",
    ),
    path(
        "customers/<str:customer_id>/orders",
        views.CustomerOrdersView.as_view(),
        name="b2b-customer-orders",
    ),
    path(
        "customers/<str:customer_id>/analytics",
        views.CustomerAnalyticsView.as_view(),
        name="b2b-customer-analytics",
    ),
    path(
        "customers/<str:customer_id>/credit-check",
        views.CustomerCreditCheckView.as_view(),
        name="b2b-customer-credit-check",
    ),
    path("orders", views.OrderListView.as_view(), name="b2b-orders"),
    path("orders/<str:order_id>", views.OrderDetailView.as_view(), name="b2b-order"),
]
