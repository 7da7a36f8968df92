"""The data dialect (seed 000): tenant-scoped customers at ``/api/data/customer``.

Thin views: resolve access from ``x-tenant-id``, parse with the dialect's serializer, call one
service or selector, render the full record (addresses read in one extra query). The
operations are documented in customers/api/data/docs.py.
"""

from __future__ import annotations

from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import selectors, services
from customers.api.data import base, docs
from customers.api.data.base import DATA
from customers.api.data.serializers import (
    DATA_CUSTOMER_COLUMNS,
    DataAddressCreateSerializer,
    DataCustomerCreateSerializer,
    DataCustomerSerializer,
    DataCustomerUpdateSerializer,
    DataDefaultAddressSerializer,
    DataLinkSerializer,
    DataListQuerySerializer,
)
from tenants.access import tenant_from_header
from tenants.api.dialect import changes
from tenants.api.viewsets import DialectViewSet
from tenants.selectors import member_user_get


def record(customer) -> dict:
    """The wire record of one customer (its addresses read in one query)."""
    selectors.attach_addresses([customer])
    return DataCustomerSerializer(customer).data


def render_batch(customers: list) -> list:
    return DataCustomerSerializer(customers, many=True).data


class DataViewSet(DialectViewSet):
    dialect = DATA

    def access(self):
        return tenant_from_header(self.request)

    def customer(self, access, customer_id):
        return selectors.customer_get(tenant=access.tenant, customer_id=customer_id)


@docs.customers
class CustomerViewSet(DataViewSet):
    """``/api/data/customer`` and ``/api/data/customer/<id>``: find-or-create, list, read,
    update, deactivate; the default address and the user link of one customer."""

    lookup_url_kwarg = "id"

    def list(self, request):
        access = self.access()
        query = DataListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tenant = access.tenant

        def fetch(after_pk: int, size: int) -> list:
            return selectors.customers_keyset_page(
                tenant=tenant, after_pk=after_pk, limit=size, columns=DATA_CUSTOMER_COLUMNS
            )

        params = query.validated_data
        if "limit" not in params and "cursor" not in params:
            return base.stream_json_array(fetch, lambda row: row["id"], render_batch)
        limit = params.get("limit", base.DEFAULT_PAGE_LIMIT)
        after = base.decode_cursor(params["cursor"]) if "cursor" in params else 0
        rows = fetch(after, limit + 1)
        headers = {}
        if len(rows) > limit:
            rows = rows[:limit]
            headers = base.next_page_headers(request, limit=limit, last_pk=rows[-1]["id"])
        return Response(render_batch(rows), headers=headers)

    def create(self, request):
        access = self.access()
        serializer = DataCustomerCreateSerializer(
            data=request.data, context={"tenant": access.tenant}
        )
        serializer.is_valid(raise_exception=True)
        customer, created = services.customer_find_or_create_by_discord(
            tenant=access.tenant,
            discord_id=serializer.validated_data["discordId"],
            **serializer.to_model(),
        )
        return Response(
            record(customer), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def retrieve(self, request, id):
        access = self.access()
        return Response(record(self.customer(access, id)))

    def partial_update(self, request, id):
        access = self.access()
        customer = self.customer(access, id)
        serializer = DataCustomerUpdateSerializer(
            data=changes(request.data, record(customer)), context={"tenant": access.tenant}
        )
        serializer.is_valid(raise_exception=True)
        fields = serializer.to_model()
        if fields:
            customer = services.customer_update(customer=customer, **fields)
        return Response(record(customer))

    def destroy(self, request, id):
        access = self.access()
        customer = services.customer_deactivate(customer=self.customer(access, id))
        return Response(record(customer))

    @action(detail=True, methods=["patch"], url_path="default-address")
    def default_address(self, request, id):
        access = self.access()
        customer = self.customer(access, id)
        serializer = DataDefaultAddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = services.default_address_set(
            customer=customer, key=serializer.validated_data["addressId"]
        )
        return Response(record(customer))

    @action(detail=True, methods=["post"])
    def link(self, request, id):
        access = self.access()
        customer = self.customer(access, id)
        serializer = DataLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = member_user_get(tenant=access.tenant, user_id=serializer.validated_data["userId"])
        customer = services.customer_link_user(customer=customer, user=user)
        return Response(record(customer))


@docs.addresses
class AddressViewSet(DataViewSet):
    """``/api/data/customer/<id>/address[/<addressId>]``: a customer's addresses, by the key
    its client gave them (anything, slashes included)."""

    lookup_url_kwarg = "addressId"
    lookup_value_converter = "path"

    def create(self, request, id):
        access = self.access()
        customer = self.customer(access, id)
        serializer = DataAddressCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.address_add(customer=customer, **serializer.to_model())
        return Response(record(customer))

    def destroy(self, request, id, addressId):
        access = self.access()
        customer = self.customer(access, id)
        services.address_remove(customer=customer, key=addressId)
        return Response(record(customer))
