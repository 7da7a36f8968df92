"""The b2b dialect's views: parse, resolve access, call one service or selector, render."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from b2b import analytics, credit, selectors, services
from b2b.api import serializers as s
from b2b.api.base import (
    B2B,
    B2BMessageSerializer,
    B2BView,
    data_envelope,
    data_response,
    list_envelope,
    list_response,
    message_response,
    page_meta,
    paginate,
)
from customers.selectors import customer_get
from pricelists.selectors import price_list_verify
from tenants.api.dialect import changes

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


def _customer_fields(data: dict, *, tenant) -> dict:
    """Validated wire fields -> keyword arguments of the account services."""
    fields = dict(data)
    fields.pop("contacts", None)
    if "price_list_id" in fields:
        ref = fields.pop("price_list_id")
        fields["price_list"] = (
            price_list_verify(tenant=tenant, price_list_id=ref) if ref is not None else None
        )
    return fields


# --- customers ----------------------------------------------------------------------------


class CustomerListView(B2BView):
    @extend_schema(
        tags=[TAG_CUSTOMERS],
        operation_id="b2b_customers_list",
        summary="List customers",
        description="Newest first. `search` matches name or email (case-insensitive, "
        "substring). Each item is the full record without `contacts`. A page past the end "
        "is empty.",
        parameters=[s.B2BCustomerListQuerySerializer],
        responses={200: CustomerListEnvelope},
    )
    def get(self, request):
        access = self.access(request)
        query = self.query(s.B2BCustomerListQuerySerializer)
        page, limit = query["page"], query["limit"]
        items, total = selectors.b2b_customers_page(
            tenant=access.tenant,
            offset=(page - 1) * limit,
            limit=limit,
            is_active=query["is_active"],
            search=query.get("search"),
            columns=s.B2B_CUSTOMER_COLUMNS,
        )
        meta = page_meta(page=page, limit=limit, total=total)
        data = s.B2BCustomerSummarySerializer(items, many=True).data
        return list_response(data, meta)

    @extend_schema(
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
                                    "existing_customer_id": [
                                        "0193b1c2-7d4e-7a6b-9c8d-1e2f3a4b5c6d"
                                    ],
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
    def post(self, request):
        access = self.access(request)
        serializer = s.B2BCustomerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.account_create(
            tenant=access.tenant,
            contacts=data.get("contacts", []),
            **_customer_fields(data, tenant=access.tenant),
        )
        customer = selectors.b2b_customer_get(tenant=access.tenant, customer_id=customer.uuid)
        return data_response(s.B2BCustomerSerializer(customer).data, status=201)


class CustomerDetailView(B2BView):
    @extend_schema(
        tags=[TAG_CUSTOMERS],
        operation_id="b2b_customers_retrieve",
        summary="Get a customer",
        description="The full record, with contacts (primary first), `current_balance`, "
        "`lifetime_value` and `total_orders` computed from counted (not draft or cancelled) "
        "orders. A customer without B2B data reads with the defaults.",
        parameters=[CUSTOMER_ID],
        responses={200: CustomerEnvelope},
    )
    def get(self, request, customer_id):
        access = self.access(request)
        customer = selectors.b2b_customer_get(tenant=access.tenant, customer_id=customer_id)
        return data_response(s.B2BCustomerSerializer(customer).data)

    @extend_schema(
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
    def put(self, request, customer_id):
        access = self.access(request)
        customer = selectors.b2b_customer_get(tenant=access.tenant, customer_id=customer_id)
        shown = s.B2BCustomerSerializer(customer).data
        serializer = s.B2BCustomerUpdateSerializer(data=changes(request.data, shown), partial=True)
        serializer.is_valid(raise_exception=True)
        fields = _customer_fields(serializer.validated_data, tenant=access.tenant)
        if not fields:
            return data_response(shown)
        services.account_update(customer=customer, **fields)
        customer = selectors.b2b_customer_get(tenant=access.tenant, customer_id=customer.uuid)
        return data_response(s.B2BCustomerSerializer(customer).data)


# --- contacts -----------------------------------------------------------------------------


class ContactListView(B2BView):
    @extend_schema(
        tags=[TAG_CUSTOMERS],
        operation_id="b2b_contacts_create",
        summary="Add a contact",
        description="A primary contact demotes the customer's previous primary in the same "
        "transaction. 409 when a concurrent request made another contact primary.",
        parameters=[CUSTOMER_ID],
        request=s.B2BContactInputSerializer,
        responses={201: ContactEnvelope, 409: error_ref("A concurrent primary change.")},
    )
    def post(self, request, customer_id):
        access = self.access(request)
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        serializer = s.B2BContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(customer=customer, **serializer.validated_data)
        return data_response(s.B2BContactDetailSerializer(contact).data, status=201)


class ContactDetailView(B2BView):
    def _contact(self, request, customer_id, contact_id):
        access = self.access(request)
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        return selectors.contact_get(customer=customer, contact_id=contact_id)

    @extend_schema(
        tags=[TAG_CUSTOMERS],
        operation_id="b2b_contacts_update",
        summary="Update a contact",
        description="Only the fields sent change; `is_primary: true` demotes the previous primary.",
        parameters=[CUSTOMER_ID, CONTACT_ID],
        request=s.B2BContactInputSerializer,
        responses={200: ContactEnvelope, 409: error_ref("A concurrent primary change.")},
    )
    def put(self, request, customer_id, contact_id):
        contact = self._contact(request, customer_id, contact_id)
        serializer = s.B2BContactInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_update(contact=contact, **serializer.validated_data)
        return data_response(s.B2BContactDetailSerializer(contact).data)

    @extend_schema(
        tags=[TAG_CUSTOMERS],
        operation_id="b2b_contacts_delete",
        summary="Remove a contact",
        parameters=[CUSTOMER_ID, CONTACT_ID],
        request=None,
        responses={200: MessageEnvelope},
    )
    def delete(self, request, customer_id, contact_id):
        contact = self._contact(request, customer_id, contact_id)
        services.contact_delete(contact=contact)
        return message_response("Contact successfully removed")


# --- orders -------------------------------------------------------------------------------


class CustomerOrdersView(B2BView):
    @extend_schema(
        tags=[TAG_ORDERS],
        operation_id="b2b_customer_orders_list",
        summary="List a customer's orders",
        description="Newest first. `date_from`/`date_to` take a date (YYYY-MM-DD, both "
        "inclusive) or an ISO 8601 date-time (`date_to` exclusive); anything else is a 400.",
        parameters=[CUSTOMER_ID, s.B2BOrderListQuerySerializer],
        responses={200: OrderListEnvelope},
    )
    def get(self, request, customer_id):
        access = self.access(request)
        query = self.query(s.B2BOrderListQuerySerializer)
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        qs = selectors.orders_for_customer(
            customer=customer,
            status=query.get("status"),
            date_from=query.get("date_from"),
            date_to=query.get("date_to"),
        )
        items, meta = paginate(qs, page=query["page"], limit=query["limit"])
        return list_response(s.B2BOrderSummarySerializer(items, many=True).data, meta)


class OrderListView(B2BView):
    @extend_schema(
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
    def post(self, request):
        access = self.access(request)
        serializer = s.B2BOrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = customer_get(tenant=access.tenant, customer_id=data.pop("customer_id"))
        order = services.order_create(tenant=access.tenant, customer=customer, **data)
        order = selectors.order_get(tenant=access.tenant, order_id=order.pk)
        return data_response(s.B2BOrderSerializer(order).data, status=201)


class OrderDetailView(B2BView):
    @extend_schema(
        tags=[TAG_ORDERS],
        operation_id="b2b_orders_retrieve",
        summary="Get a sales order",
        parameters=[ORDER_ID],
        responses={200: OrderEnvelope},
    )
    def get(self, request, order_id):
        access = self.access(request)
        order = selectors.order_get(tenant=access.tenant, order_id=order_id)
        return data_response(s.B2BOrderSerializer(order).data)

    @extend_schema(
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
    def patch(self, request, order_id):
        access = self.access(request)
        order = selectors.order_get(tenant=access.tenant, order_id=order_id, lines=False)
        serializer = s.B2BOrderUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.order_update(order=order, **serializer.validated_data)
        order = selectors.order_get(tenant=access.tenant, order_id=order_id)
        return data_response(s.B2BOrderSerializer(order).data)


# --- analytics and credit checks ----------------------------------------------------------


class CustomerAnalyticsView(B2BView):
    @extend_schema(
        tags=[TAG_CUSTOMERS],
        operation_id="b2b_customer_analytics",
        summary="Customer analytics",
        description=(analytics.__doc__ or "").replace("\n  ", "\n"),
        parameters=[CUSTOMER_ID, s.B2BAnalyticsQuerySerializer],
        responses={200: AnalyticsEnvelope},
    )
    def get(self, request, customer_id):
        access = self.access(request)
        query = self.query(s.B2BAnalyticsQuerySerializer)
        customer = selectors.b2b_customer_with_terms(tenant=access.tenant, customer_id=customer_id)
        data = analytics.customer_analytics(
            customer=customer, period=query["period"], now=timezone.now()
        )
        return data_response(s.B2BAnalyticsSerializer(data).data)


class CustomerCreditCheckView(B2BView):
    @extend_schema(
        tags=[TAG_CUSTOMERS],
        operation_id="b2b_customer_credit_check",
        summary="Run a credit check",
        description=(credit.__doc__ or "")
        + "\nThe answer is the check just made (200); every check is kept as history.",
        parameters=[CUSTOMER_ID],
        request=None,
        responses={200: CreditCheckEnvelope},
    )
    def post(self, request, customer_id):
        access = self.access(request)
        customer = selectors.b2b_customer_with_terms(tenant=access.tenant, customer_id=customer_id)
        check = services.credit_check_run(customer=customer)
        return data_response(s.B2BCreditCheckSerializer(check).data)
