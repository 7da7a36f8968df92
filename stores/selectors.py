"""Store-scoped reads."""

from __future__ import annotations

from stores.models import CustomerStore, Store


def stores_for_tenant(*, tenant):
    return Store.objects.filter(tenant=tenant)


def customer_get_by_store(*, store: Store):
    """The customer that represents a store (the seed's getCustomerByStoreId)."""
    return store.customer


def customer_links_for_store(*, store: Store):
    return CustomerStore.objects.filter(store=store)
