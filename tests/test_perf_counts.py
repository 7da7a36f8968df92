"""Exact counts kept by the database (tenants/counts.py): after every way rows change, the
kept totals equal COUNT(*), compaction never changes them, and concurrent writers and
compactions lose nothing. The triggers exist on PostgreSQL; elsewhere totals are COUNT(*)
and the selectors are checked to give the same numbers.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from customers.models import Customer
from customers.selectors import ACTIVE_CUSTOMERS, CUSTOMERS, customers_total
from customers.services import customer_create
from stores.models import CustomerStore
from stores.selectors import STORE_LINKS, store_links_counted, store_links_total
from stores.services import customer_store_link, store_customers_remove
from tenants import counts
from tenants.models import RowCount
from tests.bench.generate import GenerationRun
from tests.factories import CustomerFactory, StoreFactory, TenantFactory


def assert_counts_are_exact(tenants, stores):
    for tenant in tenants:
        everyone = Customer.objects.filter(tenant=tenant)
        assert customers_total(tenant=tenant) == everyone.count()
        assert (
            customers_total(tenant=tenant, is_active=True)
            == everyone.filter(is_active=True).count()
        )
        assert (
            customers_total(tenant=tenant, is_active=False)
            == everyone.filter(is_active=False).count()
        )
    for store in stores:
        assert store_links_total(store=store) == CustomerStore.objects.filter(store=store).count()


@pytest.mark.django_db
def test_every_way_of_changing_rows_keeps_the_counts_exact():
    tenants = [TenantFactory(), TenantFactory()]
    stores = [StoreFactory(tenant=tenants[0]), StoreFactory(tenant=tenants[1])]
    check = lambda: assert_counts_are_exact(tenants, stores)  # noqa: E731
    check()

    created = [customer_create(tenant=tenants[0], name=f"c{n}") for n in range(5)]  # service
    CustomerFactory.create_batch(3, tenant=tenants[1], is_active=False)  # model save
    Customer.objects.bulk_create([Customer(tenant=tenants[1], name=f"b{n}") for n in range(4)])
    check()

    Customer.objects.filter(pk__in=[c.pk for c in created[:3]]).update(is_active=False)
    Customer.objects.filter(tenant=tenants[1]).update(is_active=True)  # several at once
    Customer.objects.filter(pk=created[0].pk).update(name="renamed")  # no count changes
    check()

    for customer in created:
        customer_store_link(customer=customer, store=stores[0])
    with connection.cursor() as cursor:  # raw SQL goes through the triggers too
        cursor.execute(
            "UPDATE customers_customer SET is_active = NOT is_active WHERE id = %s",
            [created[4].pk],
        )
    check()

    store_customers_remove(store=stores[0], customer_ids=[created[0].uuid, created[1].uuid])
    created[2].delete()  # its link goes with it (the ORM's cascade)
    Customer.objects.filter(tenant=tenants[1], name__startswith="b").delete()
    check()

    run = GenerationRun(tenant=tenants[1], count=40, options={"store_links": 10, "b2b": 0})
    run.run()  # COPY on PostgreSQL: one statement, one delta per scope and owner
    stores.append(run.extensions[0].store)
    check()


@pytest.mark.django_db
def test_compaction_merges_an_owners_deltas_and_keeps_their_sum(postgres_only):
    tenant = TenantFactory()
    for n in range(30):
        customer_create(tenant=tenant, name=f"c{n}")  # one statement each: ~30 deltas
    Customer.objects.filter(tenant=tenant, name__in=["c1", "c2"]).delete()
    rows = RowCount.objects.filter(scope=CUSTOMERS, owner=tenant.pk)
    assert customers_total(tenant=tenant) == 28
    with connection.cursor() as cursor:
        cursor.execute("SELECT hub_rowcount_compact(%s, %s)", [CUSTOMERS, tenant.pk])
    assert list(rows.values_list("delta", flat=True)) == [28]
    assert customers_total(tenant=tenant) == 28
    assert customers_total(tenant=tenant, is_active=True) == 28


@pytest.mark.django_db
def test_the_version_changes_with_every_change_of_the_rows_and_every_merge(postgres_only):
    store = StoreFactory()
    x, y = CustomerFactory.create_batch(2, tenant=store.tenant)
    version = lambda: store_links_counted(store=store).version  # noqa: E731
    seen = [version()]
    customer_store_link(customer=x, store=store)
    seen.append(version())
    assert store_links_counted(store=store).total == 1
    CustomerStore.objects.filter(store=store).update(price_list=None)  # no count changes
    assert version() == seen[-1]
    # one link out and another in, then merged: back to one row whose sum is the same as
    # before, but not the same rows, so not the same version
    customer_store_link(customer=y, store=store)
    CustomerStore.objects.filter(store=store, customer=x).delete()
    seen.append(version())
    with connection.cursor() as cursor:
        cursor.execute("SELECT hub_rowcount_compact(%s, %s)", [STORE_LINKS, store.pk])
    seen.append(version())
    # everything removed and merged to a sum of 0: a row is left, and a version of its own
    CustomerStore.objects.filter(store=store).delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT hub_rowcount_compact(%s, %s)", [STORE_LINKS, store.pk])
    seen.append(version())
    assert store_links_counted(store=store).total == 0
    assert len(set(seen)) == len(seen) == 5
    assert list(RowCount.objects.filter(owner=store.pk).values_list("delta", flat=True)) == [0]


@pytest.mark.django_db
def test_a_total_owner_with_nothing_counted_is_zero(postgres_only):
    tenant = TenantFactory()
    assert customers_total(tenant=tenant) == 0
    assert not RowCount.objects.filter(owner=tenant.pk, scope=ACTIVE_CUSTOMERS).exists()
    assert counts.total(STORE_LINKS, tenant.pk, CustomerStore.objects.none()) == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_compactions_lose_nothing(postgres_only):
    tenant = TenantFactory()
    store = StoreFactory(tenant=tenant)
    threads, errors = 8, []
    barrier = threading.Barrier(threads)

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(15):
                with transaction.atomic():
                    customer = customer_create(tenant=tenant, name=f"t{index}-{n}")
                    customer_store_link(customer=customer, store=store)
                    if n % 3 == 0:
                        Customer.objects.filter(pk=customer.pk).update(is_active=False)
                    with connection.cursor() as cursor:  # compact while others write
                        cursor.execute(
                            "SELECT hub_rowcount_compact(%s, %s)", [CUSTOMERS, tenant.pk]
                        )
                        cursor.execute(
                            "SELECT hub_rowcount_compact(%s, %s)", [STORE_LINKS, store.pk]
                        )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert errors == []
    assert customers_total(tenant=tenant) == threads * 15 + 1  # + the store's own customer
    assert customers_total(tenant=tenant, is_active=False) == threads * 5
    assert store_links_total(store=store) == threads * 15
    assert_counts_are_exact([tenant], [store])
