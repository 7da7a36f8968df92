"""The store dialect's services and the seed's internal methods (seed 001, "Internal Methods")."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection

from customers.models import Customer, Source
from customers.selectors import customer_get_by_user
from customers.services import customer_create_for_user, member_join
from pricelists.selectors import price_list_verify
from stores import services
from stores.models import CustomerStore
from stores.selectors import customer_get_by_store, customer_link_get, store_customers
from stores.services import (
    customer_store_link,
    store_create,
    store_customer_create,
    store_customer_price_list_remove,
    store_customer_price_list_set,
    store_customers_remove,
)
from tenants import errors
from tests.factories import CustomerFactory, StoreFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- the seed's internal methods --------------------------------------------------------------


def test_verify_price_list_accepts_only_an_active_price_list_of_the_tenant(world, other):
    assert price_list_verify(tenant_id=world.tenant.pk, price_list_id=world.price_list.id) == (
        world.price_list
    )
    assert price_list_verify(tenant_id=world.tenant.pk, price_list_id=str(world.price_list.id)) == (
        world.price_list
    )
    for bad in (world.inactive_price_list.id, other.price_list.id, uuid.uuid4(), "pl_abc", None):
        with pytest.raises(errors.NotFound, match="Price list not found"):
            price_list_verify(tenant_id=world.tenant.pk, price_list_id=bad)


def test_create_customer_from_store(db):
    tenant = TenantFactory()
    store = store_create(tenant=tenant, name="Corner Shop")
    customer = customer_get_by_store(store=store)
    assert customer.pk == store.customer_id
    assert customer.tenant == tenant
    assert customer.source == Source.STORE
    assert customer.name == customer.local_name == "Corner Shop"
    assert not CustomerStore.objects.filter(store=store).exists()


def test_create_customer_from_user_is_idempotent(db):
    tenant = TenantFactory()
    user = UserFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    customer = customer_create_for_user(tenant=tenant, user=user)
    assert customer.user == user and customer.source == Source.USER
    assert (customer.first_name, customer.last_name, customer.name) == (
        "Ada",
        "Lovelace",
        "Ada Lovelace",
    )
    assert customer.email == "ada@example.com"
    assert customer_create_for_user(tenant=tenant, user=user) == customer
    assert Customer.objects.filter(user=user).count() == 1


def test_a_user_who_joins_gets_a_customer_and_get_customer_by_user_finds_it(db):
    tenant, elsewhere = TenantFactory(), TenantFactory()
    user = UserFactory()
    member_join(tenant=tenant, user=user)
    customer = customer_get_by_user(tenant=tenant, user=user)
    assert customer is not None and customer.user == user
    assert customer_get_by_user(tenant=elsewhere, user=user) is None


# --- store dialect services -------------------------------------------------------------------


def test_store_customer_create_links_with_the_price_list(world):
    link = store_customer_create(
        store=world.store, local_name="Ali's", price_list_id=world.price_list.id
    )
    assert link.store == world.store and link.price_list == world.price_list
    assert link.customer.source == Source.MANUAL
    assert link.customer.name == link.customer.local_name == "Ali's"


def test_store_customer_create_rolls_back_when_the_link_fails(world, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "customer_store_link", broken)
    before = Customer.objects.count()
    with pytest.raises(RuntimeError):
        store_customer_create(store=world.store, local_name="x")
    assert Customer.objects.count() == before


def test_price_list_set_and_remove_touch_the_customer_only_on_change(world):
    customer = CustomerFactory(tenant=world.tenant)
    customer_store_link(customer=customer, store=world.store)
    link = store_customer_price_list_set(
        store=world.store, customer_id=customer.uuid, price_list_id=world.price_list.id
    )
    assert link.price_list == world.price_list
    touched = Customer.objects.get(pk=customer.pk).updated_at
    assert touched > customer.updated_at
    store_customer_price_list_set(
        store=world.store, customer_id=customer.uuid, price_list_id=world.price_list.id
    )
    assert Customer.objects.get(pk=customer.pk).updated_at == touched
    link = store_customer_price_list_remove(store=world.store, customer_id=str(customer.uuid))
    assert link.price_list is None
    assert Customer.objects.get(pk=customer.pk).updated_at > touched


def test_link_get_is_scoped_to_the_store(world, other):
    customer = CustomerFactory(tenant=world.tenant)
    customer_store_link(customer=customer, store=world.store2)
    for store, customer_id in (
        (world.store, customer.uuid),
        (other.store, customer.uuid),
        (world.store, "nope"),
        (world.store, None),
    ):
        with pytest.raises(errors.NotFound, match="Customer not found"):
            customer_link_get(store=store, customer_id=customer_id)
    assert customer_link_get(store=world.store2, customer_id=customer.uuid).customer == customer


def test_store_customers_rejects_an_unknown_sort(world):
    with pytest.raises(ValueError):
        store_customers(store=world.store, sort="email")


def test_bulk_remove_uses_four_statements_whatever_the_number_of_ids(
    world, django_assert_max_num_queries
):
    customers = [CustomerFactory(tenant=world.tenant) for _ in range(30)]
    for customer in customers:
        customer_store_link(customer=customer, store=world.store)
    ids = [c.uuid for c in customers] + [uuid.uuid4() for _ in range(970)]
    # SAVEPOINT, SELECT … FOR UPDATE, INSERT … SELECT (history), DELETE, RELEASE
    # + 1: the INSERT of the change events (tenants.events: one per service call)
    with django_assert_max_num_queries(6):
        assert store_customers_remove(store=world.store, customer_ids=ids, user=world.agent) == 30
    assert CustomerStore.history.filter(history_type="-").count() == 30
    with django_assert_max_num_queries(3):  # SAVEPOINT, SELECT, RELEASE: nothing left to remove
        assert store_customers_remove(store=world.store, customer_ids=ids) == 0
    assert store_customers_remove(store=world.store, customer_ids=[]) == 0


def test_bulk_remove_history_matches_what_a_delete_records(world):
    customer = CustomerFactory(tenant=world.tenant)
    link = customer_store_link(customer=customer, store=world.store, price_list=world.price_list)
    store_customers_remove(store=world.store, customer_ids=[customer.uuid], user=world.admin)
    record = CustomerStore.history.get(history_type="-")
    assert (record.id, record.customer_id, record.store_id, record.price_list_id) == (
        link.id,
        customer.pk,
        world.store.id,
        world.price_list.id,
    )
    assert record.created_at == link.created_at
    assert record.history_user == world.admin
    assert record.history_change_reason == "Removed from the store in bulk"
    assert record.instance.customer == customer


# --- concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_bulk_removals_remove_and_record_each_link_once():
    tenant = TenantFactory()
    store = StoreFactory(tenant=tenant)
    customers = [CustomerFactory(tenant=tenant) for _ in range(20)]
    for customer in customers:
        customer_store_link(customer=customer, store=store)
    ids = [c.uuid for c in customers]
    barrier = threading.Barrier(4)
    counts, failures = [], []

    def remove():
        try:
            barrier.wait()
            counts.append(store_customers_remove(store=store, customer_ids=ids))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=remove) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert sorted(counts) == [0, 0, 0, 20]
    assert not CustomerStore.objects.filter(store=store).exists()
    assert CustomerStore.history.filter(history_type="-", store_id=store.id).count() == 20
    assert Customer.objects.filter(pk__in=[c.pk for c in customers]).count() == 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_each_get_their_own_customer():
    tenant = TenantFactory()
    store = StoreFactory(tenant=tenant)
    barrier = threading.Barrier(4)
    links, failures = [], []

    def create(n):
        try:
            barrier.wait()
            links.append(store_customer_create(store=store, local_name=f"Shop {n}"))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert CustomerStore.objects.filter(store=store).count() == 4
    assert len({link.customer_id for link in links}) == 4
