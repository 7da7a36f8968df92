"""The store dialect's endpoints (seed 001): thin views over stores.services/selectors."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from stores import selectors, services
from stores.access import store_from_header
from stores.api.base import (
    SORT_FIELDS,
    STORE_HEADER,
    DeleteWithBodySchema,
    StoreView,
    error_response,
    pagination,
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
    StoreCustomersRemovedSerializer,
)

TAGS = ["store: customers"]
CUSTOMER_ID = OpenApiParameter(
    "customerId",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description=(
        "The customer's id. A malformed id, a missing customer and one that is not linked "
        "to this store (another store's, another tenant's) are all 404 Customer not found."
    ),
)
PRICE_LIST_NOT_FOUND = error_response(
    "Price list not found: it does not exist, is inactive or is another tenant's."
)


def _validated(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class StoreCustomersView(StoreView):
    @extend_schema(
        tags=TAGS,
        operation_id="store_customers_list",
        summary="List the store's customers (paginated)",
        description=(
            "Customers linked to the store in `x-store-id`. Filters combine (AND); an empty "
            "query parameter counts as not given. Default order: newest first "
            "(`sortBy=createdAt&sortOrder=desc`). `totalPages` is `ceil(total / limit)` (0 "
            "when there is nothing); a page beyond the last answers 200 with an empty `data`."
        ),
        parameters=[STORE_HEADER, StoreCustomerListQuerySerializer],
        responses={200: StoreCustomerPageSerializer},
    )
    def get(self, request):
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
                {"data": items, "pagination": pagination(page=page, limit=limit, total=total)}
            ).data
        )

    @extend_schema(
        tags=TAGS,
        operation_id="store_customers_create",
        summary="Create a customer and link it to the store",
        description=(
            "Creates the customer (source MANUAL; its name is the local name) and its link "
            "to the store, with the optional default price list, in one transaction. "
            "Answers 200, as the seed says. Unknown fields are ignored."
        ),
        parameters=[STORE_HEADER],
        request=StoreCustomerCreateSerializer,
        responses={200: StoreCustomerCreatedSerializer, 404: PRICE_LIST_NOT_FOUND},
    )
    def post(self, request):
        access = store_from_header(request)
        data = _validated(StoreCustomerCreateSerializer, request.data)
        link = services.store_customer_create(
            store=access.store,
            local_name=data["localName"],
            price_list_id=data.get("defaultPriceListId"),
        )
        return Response(StoreCustomerCreatedSerializer(link).data)


class StoreCustomersBulkView(StoreView):
    schema = DeleteWithBodySchema()

    @extend_schema(
        tags=TAGS,
        operation_id="store_customers_bulk_remove",
        summary="Remove customers from the store",
        description=(
            "Deletes this store's links with the given customers (a JSON body, even on "
            "DELETE); never the customer records, never another store's links. Ids not "
            "linked to this store are ignored, duplicates count once; `deletedCount` is the "
            "number of links removed. An empty or missing `ids` is 400 No customer IDs "
            "provided; a value that is not a UUID, or more than 1000 ids, is 400."
        ),
        parameters=[STORE_HEADER],
        request=StoreCustomersBulkDeleteSerializer,
        responses={200: StoreCustomersRemovedSerializer},
    )
    def delete(self, request):
        access = store_from_header(request)
        data = _validated(StoreCustomersBulkDeleteSerializer, request.data)
        count = services.store_customers_remove(
            store=access.store, customer_ids=data["ids"], user=access.actor, api_key=access.api_key
        )
        return Response({"message": "Customers removed from store", "deletedCount": count})


class StoreCustomerPriceListView(StoreView):
    @extend_schema(
        tags=TAGS,
        operation_id="store_customer_price_list_set",
        summary="Set the customer's default price list (and optionally its name)",
        description=(
            "Sets the price list of the customer's link with this store. 404 Customer not "
            "found when the customer is not linked to this store; 404 Price list not found "
            "when the price list does not exist, is inactive or is another tenant's."
        ),
        parameters=[STORE_HEADER, CUSTOMER_ID],
        request=StoreCustomerPriceListSetSerializer,
        responses={200: StoreCustomerPriceListResultSerializer},
    )
    def put(self, request, customerId):
        access = store_from_header(request)
        data = _validated(StoreCustomerPriceListSetSerializer, request.data)
        link = services.store_customer_price_list_set(
            store=access.store,
            customer_id=customerId,
            price_list_id=data["priceListId"],
            name=data.get("name"),
        )
        return Response(
            StoreCustomerPriceListResultSerializer(
                {
                    "success": True,
                    "message": "Customer price list has been updated",
                    "customer": link,
                }
            ).data
        )

    @extend_schema(
        tags=TAGS,
        operation_id="store_customer_price_list_remove",
        summary="Remove the customer's default price list",
        description=(
            "Clears the price list of the customer's link with this store (idempotent). 404 "
            "Customer not found when the customer is not linked to this store."
        ),
        parameters=[STORE_HEADER, CUSTOMER_ID],
        request=None,
        responses={200: StoreCustomerPriceListResultSerializer},
    )
    def delete(self, request, customerId):
        access = store_from_header(request)
        link = services.store_customer_price_list_remove(store=access.store, customer_id=customerId)
        return Response(
            StoreCustomerPriceListResultSerializer(
                {
                    "success": True,
                    "message": "Customer price list has been removed",
                    "customer": link,
                }
            ).data
        )
