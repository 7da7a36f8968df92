"""Writes of stores, store memberships and customer-store links."""

from __future__ import annotations

from django.db import transaction

from customers.models import Source
from customers.services import customer_create
from stores.models import CustomerStore, Store, StoreMembership


@transaction.atomic
def store_create(*, tenant, name: str, is_active: bool = True) -> Store:
    """A store, with the customer record that represents it (createCustomerFromStore)."""
    customer = customer_create(tenant=tenant, name=name, local_name=name, source=Source.STORE)
    return Store.objects.create(tenant=tenant, name=name, is_active=is_active, customer=customer)


@transaction.atomic
def store_membership_grant(*, user, store: Store) -> StoreMembership:
    membership, _ = StoreMembership.objects.update_or_create(
        user=user, store=store, defaults={"is_active": True}
    )
    return membership


@transaction.atomic
def customer_store_link(*, customer, store: Store, price_list=None) -> CustomerStore:
    """Link a customer to a store (idempotent); the price list must be the store's tenant's."""
    if customer.tenant_id != store.tenant_id:
        raise ValueError("The customer and the store belong to different tenants.")
    if price_list is not None and price_list.tenant_id != store.tenant_id:
        raise ValueError("The price list belongs to another tenant.")
    link, created = CustomerStore.objects.get_or_create(
        customer=customer, store=store, defaults={"price_list": price_list}
    )
    if not created and price_list is not None and link.price_list_id != price_list.pk:
        link.price_list = price_list
        link.save(update_fields=["price_list"])
    return link
