"""The store dialect's OpenAPI documentation (stores/api/views.py's viewset): summaries,
descriptions, parameters and responses of every operation."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from stores.api.base import STORE_HEADER, error_response
from stores.api.serializers import (
    StoreCustomerCreatedSerializer,
    StoreCustomerCreateSerializer,
    StoreCustomerListQuerySerializer,
    StoreCustomerPageSerializer,
    StoreCustomerPriceListResultSerializer,
    StoreCustomerPriceListSetSerializer,
    StoreCustomersBulkDeleteSerializer,
    StoreCustomersRemovedSerializer,
)
from tenants.api.viewsets import documented

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


LIST = extend_schema(
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


CREATE = extend_schema(
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


BULK = extend_schema(
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


PRICE_LIST_SET = extend_schema(
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


PRICE_LIST_REMOVE = extend_schema(
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


customers = documented(
    list=LIST,
    create=CREATE,
    bulk_remove=BULK,
    price_list=PRICE_LIST_SET,
    price_list_remove=PRICE_LIST_REMOVE,
)
