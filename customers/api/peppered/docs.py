"""The peppered dialect's OpenAPI documentation (customers/api/peppered/views.py's
viewsets): summaries, descriptions, parameters and responses of every operation."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from customers.api.peppered.base import PEPPERED, ValidationErrorSerializer
from customers.api.peppered.serializers import (
    ClientTypesSerializer,
    CustomerUpdateSerializer,
    CustomerWriteSerializer,
    ExportCustomersSerializer,
    FindByEmailSerializer,
    UserResourceSerializer,
)
from tenants.api.viewsets import documented

TAGS = ["peppered"]
CLIENT_NAME = OpenApiParameter(
    "client_name",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The client (tenant) slug, e.g. `acme`. An unknown client, or one the "
    "credential does not belong to, is a 403.",
)
CUSTOMER_ID = OpenApiParameter(
    "customerId",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="The integer customer id. Unknown, malformed or another client's: 404.",
)
STRING_ARRAY = {"type": "array", "items": {"type": "string"}}
VALIDATION_422 = OpenApiResponse(
    ValidationErrorSerializer,
    description="Validation failed (Laravel's format; field names are the wire names).",
    examples=[
        OpenApiExample(
            "Duplicate email",
            value={
                "message": "The email has already been taken. (customerId 42)",
                "errors": {"email": ["The email has already been taken."]},
                "customerId": 42,
                "requestId": "3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b",
            },
        ),
        OpenApiExample(
            "Two broken rules",
            value={
                "message": "The email field is required. (and 1 more error)",
                "errors": {
                    "email": ["The email field is required."],
                    "customerSalutation": ["The customer salutation field must be 1 characters."],
                },
                "requestId": "3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b",
            },
        ),
    ],
)
NOT_FOUND = OpenApiResponse(
    {"$ref": f"#/components/schemas/{PEPPERED.error_component}"},
    description="No such customer in this client (also another client's customer, or a "
    "malformed id).",
    examples=[
        OpenApiExample(
            "Not found",
            value={
                "message": "Customer not found.",
                "requestId": "3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b",
            },
        )
    ],
)

NULLS = (
    ' `null` or `""` clears an optional string field. Unknown fields are ignored. '
    "The address fields are the customer's default address (created, with addressId "
    '`"default"`, when address fields are first sent); `customerAddress` is stored and '
    "returned verbatim (street + house number as the client sends it). `customerExternalId` "
    "is read-only here. The customer's display name follows the names (\"first preposition "
    'last") unless it was set to something else through another dialect.'
    " A field sent with the value the customer already shows is no change (it is not checked "
    "again and `lastChanged` does not move): a `UserResource` read with GET can be sent back "
    "as it is."
)


SERVED = (
    " Customers deactivated through another dialect are still served (their record, and "
    "their email's uniqueness, remain)."
)


CREATE = extend_schema(
    tags=TAGS,
    operation_id="peppered_customer_create",
    summary="Create a customer",
    description="`email` is required and must be unique within the client "
    "(case-insensitively, whichever dialect created the other customer, also an email "
    "attached to a customer as its second one). A taken email is a 422 that names the "
    "customer that has it: `customerId` (also in `message`)." + NULLS,
    parameters=[CLIENT_NAME],
    request=CustomerWriteSerializer,
    responses={201: UserResourceSerializer, 422: VALIDATION_422},
)


FIND_BY_EMAIL = extend_schema(
    tags=TAGS,
    operation_id="peppered_customer_find_by_email",
    summary="Find a customer by email",
    description="Case-insensitive, through every email a customer has (a second email "
    "attached by another dialect finds it too). A read: viewer keys may use it." + SERVED,
    parameters=[CLIENT_NAME],
    request=FindByEmailSerializer,
    responses={200: UserResourceSerializer, 404: NOT_FOUND, 422: VALIDATION_422},
)


RETRIEVE = extend_schema(
    tags=TAGS,
    operation_id="peppered_customer_get",
    summary="Get a customer",
    description="The `UserResource`; its address fields are the default address." + SERVED,
    parameters=[CLIENT_NAME, CUSTOMER_ID],
    responses={200: UserResourceSerializer, 404: NOT_FOUND},
)


UPDATE = extend_schema(
    tags=TAGS,
    operation_id="peppered_customer_update",
    summary="Update a customer",
    description="Every field is optional: only what is sent changes. Changing `email` to "
    "one another customer of the client has is a 422." + NULLS,
    parameters=[CLIENT_NAME, CUSTOMER_ID],
    request=CustomerUpdateSerializer,
    responses={200: UserResourceSerializer, 404: NOT_FOUND, 422: VALIDATION_422},
)


CLIENTTYPES = extend_schema(
    tags=TAGS,
    operation_id="peppered_customer_clienttypes_list",
    summary="List a customer's client types",
    description="A bare array of the names of the client types (tags) assigned, sorted.",
    parameters=[CLIENT_NAME, CUSTOMER_ID],
    responses={
        200: OpenApiResponse(
            STRING_ARRAY, examples=[OpenApiExample("Tags", value=["donor", "friend"])]
        ),
        404: NOT_FOUND,
    },
)


CLIENTTYPES_SET = extend_schema(
    tags=TAGS,
    operation_id="peppered_customer_clienttypes_set",
    summary="Set a customer's client types",
    description="Overwrites the customer's tags with exactly the names sent (duplicates "
    "are ignored); `[]` removes them all. A name that is not one of the client's types "
    "(see `GET export/clienttypes`) is a 422 and changes nothing. Answers the new, sorted "
    "list.",
    parameters=[CLIENT_NAME, CUSTOMER_ID],
    request=ClientTypesSerializer,
    responses={
        200: OpenApiResponse(
            STRING_ARRAY, examples=[OpenApiExample("Tags", value=["donor", "friend"])]
        ),
        404: NOT_FOUND,
        422: VALIDATION_422,
    },
)


EXPORT_CLIENTTYPES = extend_schema(
    tags=TAGS,
    operation_id="peppered_export_clienttypes",
    summary="Export the client's client types",
    description="A bare array of every client-type name of the client, sorted.",
    parameters=[CLIENT_NAME],
    responses={
        200: OpenApiResponse(
            STRING_ARRAY,
            examples=[OpenApiExample("Client types", value=["donor", "friend", "vip"])],
        )
    },
)


EXPORT_CUSTOMERS = extend_schema(
    tags=TAGS,
    operation_id="peppered_export_customers",
    summary="Export customers (incremental sync)",
    description="A bare array of `UserResource`s whose `lastChanged` is at or after "
    "`changedSince` (every customer when it is absent), oldest change first, then by "
    "`customerId`. Keep the largest `lastChanged` you received and send it as the next "
    "`changedSince`: a customer changed at that very moment is sent again rather than "
    "missed. Tagging a customer or changing its address changes its `lastChanged`. "
    "`changedSince` may also be sent as a query parameter (the body wins). The array is "
    "streamed; a read: viewer keys may use it." + SERVED,
    parameters=[
        CLIENT_NAME,
        OpenApiParameter(
            "changedSince",
            OpenApiTypes.DATETIME,
            OpenApiParameter.QUERY,
            required=False,
            description="Alternative to the body field.",
        ),
    ],
    request=ExportCustomersSerializer,
    responses={200: UserResourceSerializer(many=True), 422: VALIDATION_422},
)


customers = documented(
    create=CREATE,
    find_by_email=FIND_BY_EMAIL,
    retrieve=RETRIEVE,
    update=UPDATE,
    clienttypes=CLIENTTYPES,
    clienttypes_set=CLIENTTYPES_SET,
)
export = documented(clienttypes=EXPORT_CLIENTTYPES, customers=EXPORT_CUSTOMERS)
