"""The store dialect's wire shapes (seed 001), camelCase, validated as the seed says."""

from __future__ import annotations

from rest_framework import serializers

from customers.api.fields import DisplayNameField
from stores.api.base import (
    DEFAULT_LIMIT,
    MAX_BULK_IDS,
    MAX_LIMIT,
    MAX_PAGE,
    SORT_FIELDS,
    SORT_ORDERS,
    IsoDateTimeField,
    StrictCharField,
    StrictUUIDField,
    messages,
)
from tenants.api.compiled import BlankAsNullCharField, CompiledSerializer, row_columns

SORT_BY_MESSAGE = f"sortBy must be one of: {', '.join(SORT_FIELDS)}"
SORT_ORDER_MESSAGE = "sortOrder must be either asc or desc"
LIMIT_MESSAGE = f"limit must be between 1 and {MAX_LIMIT}"
PAGE_MESSAGE = "Invalid page number"
NO_IDS_MESSAGE = "No customer IDs provided"

# --- requests ---------------------------------------------------------------------------------


def _number_messages(message: str) -> dict[str, str]:
    keys = ("invalid", "min_value", "max_value", "max_string_length", "required", "null")
    return dict.fromkeys(keys, message)


class StoreCustomerListQuerySerializer(serializers.Serializer):
    """Query parameters of ``GET /customers`` (an empty value counts as not given)."""

    search = StrictCharField(
        required=False,
        max_length=255,
        help_text="Partial, case-insensitive match on the name or the local name.",
        error_messages=messages("search"),
    )
    name = StrictCharField(
        required=False,
        max_length=255,
        help_text="Partial, case-insensitive match on the name.",
        error_messages=messages("name"),
    )
    isActive = serializers.ChoiceField(
        choices=["true", "false"],
        required=False,
        help_text="Only active (`true`) or inactive (`false`) customers.",
        error_messages={"invalid_choice": "isActive must be a boolean value (true or false)"},
    )
    page = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=MAX_PAGE,
        help_text=(
            "1-based page number. A page beyond the last is not an error: it has an empty "
            "`data` and the real totals."
        ),
        error_messages=_number_messages(PAGE_MESSAGE),
    )
    limit = serializers.IntegerField(
        required=False,
        default=DEFAULT_LIMIT,
        min_value=1,
        max_value=MAX_LIMIT,
        help_text="Items per page, 1 to 100.",
        error_messages=_number_messages(LIMIT_MESSAGE),
    )
    sortBy = serializers.ChoiceField(
        choices=list(SORT_FIELDS),
        required=False,
        default="createdAt",
        help_text=(
            "Sort field. `name` sorts on the shown name, case-insensitively. Ties are broken "
            "on the customer's creation order, in the same direction."
        ),
        error_messages={"invalid_choice": SORT_BY_MESSAGE},
    )
    sortOrder = serializers.ChoiceField(
        choices=list(SORT_ORDERS),
        required=False,
        default="desc",
        error_messages={"invalid_choice": SORT_ORDER_MESSAGE},
    )


class StoreCustomerCreateSerializer(serializers.Serializer):
    """``POST /customers``: unknown fields are ignored."""

    localName = StrictCharField(
        max_length=255,
        help_text="The local name; it is also the customer's name.",
        error_messages=messages("localName"),
    )
    defaultPriceListId = StrictUUIDField(
        required=False,
        allow_null=True,
        help_text="An active price list of the store's tenant (else 404 Price list not found).",
        error_messages={"invalid": "defaultPriceListId must be a UUID"},
    )


class StoreCustomerPriceListSetSerializer(serializers.Serializer):
    """``PUT /customers/{customerId}/price-list``: unknown fields are ignored."""

    priceListId = StrictUUIDField(
        help_text="An active price list of the store's tenant (else 404 Price list not found).",
        error_messages={
            "required": "priceListId is required",
            "null": "priceListId is required",
            "invalid": "priceListId must be a UUID",
        },
    )
    name = StrictCharField(
        required=False,
        allow_null=True,
        max_length=255,
        help_text="When given (not null), the customer's new name.",
        error_messages=messages("name"),
    )


class StoreCustomersBulkDeleteSerializer(serializers.Serializer):
    """``DELETE /customers/bulk``."""

    ids = serializers.ListField(
        child=StrictUUIDField(error_messages={"invalid": "each value in ids must be a UUID"}),
        allow_empty=False,
        min_length=1,
        max_length=MAX_BULK_IDS,
        help_text=(
            f"1 to {MAX_BULK_IDS} customer ids; duplicates count once, ids not linked to this "
            "store are ignored."
        ),
        error_messages={
            "required": NO_IDS_MESSAGE,
            "null": NO_IDS_MESSAGE,
            "empty": NO_IDS_MESSAGE,
            "min_length": NO_IDS_MESSAGE,
            "not_a_list": "ids must be an array of UUIDs",
            "max_length": f"ids must contain no more than {MAX_BULK_IDS} elements",
        },
    )


# --- responses (rendered from a CustomerStore link: its customer and its price list) ----------


class StoreCustomerSerializer(CompiledSerializer):
    """The seed's CustomerResponseDto."""

    # of a CustomerStore with its customer, or of a row of STORE_CUSTOMER_COLUMNS

    id = serializers.UUIDField(source="customer.uuid")
    name = DisplayNameField(
        "customer",
        help_text="The customer's name, or the best name it has when that is empty.",
    )
    localName = BlankAsNullCharField(source="customer.local_name", allow_null=True)
    defaultPriceListId = serializers.UUIDField(
        source="price_list_id",
        allow_null=True,
        help_text="The price list of this customer's link with this store.",
    )
    userId = serializers.CharField(
        source="customer.user_id",
        allow_null=True,
        help_text="The linked user's id (customers created when a user joins).",
    )
    isActive = serializers.BooleanField(source="customer.is_active")
    createdAt = IsoDateTimeField(source="customer.created_at")
    updatedAt = IsoDateTimeField(source="customer.updated_at")


#: what a row of the store's customer list reads (stores.selectors.store_customers_page)
STORE_CUSTOMER_COLUMNS = row_columns(StoreCustomerSerializer)


class StorePaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    totalPages = serializers.IntegerField(help_text="ceil(total / limit); 0 when total is 0.")
    hasNext = serializers.BooleanField()
    hasPrev = serializers.BooleanField()


class StoreCustomerPageSerializer(serializers.Serializer):
    """The seed's PaginatedCustomersResponseDto."""

    data = StoreCustomerSerializer(many=True)
    pagination = StorePaginationSerializer()


class StoreCustomerStoreSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The customer-store relation's id.")
    customerId = serializers.UUIDField(source="customer.uuid")
    storeId = serializers.UUIDField(source="store_id")
    createdAt = IsoDateTimeField(source="created_at")


class StoreCustomerCreatedSerializer(serializers.Serializer):
    customer = StoreCustomerSerializer(source="*")
    customerStore = StoreCustomerStoreSerializer(source="*")


class StoreCustomerPriceListResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    customer = StoreCustomerSerializer()


class StoreCustomersRemovedSerializer(serializers.Serializer):
    message = serializers.CharField()
    deletedCount = serializers.IntegerField()
