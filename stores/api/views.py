"""The store dialect's endpoints (seed 001): thin views over stores.services/selectors,
documented in stores/api/docs.py."""

from __future__ import annotations

from rest_framework.decorators import action
from rest_framework.response import Response

from stores import selectors, services
from stores.access import store_from_header
from stores.api import docs
from stores.api.base import (
    SORT_FIELDS,
    StoreViewSet,
    page_envelope,
    price_list_envelope,
    removed_envelope,
)
from stores.api.serializers import (
    STORE_CUSTOMER_COLUMNS,
    StoreCustomerCreatedSerializer,
    StoreCustomerCreateSerializer,
    StoreCustomerListQuerySerializer,
    StoreCustomerPageSerializer,
    StoreCustomerPriceListResultSerializer,
    StoreCustomerPriceListSetSerializer,
    StoreCustomersBulkDeleteSerializer,
)


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@docs.customers
class StoreCustomerViewSet(StoreViewSet):
    """``/customers``: the customers linked to the store in ``x-store-id``, their bulk
    removal from it, and each one's default price list."""

    lookup_url_kwarg = "customerId"

    def list(self, request):
        access = store_from_header(request)
        params = {k: v for k, v in request.query_params.items() if v != ""}
        query = _validated(StoreCustomerListQuerySerializer, params)
        is_active = query.get("isActive")
        page, limit = query["page"], query["limit"]
        items, total = selectors.store_customers_page(
            store=access.store,
            offset=(page - 1) * limit,
            limit=limit,
            search=query.get("search"),
            name=query.get("name"),
            is_active=None if is_active is None else is_active == "true",
            sort=SORT_FIELDS[query["sortBy"]],
            descending=query["sortOrder"] == "desc",
            columns=STORE_CUSTOMER_COLUMNS,
        )
        return Response(
            StoreCustomerPageSerializer(
                page_envelope(items=items, page=page, limit=limit, total=total)
            ).data
        )

    def create(self, request):
        access = store_from_header(request)
        data = _validated(StoreCustomerCreateSerializer, request.data)
        link = services.store_customer_create(
            store=access.store,
            local_name=data["localName"],
            price_list_id=data.get("defaultPriceListId"),
        )
        return Response(StoreCustomerCreatedSerializer(link).data)

    @action(detail=False, methods=["delete"], url_path="bulk")
    def bulk_remove(self, request):
        access = store_from_header(request)
        data = _validated(StoreCustomersBulkDeleteSerializer, request.data)
        count = services.store_customers_remove(
            store=access.store, customer_ids=data["ids"], user=access.actor, api_key=access.api_key
        )
        return Response(removed_envelope(count))

    @action(detail=True, methods=["put"], url_path="price-list")
    def price_list(self, request, customerId):
        access = store_from_header(request)
        data = _validated(StoreCustomerPriceListSetSerializer, request.data)
        link = services.store_customer_price_list_set(
            store=access.store,
            customer_id=customerId,
            price_list_id=data["priceListId"],
            name=data.get("name"),
        )
        return Response(StoreCustomerPriceListResultSerializer(price_list_envelope(link)).data)

    @price_list.mapping.delete
    def price_list_remove(self, request, customerId):
        access = store_from_header(request)
        link = services.store_customer_price_list_remove(store=access.store, customer_id=customerId)
        return Response(
            StoreCustomerPriceListResultSerializer(price_list_envelope(link, removed=True)).data
        )
