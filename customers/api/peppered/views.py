"""Peppered dialect views (seed 002): thin: parse, resolve access, call one service or
selector, render. The operations are documented in customers/api/peppered/docs.py."""

from __future__ import annotations

import json

from django.http import StreamingHttpResponse
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import selectors, services
from customers.api.peppered import docs
from customers.api.peppered.base import PEPPERED
from customers.api.peppered.serializers import (
    ClientTypesSerializer,
    CustomerUpdateSerializer,
    CustomerWriteSerializer,
    ExportCustomersSerializer,
    FindByEmailSerializer,
    UserResourceSerializer,
)
from customers.models import Source
from tenants import errors
from tenants.access import tenant_from_path
from tenants.api.dialect import changes
from tenants.api.viewsets import DialectViewSet
from tenants.authentication import ApiKeyAuthentication, BearerAuthentication

#: customers read per query by the export (with their tags)
EXPORT_CHUNK = 500


class PepperedViewSet(DialectViewSet):
    """API key (bare ``Authorization`` value, or HTTP Basic user name), or Bearer (API key or a
    member's user token). No session cookies: peppered clients are machines."""

    dialect = PEPPERED
    authentication_classes = [BearerAuthentication, ApiKeyAuthentication]


def _resource(customer) -> dict:
    return UserResourceSerializer(customer).data


@docs.customers
class CustomerViewSet(PepperedViewSet):
    """``customer``, ``customer/findByEmail``, ``customer/<customerId>`` and its client
    types, under ``/v1/<client_name>/peppered/``."""

    lookup_url_kwarg = "customerId"

    def create(self, request, client_name):
        access = tenant_from_path(request, client_name)
        serializer = CustomerWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields, address = serializer.service_fields()
        customer = services.customer_create_with_default_address(
            tenant=access.tenant, address=address, source=Source.API, **fields
        )
        return Response(_resource(customer), status=status.HTTP_201_CREATED)

    @action(detail=False, methods=["post"], url_path="findByEmail")
    def find_by_email(self, request, client_name):
        access = tenant_from_path(request, client_name, write=False)
        serializer = FindByEmailSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = selectors.customer_find_by_email(
            tenant=access.tenant,
            email=serializer.validated_data["email"],
            with_default_address=True,
        )
        if customer is None:
            raise errors.NotFound("Customer not found.")
        return Response(_resource(customer))

    def retrieve(self, request, client_name, customerId):
        access = tenant_from_path(request, client_name)
        customer = selectors.customer_get_by_pk(
            tenant=access.tenant, pk=customerId, with_default_address=True
        )
        return Response(_resource(customer))

    def update(self, request, client_name, customerId):
        access = tenant_from_path(request, client_name)
        customer = selectors.customer_get_by_pk(
            tenant=access.tenant, pk=customerId, with_default_address=True
        )
        serializer = CustomerUpdateSerializer(data=changes(request.data, _resource(customer)))
        serializer.is_valid(raise_exception=True)
        fields, address = serializer.service_fields(customer)
        if fields or address:
            # decided again on the record as it is under the service's lock (the name follows
            # the names: another request may be changing them)
            services.customer_update_with_default_address(
                customer=customer, changes=serializer.service_fields
            )
            customer = selectors.customer_get_by_pk(  # its default address as changed
                tenant=access.tenant, pk=customer.pk, with_default_address=True
            )
        return Response(_resource(customer))

    @action(detail=True, methods=["get"])
    def clienttypes(self, request, client_name, customerId):
        access = tenant_from_path(request, client_name)
        customer = selectors.customer_get_by_pk(tenant=access.tenant, pk=customerId)
        return Response(sorted(tag.name for tag in customer.tags.all()))

    @clienttypes.mapping.post
    def clienttypes_set(self, request, client_name, customerId):
        access = tenant_from_path(request, client_name)
        customer = selectors.customer_get_by_pk(tenant=access.tenant, pk=customerId)
        serializer = ClientTypesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        names = services.customer_tags_set(
            customer=customer, names=serializer.validated_data["clienttypes"]
        )
        return Response(names)


@docs.export
class ExportViewSet(PepperedViewSet):
    """``export/clienttypes`` and ``export/customers`` (an incremental sync)."""

    @action(detail=False, methods=["get"])
    def clienttypes(self, request, client_name):
        access = tenant_from_path(request, client_name)
        names = selectors.client_types_for_tenant(tenant=access.tenant).values_list(
            "name", flat=True
        )
        return Response(list(names))

    @action(detail=False, methods=["post"])
    def customers(self, request, client_name):
        access = tenant_from_path(request, client_name, write=False)
        data = request.data
        if isinstance(data, dict) and "changedSince" not in data:
            since = request.query_params.get("changedSince")
            if since is not None:
                data = {**data, "changedSince": since}
        serializer = ExportCustomersSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        customers = selectors.customers_changed_since(
            tenant=access.tenant, since=serializer.validated_data.get("changedSince")
        )
        return StreamingHttpResponse(_json_array(customers), content_type="application/json")


def _json_array(customers):
    """Stream ``[resource, …]``: a chunk of customers (and their tags) at a time."""
    render = UserResourceSerializer().to_representation
    yield b"["
    separator = b""
    for customer in customers.iterator(chunk_size=EXPORT_CHUNK):
        yield (
            separator
            + json.dumps(render(customer), ensure_ascii=False, separators=(",", ":")).encode()
        )
        separator = b","
    yield b"]"
