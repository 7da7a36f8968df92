"""The B2B part of a customer's export and erasure (customers/privacy.py), registered by
``B2bConfig.ready``: the account, contacts, orders with their lines, credit checks.

Erasure keeps the account's terms and the orders' amounts, dates, products and status
(accounting), without anything personal: the account's website, fax and tax id, the orders'
copied shipping addresses; contacts and credit checks are deleted."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from b2b.api.serializers import B2BCreditCheckSerializer, B2BCustomerSerializer, B2BOrderSerializer
from b2b.models import Account, Contact, CreditCheck, SalesOrder
from b2b.selectors import b2b_customer_get
from customers.privacy import (
    anonymise,
    delete_with_history,
    history_rows,
    purge_history_of,
    row,
    scrub_admin_log,
)

#: the account's personal columns and what an erasure leaves in them
ACCOUNT_BLANK = {
    "website": "",
    "fax": "",
    "tax_id": "",
    "billing_address": None,
    "shipping_address": None,
}
ORDER_BLANK = {"shipping_address": {}}


def _json(data) -> dict:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


class B2bParticipant:
    key = "b2b"

    def export(self, customer) -> dict:
        orders = list(
            SalesOrder.objects.filter(customer=customer)
            .select_related("customer")
            .prefetch_related("lines__product")
            .order_by("order_date", "id")
        )
        checks = list(CreditCheck.objects.filter(customer=customer).select_related("customer"))
        account = Account.objects.filter(customer=customer).first()
        return {
            "dialects": {
                "b2b": _json(
                    B2BCustomerSerializer(
                        b2b_customer_get(tenant=customer.tenant, customer_id=customer.uuid)
                    ).data
                )
            },
            "b2b": {
                "account": None if account is None else row(account),
                "contacts": [row(c) for c in Contact.objects.filter(customer=customer)],
                "orders": [
                    _json(B2BOrderSerializer(order).data)
                    | {"lines_stored": [row(line) for line in order.lines.all()]}
                    for order in orders
                ],
                "credit_checks": [
                    _json(B2BCreditCheckSerializer(check).data) | {"inputs": check.inputs}
                    for check in checks
                ],
                "history_rows": {
                    "account": history_rows(Account, customer_id=customer.pk),
                    "contact": history_rows(Contact, customer_id=customer.pk),
                    "order": history_rows(SalesOrder, customer_id=customer.pk),
                },
            },
        }

    def erase(self, customer) -> dict[str, int]:
        counts = {
            "accounts": anonymise(Account, ACCOUNT_BLANK, customer_id=customer.pk),
            "contacts": delete_with_history(Contact, customer_id=customer.pk),
            "orders": anonymise(SalesOrder, ORDER_BLANK, customer_id=customer.pk),
            "credit_checks": CreditCheck.objects.filter(customer=customer).delete()[0],
        }
        # "Account of <name>" in the admin's log (an order's number is not personal)
        scrub_admin_log(Account, [customer.pk])
        return counts

    @staticmethod
    def purge_history(pks, cutoff) -> int:
        return sum(purge_history_of(model)(pks, cutoff) for model in (Account, Contact, SalesOrder))
