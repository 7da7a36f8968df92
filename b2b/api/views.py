"""The b2b dialect's views: parse, resolve access, call one service or selector, render.
The operations are documented in b2b/api/docs.py."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.decorators import action

from b2b import selectors, services
from b2b.analytics import customer_analytics
from b2b.api import docs
from b2b.api import serializers as s
from b2b.api.base import (
    B2BViewSet,
    data_response,
    list_response,
    message_response,
    page_meta,
    paginate,
)
from customers.selectors import customer_get
from tenants.api.dialect import changes


@docs.customers
class CustomerViewSet(B2BViewSet):
    """``/api/customers`` and ``/api/customers/<customer_id>``: the accounts, and each one's
    orders, analytics and credit checks."""

    lookup_url_kwarg = "customer_id"

    def list(self, request):
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

    def create(self, request):
        access = self.access(request)
        serializer = s.B2BCustomerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.account_create(
            tenant=access.tenant,
            **data,
        )
        customer = selectors.b2b_customer_get(tenant=access.tenant, customer_id=customer.uuid)
        return data_response(s.B2BCustomerSerializer(customer).data, status=201)

    def retrieve(self, request, customer_id):
        access = self.access(request)
        customer = selectors.b2b_customer_get(tenant=access.tenant, customer_id=customer_id)
        return data_response(s.B2BCustomerSerializer(customer).data)

    def update(self, request, customer_id):
        access = self.access(request)
        customer = selectors.b2b_customer_get(tenant=access.tenant, customer_id=customer_id)
        shown = s.B2BCustomerSerializer(customer).data
        serializer = s.B2BCustomerUpdateSerializer(data=changes(request.data, shown), partial=True)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        if not fields:
            return data_response(shown)
        services.account_update(customer=customer, **fields)
        customer = selectors.b2b_customer_get(tenant=access.tenant, customer_id=customer.uuid)
        return data_response(s.B2BCustomerSerializer(customer).data)

    @action(detail=True, methods=["get"])
    def orders(self, request, customer_id):
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

    @action(detail=True, methods=["get"])
    def analytics(self, request, customer_id):
        access = self.access(request)
        query = self.query(s.B2BAnalyticsQuerySerializer)
        customer = selectors.b2b_customer_with_terms(tenant=access.tenant, customer_id=customer_id)
        data = customer_analytics(customer=customer, period=query["period"], now=timezone.now())
        return data_response(s.B2BAnalyticsSerializer(data).data)

    @action(detail=True, methods=["post"], url_path="credit-check")
    def credit_check(self, request, customer_id):
        access = self.access(request)
        customer = selectors.b2b_customer_with_terms(tenant=access.tenant, customer_id=customer_id)
        check = services.credit_check_run(customer=customer)
        return data_response(s.B2BCreditCheckSerializer(check).data)


@docs.contacts
class ContactViewSet(B2BViewSet):
    """``/api/customers/<customer_id>/contacts[/<contact_id>]``: a customer's contacts."""

    lookup_url_kwarg = "contact_id"

    def create(self, request, customer_id):
        access = self.access(request)
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        serializer = s.B2BContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(customer=customer, **serializer.validated_data)
        return data_response(s.B2BContactDetailSerializer(contact).data, status=201)

    def _contact(self, request, customer_id, contact_id):
        access = self.access(request)
        customer = customer_get(tenant=access.tenant, customer_id=customer_id)
        return selectors.contact_get(customer=customer, contact_id=contact_id)

    def update(self, request, customer_id, contact_id):
        contact = self._contact(request, customer_id, contact_id)
        serializer = s.B2BContactInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_update(contact=contact, **serializer.validated_data)
        return data_response(s.B2BContactDetailSerializer(contact).data)

    def destroy(self, request, customer_id, contact_id):
        contact = self._contact(request, customer_id, contact_id)
        services.contact_delete(contact=contact)
        return message_response("Contact successfully removed")


@docs.orders
class OrderViewSet(B2BViewSet):
    """``/api/orders`` and ``/api/orders/<order_id>``: sales orders."""

    lookup_url_kwarg = "order_id"

    def create(self, request):
        access = self.access(request)
        serializer = s.B2BOrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = customer_get(tenant=access.tenant, customer_id=data.pop("customer_id"))
        order = services.order_create(tenant=access.tenant, customer=customer, **data)
        order = selectors.order_get(tenant=access.tenant, order_id=order.pk)
        return data_response(s.B2BOrderSerializer(order).data, status=201)

    def retrieve(self, request, order_id):
        access = self.access(request)
        order = selectors.order_get(tenant=access.tenant, order_id=order_id)
        return data_response(s.B2BOrderSerializer(order).data)

    def partial_update(self, request, order_id):
        access = self.access(request)
        order = selectors.order_get(tenant=access.tenant, order_id=order_id, lines=False)
        serializer = s.B2BOrderUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.order_update(order=order, **serializer.validated_data)
        order = selectors.order_get(tenant=access.tenant, order_id=order_id)
        return data_response(s.B2BOrderSerializer(order).data)
