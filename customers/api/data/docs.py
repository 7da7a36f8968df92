"""The data dialect's OpenAPI documentation (customers/api/data/views.py's viewsets):
summaries, descriptions, parameters and responses of every operation."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from customers.api.data import base
from customers.api.data.base import DATA
from customers.api.data.serializers import (
    DataAddressCreateSerializer,
    DataCustomerCreateSerializer,
    DataCustomerSerializer,
    DataCustomerUpdateSerializer,
    DataDefaultAddressSerializer,
    DataLinkSerializer,
)
from tenants.api.viewsets import documented

TAGS = ["data"]
ERROR_REF = {"$ref": f"#/components/schemas/{DATA.error_component}"}
TENANT_HEADER = OpenApiParameter(
    "x-tenant-id",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "The tenant: its slug or its UUID. Missing: 400; unknown, or not one the caller may "
        "use: 403."
    ),
)
CUSTOMER_ID = OpenApiParameter(
    "id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description=(
        "The customer's `id`. A malformed id, a missing customer and another tenant's customer "
        "are all 404."
    ),
)
RECORD = OpenApiResponse(DataCustomerSerializer, description="The full customer record.")
NOT_FOUND = OpenApiResponse(ERROR_REF, description="Customer not found (or another tenant's).")
UNCHANGED_NOTE = (
    " A field sent with the value the record already shows is no change (it is not checked "
    "again and `updatedAt` does not move): a record read with GET can be sent back as it is."
)
AUTH_NOTE = (
    "\n\nAuth: session cookie (send `X-CSRFToken` on writes) or `Authorization: Bearer` (user "
    "token or tenant API key; no CSRF token needed). Viewers may only read (403 on writes)."
)


LIST = extend_schema(
    operation_id="data_customer_list",
    tags=TAGS,
    summary="List the tenant's customers (bare array)",
    description=(
        "Every customer of the tenant, deactivated ones included (`isActive` false), as one "
        "bare JSON array in ascending creation order. Without `limit` and `cursor` the whole "
        "list is streamed (fetched in keyset batches of 1000, so any number of customers "
        "can be listed). With `limit` (1..1000) and/or `cursor` you get one keyset page "
        "(default `limit` 100); when more customers follow, the response carries the next "
        'page\'s cursor in `X-Next-Cursor` and its URL in `Link: <…>; rel="next"`. '
        "A malformed cursor or an out-of-range limit is a 400." + AUTH_NOTE
    ),
    parameters=[
        TENANT_HEADER,
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": base.MAX_PAGE_LIMIT},
            description=f"Page size, 1..{base.MAX_PAGE_LIMIT}: turns on keyset paging "
            f"(default {base.DEFAULT_PAGE_LIMIT} when only a cursor is sent).",
        ),
        OpenApiParameter(
            "cursor",
            {"type": "string", "maxLength": 200},
            description="Opaque: the `X-Next-Cursor` value of the previous page.",
        ),
        OpenApiParameter(
            base.NEXT_CURSOR_HEADER,
            str,
            OpenApiParameter.HEADER,
            response=[200],
            description="Paged requests only: the cursor of the next page; absent on the "
            "last page.",
        ),
        OpenApiParameter(
            "Link",
            str,
            OpenApiParameter.HEADER,
            response=[200],
            description='Paged requests only: `<url of the next page>; rel="next"`; '
            "absent on the last page.",
        ),
    ],
    responses={
        200: OpenApiResponse(
            DataCustomerSerializer(many=True), description="The customers, oldest first."
        )
    },
)


CREATE = extend_schema(
    operation_id="data_customer_find_or_create",
    tags=TAGS,
    summary="Find or create a customer (by discordId, then userId, then email)",
    description=(
        "Resolution on write (docs/identity.md). The tenant's customer is found by "
        "`discordId`, else by `userId`, else by `email` (case-insensitively; unless the "
        "tenant has switched email matching off in the admin). A customer found is "
        "returned with 200 (also when it is deactivated); the request's identifiers it "
        "does not have yet are attached to it: an empty `discordId`, `userId`, `email` "
        "or `phone` is filled (with the Discord names when they are empty), and a second "
        "email is kept as one more identifier of the customer (its `email` stays). "
        "Nothing is found: a customer is created (its name is the `discordDisplayName`) "
        "and returned with 201. Concurrent identical requests create exactly one record."
        "\n\nConflicts (400, code `identity_conflict`, naming the customers): two "
        "identifiers of the request belong to two different customers (they are never "
        "merged silently); or the customer found already shows another Discord id or "
        "user (a customer shows one of each). With email matching off, an email another "
        "customer has is a 400 naming that customer. `userId` must be an active member "
        "of the tenant (otherwise 400)." + AUTH_NOTE
    ),
    parameters=[TENANT_HEADER],
    request=DataCustomerCreateSerializer,
    responses={
        201: OpenApiResponse(DataCustomerSerializer, description="Created."),
        200: OpenApiResponse(
            DataCustomerSerializer,
            description="A customer with this discordId, userId or email existed (the "
            "request's new identifiers attached).",
        ),
        400: OpenApiResponse(
            ERROR_REF,
            description="Invalid input, or the identifiers conflict.",
            examples=[
                OpenApiExample(
                    "Two customers",
                    value={
                        "message": "The discordId belongs to customer "
                        "0193b1c2-7d4e-7a6b-9c8d-1e2f3a4b5c6d and the email to customer "
                        "0193b1c2-9f00-7c1d-8e2f-3a4b5c6d7e8f: they are two customers, "
                        "which are not merged automatically.",
                        "errors": {
                            "discordId": [
                                "Belongs to customer 0193b1c2-7d4e-7a6b-9c8d-1e2f3a4b5c6d."
                            ],
                            "email": ["Belongs to customer 0193b1c2-9f00-7c1d-8e2f-3a4b5c6d7e8f."],
                        },
                        "requestId": "3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b",
                    },
                )
            ],
        ),
    },
)


RETRIEVE = extend_schema(
    operation_id="data_customer_retrieve",
    tags=TAGS,
    summary="Get a customer",
    description="The full record, deactivated or not." + AUTH_NOTE,
    parameters=[TENANT_HEADER, CUSTOMER_ID],
    responses={200: RECORD, 404: NOT_FOUND},
)


PARTIAL_UPDATE = extend_schema(
    operation_id="data_customer_update",
    tags=TAGS,
    summary="Update a customer",
    description=(
        "Changes only the fields sent. `email` must be valid and free within the tenant; "
        "`null` or an empty string clears `email`, `phone` and `notes`. `userId` links a "
        "user who is an active member of the tenant (`null` unlinks). Extension: `isActive` "
        "reactivates or deactivates." + UNCHANGED_NOTE + AUTH_NOTE
    ),
    parameters=[TENANT_HEADER, CUSTOMER_ID],
    request=DataCustomerUpdateSerializer,
    responses={200: RECORD, 404: NOT_FOUND},
)


DESTROY = extend_schema(
    operation_id="data_customer_deactivate",
    tags=TAGS,
    summary="Deactivate a customer (soft delete)",
    description=(
        "Sets `isActive` to false and returns the record; it stays readable. Deactivating "
        "an inactive customer changes nothing." + AUTH_NOTE
    ),
    parameters=[TENANT_HEADER, CUSTOMER_ID],
    responses={200: RECORD, 404: NOT_FOUND},
)


ADDRESS_CREATE = extend_schema(
    operation_id="data_customer_address_add",
    tags=TAGS,
    summary="Add an address",
    description=(
        "Adds an address; `addressId` must be new for this customer (a duplicate is a "
        "400). Returns the updated record." + AUTH_NOTE
    ),
    parameters=[TENANT_HEADER, CUSTOMER_ID],
    request=DataAddressCreateSerializer,
    responses={200: RECORD, 404: NOT_FOUND},
)


ADDRESS_DESTROY = extend_schema(
    operation_id="data_customer_address_remove",
    tags=TAGS,
    summary="Remove an address",
    description=(
        "Removes the address; removing the default address clears `defaultAddressId`. "
        "Returns the updated record. An `addressId` the customer does not have is a 400 "
        "(the seed's operation failure), with `errors.addressId`." + AUTH_NOTE
    ),
    parameters=[
        TENANT_HEADER,
        CUSTOMER_ID,
        OpenApiParameter("addressId", str, OpenApiParameter.PATH),
    ],
    responses={
        200: RECORD,
        400: OpenApiResponse(ERROR_REF, description="The customer has no such address."),
        404: NOT_FOUND,
    },
)


DEFAULT_ADDRESS = extend_schema(
    operation_id="data_customer_default_address_set",
    tags=TAGS,
    summary="Set the default address",
    description=(
        "`addressId` must be one of the customer's addresses (otherwise 400); `null` "
        "clears the default (extension)." + AUTH_NOTE
    ),
    parameters=[TENANT_HEADER, CUSTOMER_ID],
    request=DataDefaultAddressSerializer,
    responses={200: RECORD, 404: NOT_FOUND},
)


LINK = extend_schema(
    operation_id="data_customer_link",
    tags=TAGS,
    summary="Link a customer to a platform user",
    description=(
        "`userId` must be an existing, active user who is an active member of the tenant "
        "(otherwise 400), and not already linked to another customer of the tenant (400)."
        + AUTH_NOTE
    ),
    parameters=[TENANT_HEADER, CUSTOMER_ID],
    request=DataLinkSerializer,
    responses={200: RECORD, 404: NOT_FOUND},
)


customers = documented(
    list=LIST,
    create=CREATE,
    retrieve=RETRIEVE,
    partial_update=PARTIAL_UPDATE,
    destroy=DESTROY,
    default_address=DEFAULT_ADDRESS,
    link=LINK,
)
addresses = documented(create=ADDRESS_CREATE, destroy=ADDRESS_DESTROY)
