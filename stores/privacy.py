"""The store links' part of a customer's export and erasure (customers/privacy.py),
registered by ``StoresConfig.ready``."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder

from customers.error_codes import CustomerErrorCode
from customers.privacy import delete_with_history, history_rows, purge_history_of, row
from stores.api.serializers import StoreCustomerSerializer
from stores.models import CustomerStore, Store
from tenants import errors


class StoresParticipant:
    key = "stores"

    def export(self, customer) -> dict:
        links = list(
            CustomerStore.objects.filter(customer=customer)
            .select_related("customer", "store", "price_list")
            .order_by("created_at", "id")
        )
        return {
            "store_links": [
                row(link)
                | {
                    "store": {"id": str(link.store_id), "name": link.store.name},
                    "price_list": None
                    if link.price_list is None
                    else {"id": str(link.price_list_id), "name": link.price_list.name},
                }
                for link in links
            ],
            "store_link_history": history_rows(CustomerStore, customer_id=customer.pk),
            "dialects": {
                "store": [
                    {
                        "store_id": str(link.store_id),
                        "record": json.loads(
                            json.dumps(StoreCustomerSerializer(link).data, cls=DjangoJSONEncoder)
                        ),
                    }
                    for link in links
                ]
            },
        }

    def erase(self, customer) -> dict[str, int]:
        # A store's own customer record is the store, not a person.
        if Store.objects.filter(customer=customer).exists():
            raise errors.Conflict(
                "This customer represents a store: it is not a person's record.",
                code=CustomerErrorCode.NOT_A_PERSON,
            )
        # The links only say which stores knew the person (with copies of its names, kept by
        # the database): they go, with their history.
        return {"store_links": delete_with_history(CustomerStore, customer_id=customer.pk)}

    purge_history = staticmethod(purge_history_of(CustomerStore))
