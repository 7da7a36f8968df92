"""The b2b dialect's OpenAPI documentation (b2b/api/views.py's viewsets): summaries,
descriptions, parameters, envelopes and responses of every operation."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from b2b import analytics, credit
from b2b.api import serializers as s
from b2b.api.base import B2B, B2BMessageSerializer, data_envelope, list_envelope
from tenants.api.viewsets import documented

TAG_CUSTOMERS = "b2b: customers"
TAG_ORDERS = "b2b: orders"
CUSTOMER_ID = OpenApiParameter(
    "customer_id", str, OpenApiParameter.PATH, description="The customer's id (a UUID)."
)
CONTACT_ID = OpenApiParameter("contact_id", str, OpenApiParameter.PATH, description="A UUID.")
ORDER_ID = OpenApiParameter("order_id", str, OpenApiParameter.PATH, description="A UUID.")

CustomerEnvelope = data_envelope("B2BCustomerEnvelope", s.B2BCustomerSerializer())
CustomerListEnvelope = list_envelope(
    "B2BCustomerListEnvelope", s.B2BCustomerSummarySerializer(many=True)
)
ContactEnvelope = data_envelope("B2BContactEnvelope", s.B2BContactDetailSerializer())
MessageEnvelope = data_envelope("B2BMessageEnvelope", B2BMessageSerializer())
OrderEnvelope = data_envelope("B2BOrderEnvelope", s.B2BOrderSerializer())
OrderListEnvelope = list_envelope("B2BOrderListEnvelope", s.B2BOrderSummarySerializer(many=True))
AnalyticsEnvelope = data_envelope("B2BAnalyticsEnvelope", s.B2BAnalyticsSerializer())
CreditCheckEnvelope = data_envelope("B2BCreditCheckEnvelope", s.B2BCreditCheckSerializer())


def error_ref(description: str) -> OpenApiResponse:
    return OpenApiResponse(
        description=description,
        response={"$ref": f"#/components/schemas/{B2B.error_component}"},
    )


LIST = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_customers_list",
    summary="List customers",
    description="Newest first. `search` matches name or email (case-insensitive, "
    "substring). Each item is the full record without `contacts`. A page past the end "
    "is empty.",
    parameters=[s.B2BCustomerListQuerySerializer],
    responses={200: CustomerListEnvelope},
)


CREATE = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_customers_create",
    summary="Create a customer",
    description="The customer, its account, addresses and contacts, in one transaction. "
    "Defaults: payment_terms net_30, currency USD, credit_limit 0, discount_rate 0, "
    "customer_since now. An email another customer of the tenant has (any dialect, "
    "case-insensitively) is a 400 with code `email_taken` whose `details` has "
    "`existing_customer_id`: that customer's `id`, to read or update it instead "
    "(docs/identity.md). Addresses are output with only the parts that are set (an "
    "absent address is null).",
    request=s.B2BCustomerInputSerializer,
    responses={
        201: CustomerEnvelope,
        400: OpenApiResponse(
            description="Invalid input, or the email is taken (`email_taken`, naming the "
            "customer that has it).",
            response={"$ref": f"#/components/schemas/{B2B.error_component}"},
            examples=[
                OpenApiExample(
                    "Email taken",
                    value={
                        "error": {
                            "code": "email_taken",
                            "message": "The email has already been taken. It belongs to "
                            "customer 0193b1c2-7d4e-7a6b-9c8d-1e2f3a4b5c6d.",
                            "details": {
                                "email": ["The email has already been taken."],
                                "existing_customer_id": ["0193b1c2-7d4e-7a6b-9c8d-1e2f3a4b5c6d"],
                            },
                            "request_id": "3f2a9c0e5b7d4e1f8a6b2c4d9e0f1a2b",
                        }
                    },
                )
            ],
        ),
        404: error_ref("`price_list_id` is not an active price list of the tenant."),
    },
)


RETRIEVE = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_customers_retrieve",
    summary="Get a customer",
    description="The full record, with contacts (primary first), `current_balance`, "
    "`lifetime_value` and `total_orders` computed from counted (not draft or cancelled) "
    "orders. A customer without B2B data reads with the defaults.",
    parameters=[CUSTOMER_ID],
    responses={200: CustomerEnvelope},
)


UPDATE = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_customers_update",
    summary="Update a customer",
    description="Only the fields sent change (also inside `billing_address` and "
    "`shipping_address`; null unlinks an address). A field sent with the value the record "
    "already shows is no change (it is not checked again and `updated_at` does not move): "
    "a record read with GET can be sent back as it is. Answers the full record.",
    parameters=[CUSTOMER_ID],
    request=s.B2BCustomerUpdateSerializer,
    responses={200: CustomerEnvelope},
)


CONTACT_CREATE = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_contacts_create",
    summary="Add a contact",
    description="A primary contact demotes the customer's previous primary in the same "
    "transaction. 409 when a concurrent request made another contact primary.",
    parameters=[CUSTOMER_ID],
    request=s.B2BContactInputSerializer,
    responses={201: ContactEnvelope, 409: error_ref("A concurrent primary change.")},
)


CONTACT_UPDATE = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_contacts_update",
    summary="Update a contact",
    description="Only the fields sent change; `is_primary: true` demotes the previous primary.",
    parameters=[CUSTOMER_ID, CONTACT_ID],
    request=s.B2BContactInputSerializer,
    responses={200: ContactEnvelope, 409: error_ref("A concurrent primary change.")},
)


CONTACT_DESTROY = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_contacts_delete",
    summary="Remove a contact",
    description="Deletes the contact; when it was the primary contact, the customer has no "
    "primary until another is made primary. A contact of another customer (or of another "
    "tenant's) is a 404, as a missing one.",
    parameters=[CUSTOMER_ID, CONTACT_ID],
    request=None,
    responses={200: MessageEnvelope},
)


CUSTOMER_ORDERS = extend_schema(
    tags=[TAG_ORDERS],
    operation_id="b2b_customer_orders_list",
    summary="List a customer's orders",
    description="Newest first. `date_from`/`date_to` take a date (YYYY-MM-DD, both "
    "inclusive) or an ISO 8601 date-time (`date_to` exclusive); anything else is a 400.",
    parameters=[CUSTOMER_ID, s.B2BOrderListQuerySerializer],
    responses={200: OrderListEnvelope},
)


ORDER_CREATE = extend_schema(
    tags=[TAG_ORDERS],
    operation_id="b2b_orders_create",
    summary="Create a sales order",
    description="The server prices the lines (a missing `unit_price` is the account's "
    "price list price, else the product's base price, less the account's discount_rate "
    "percent, rounded half-up to cents), computes `line_total`s, `total_amount`, "
    "`items_count` (units) and `due_date` (order date + payment terms), and allocates a "
    "unique `order_number` (SO-<year of order_date>-<6 digits>, per tenant). `status` "
    "defaults to confirmed and may be any status, to import history; a shipped or "
    "delivered order without ship/delivery dates takes its order date. "
    "`shipping_address` defaults to a copy of the customer's shipping address. A customer "
    "or product of another tenant is a 404.",
    request=s.B2BOrderInputSerializer,
    responses={
        201: OrderEnvelope,
        404: error_ref("The customer or a product is missing or another tenant's."),
    },
)


ORDER_RETRIEVE = extend_schema(
    tags=[TAG_ORDERS],
    operation_id="b2b_orders_retrieve",
    summary="Get a sales order",
    description="The order with its lines (each with its product's id, sku and name). An "
    "order of another tenant is a 404, as a missing one.",
    parameters=[ORDER_ID],
    responses={200: OrderEnvelope},
)


ORDER_PARTIAL_UPDATE = extend_schema(
    tags=[TAG_ORDERS],
    operation_id="b2b_orders_update",
    summary="Change an order's status or dates",
    description="Transitions: draft->confirmed->shipped->delivered, and any status but "
    "delivered -> cancelled; anything else is a 409 (`invalid_transition`). Becoming "
    "shipped sets `ship_date`, becoming delivered sets `delivery_date` (now), unless "
    "given. `paid_at` marks the order paid (null: unpaid); a draft or cancelled order "
    "cannot be paid (409).",
    parameters=[ORDER_ID],
    request=s.B2BOrderUpdateSerializer,
    responses={200: OrderEnvelope, 409: error_ref("An illegal status transition.")},
)


ANALYTICS = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_customer_analytics",
    summary="Customer analytics",
    description=(analytics.__doc__ or "").replace("\n  ", "\n"),
    parameters=[CUSTOMER_ID, s.B2BAnalyticsQuerySerializer],
    responses={200: AnalyticsEnvelope},
)


CREDIT_CHECK = extend_schema(
    tags=[TAG_CUSTOMERS],
    operation_id="b2b_customer_credit_check",
    summary="Run a credit check",
    description=(credit.__doc__ or "")
    + "\nThe answer is the check just made (200); every check is kept as history.",
    parameters=[CUSTOMER_ID],
    request=None,
    responses={200: CreditCheckEnvelope},
)


customers = documented(
    list=LIST,
    create=CREATE,
    retrieve=RETRIEVE,
    update=UPDATE,
    orders=CUSTOMER_ORDERS,
    analytics=ANALYTICS,
    credit_check=CREDIT_CHECK,
)
contacts = documented(create=CONTACT_CREATE, update=CONTACT_UPDATE, destroy=CONTACT_DESTROY)
orders = documented(
    create=ORDER_CREATE, retrieve=ORDER_RETRIEVE, partial_update=ORDER_PARTIAL_UPDATE
)
