"""The dialects' routes, as their routers build them (issue 19 item 2): the seeds' exact,
slash-less paths with the same methods as the hand-written URL patterns had, each answered
by an action of the dialect's viewset; ids that look like a fixed segment are never taken
for one."""

from __future__ import annotations

import re

import pytest
from django.urls import Resolver404, resolve

from tenants.api.viewsets import DialectSchema, DialectViewSet
from tests.reliability_support import route_handlers
from tests.test_isolation_matrix import matrix_routes

#: route -> methods, as they were before the viewsets (the isolation matrix reads them)
ROUTES = {
    "api/data/customer": ["get", "post"],
    "api/data/customer/<str:id>": ["get", "patch", "delete"],
    "api/data/customer/<str:id>/address": ["post"],
    "api/data/customer/<str:id>/address/<path:addressId>": ["delete"],
    "api/data/customer/<str:id>/default-address": ["patch"],
    "api/data/customer/<str:id>/link": ["post"],
    "v1/<str:client_name>/peppered/customer": ["post"],
    "v1/<str:client_name>/peppered/customer/findByEmail": ["post"],
    "v1/<str:client_name>/peppered/customer/<str:customerId>": ["get", "put"],
    "v1/<str:client_name>/peppered/customer/<str:customerId>/clienttypes": ["get", "post"],
    "v1/<str:client_name>/peppered/export/clienttypes": ["get"],
    "v1/<str:client_name>/peppered/export/customers": ["post"],
    "customers": ["get", "post"],
    "customers/bulk": ["delete"],
    "customers/<str:customerId>/price-list": ["put", "delete"],
    "api/customers": ["get", "post"],
    "api/customers/<str:customer_id>": ["get", "put"],
    "api/customers/<str:customer_id>/contacts": ["post"],
    "api/customers/<str:customer_id>/contacts/<str:contact_id>": ["put", "delete"],
    "api/customers/<str:customer_id>/orders": ["get"],
    "api/customers/<str:customer_id>/analytics": ["get"],
    "api/customers/<str:customer_id>/credit-check": ["post"],
    "api/orders": ["post"],
    "api/orders/<str:order_id>": ["get", "patch"],
}
DIALECTS = {"data", "peppered", "store", "b2b"}
U = "00000000-0000-4000-8000-000000000001"


def test_every_dialect_route_keeps_its_path_and_methods():
    routes = {route: methods for route, dialect, methods in matrix_routes() if dialect in DIALECTS}
    assert routes == ROUTES


def test_every_dialect_route_is_an_action_of_a_documented_viewset():
    for route, dialect, _ in matrix_routes():
        if dialect not in DIALECTS:
            continue
        for view_class, action in route_handlers(resolve_route(route).func).values():
            assert issubclass(view_class, DialectViewSet), route
            assert isinstance(view_class.schema, DialectSchema), route
            # documented in the dialect's api/docs.py (extend_schema marks the method)
            handler = getattr(view_class, action)
            assert "schema" in getattr(handler, "kwargs", {}), (route, action)


def resolve_route(route: str):
    """Resolve a route string with a sample value for each parameter."""
    return resolve("/" + re.sub(r"<(?:\w+:)?(\w+)>", "x", route))


@pytest.mark.parametrize(
    ("path", "method", "action", "kwargs"),
    [
        ("/api/data/customer", "get", "list", {}),
        ("/api/data/customer/not-a-uuid", "delete", "destroy", {"id": "not-a-uuid"}),
        (
            f"/api/data/customer/{U}/address/a/b",
            "delete",
            "destroy",
            {"id": U, "addressId": "a/b"},
        ),
        (f"/api/data/customer/{U}/default-address", "patch", "default_address", {"id": U}),
        ("/customers/bulk", "delete", "bulk_remove", {}),
        ("/customers/bulk/price-list", "put", "price_list", {"customerId": "bulk"}),
        (f"/customers/{U}/price-list", "delete", "price_list_remove", {"customerId": U}),
        (
            "/v1/acme/peppered/customer/findByEmail",
            "post",
            "find_by_email",
            {"client_name": "acme"},
        ),
        (
            "/v1/acme/peppered/customer/42/clienttypes",
            "post",
            "clienttypes_set",
            {"client_name": "acme", "customerId": "42"},
        ),
        ("/v1/acme/peppered/export/customers", "post", "customers", {"client_name": "acme"}),
        (f"/api/customers/{U}/credit-check", "post", "credit_check", {"customer_id": U}),
        (f"/api/orders/{U}", "patch", "partial_update", {"order_id": U}),
    ],
)
def test_seed_paths_resolve_to_their_action(path, method, action, kwargs):
    match = resolve(path)
    assert route_handlers(match.func)[method][1] == action
    assert match.kwargs == kwargs


@pytest.mark.parametrize(
    "path",
    [
        "/api/data/customer/",
        f"/api/data/customer/{U}/",
        f"/api/data/customer/{U}/address/",
        "/customers/",
        f"/customers/{U}",
        "/v1/acme/peppered/customer/",
        "/v1/acme/peppered/export",
        "/api/customers/",
        "/api/orders/",
    ],
)
def test_no_route_ends_in_a_slash_or_invents_one(path):
    with pytest.raises(Resolver404):
        resolve(path)
