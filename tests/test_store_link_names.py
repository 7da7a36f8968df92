"""The store link's copies of its customer's names (stores/migrations/0004), kept by the
database's triggers on both databases: after every way a link or a name is written, the
copies equal the customer's names, and the store's search finds customers by their current
names only."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from customers.models import Customer
from customers.services import customer_update
from stores.api.serializers import STORE_CUSTOMER_COLUMNS
from stores.models import CustomerStore
from stores.selectors import store_customers, store_customers_page
from stores.services import (
    customer_store_link,
    store_customer_create,
    store_customer_price_list_set,
)
from tests.factories import CustomerFactory, PriceListFactory, StoreFactory
from tests.threads import in_background

pytestmark = pytest.mark.django_db


def assert_copies_are_current():
    stale = [
        (link.pk, link.customer_name, link.customer_local_name, c.name, c.local_name)
        for link in CustomerStore.objects.select_related("customer")
        for c in [link.customer]
        if (link.customer_name, link.customer_local_name) != (c.name, c.local_name)
    ]
    assert stale == []


def found(store, term: str) -> list[str]:
    return sorted(link.customer.name for link in store_customers(store=store, search=term))


@pytest.fixture
def store():
    return StoreFactory()


def test_every_way_of_writing_links_and_names_keeps_the_copies(store):
    tenant = store.tenant
    ada = CustomerFactory(tenant=tenant, name="Ada Lovelace", local_name="Ada's Books")
    bob = CustomerFactory(tenant=tenant, name="Bob Mensah")
    link = customer_store_link(customer=ada, store=store)  # the service
    CustomerStore.objects.create(customer=bob, store=StoreFactory(tenant=tenant))  # the ORM
    made = store_customer_create(store=store, local_name="Carol's Corner")  # the dialect's
    assert_copies_are_current()
    link.refresh_from_db()
    assert (link.customer_name, link.customer_local_name) == ("Ada Lovelace", "Ada's Books")

    customer_update(customer=ada, name="Ada King")  # the service (the API, the admin)
    Customer.objects.filter(pk=bob.pk).update(name="Bob Owusu", local_name="Owusu & Co")
    Customer.objects.filter(tenant=tenant).update(local_name="Renamed in bulk")
    assert_copies_are_current()
    pl = PriceListFactory(tenant=tenant)
    store_customer_price_list_set(  # the rename of the store dialect's PUT
        store=store, customer_id=made.customer.uuid, price_list_id=pl.pk, name="Carol Ltd"
    )
    assert_copies_are_current()

    # a stale instance saved whole does not write its stale copies back
    stale = CustomerStore.objects.get(pk=link.pk)
    customer_update(customer=ada, name="Countess of Lovelace")
    stale.price_list = pl
    stale.save()
    assert_copies_are_current()
    # nor does a write of the copies themselves
    CustomerStore.objects.filter(pk=link.pk).update(customer_name="forged", customer_local_name="")
    assert_copies_are_current()

    # a link moved to another customer takes that customer's names
    other = CustomerFactory(tenant=tenant, name="Dora Explorer")
    CustomerStore.objects.filter(pk=link.pk).update(customer=other)
    assert_copies_are_current()
    assert CustomerStore.objects.get(pk=link.pk).customer_name == "Dora Explorer"


def test_a_link_to_a_customer_that_does_not_exist_is_refused(store):
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerStore.objects.create(
            customer_id=10**12, store=store, customer_created_at=store.customer.created_at
        )
    assert CustomerStore.objects.filter(store=store).count() == 0


def test_the_search_finds_current_names_only(store):
    tenant = store.tenant
    ada = CustomerFactory(tenant=tenant, name="Ada Lovelace", local_name="")
    customer_store_link(customer=ada, store=store)
    customer_store_link(customer=CustomerFactory(tenant=tenant, name="Grace Hopper"), store=store)
    assert found(store, "lovelace") == ["Ada Lovelace"]
    customer_update(customer=ada, name="Ada King", local_name="Analytical Engines")
    assert found(store, "lovelace") == []
    assert found(store, "KING") == ["Ada King"]
    assert found(store, "engines") == ["Ada King"]  # the local name
    assert [
        r["customer__name"]
        for r in store_customers_page(
            store=store, offset=0, limit=10, name="king", columns=STORE_CUSTOMER_COLUMNS
        )[0]
    ] == ["Ada King"]
    # another tenant's customer of the same name is not in this store's search
    elsewhere = StoreFactory()
    customer_store_link(
        customer=CustomerFactory(tenant=elsewhere.tenant, name="Ada King"), store=elsewhere
    )
    assert found(store, "king") == ["Ada King"]
    assert found(elsewhere, "king") == ["Ada King"]


def test_the_copies_are_not_part_of_the_links_history(store):
    link = customer_store_link(customer=CustomerFactory(tenant=store.tenant), store=store)
    fields = {f.name for f in link.history.model._meta.get_fields()}
    assert "customer_created_at" in fields
    assert "customer_name" not in fields and "customer_local_name" not in fields
    assert link.history.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_rename_committing_while_a_link_is_made_is_not_missed(postgres_only):
    """A link inserted while its customer's rename is uncommitted waits for it (the link's
    trigger reads the customer FOR SHARE): the rename's own trigger cannot see the new link,
    so without the wait the link would keep the old name."""
    store = StoreFactory()
    customer = CustomerFactory(tenant=store.tenant, name="Old Name")
    renamed = threading.Event()

    def link() -> None:
        renamed.wait(timeout=30)
        customer_store_link(customer=customer, store=store)

    join = in_background(link)
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(name="New Name")
        renamed.set()
        time.sleep(0.5)  # the link's INSERT is waiting for this transaction meanwhile
    assert join() == []
    assert CustomerStore.objects.get(store=store, customer=customer).customer_name == "New Name"


@pytest.mark.django_db(transaction=True)
def test_a_rename_waits_for_a_link_being_made_and_then_updates_it(postgres_only):
    """The other order: the link's transaction holds its customer FOR SHARE, so a rename
    waits for it to commit and then sees (and updates) the new link."""
    store = StoreFactory()
    customer = CustomerFactory(tenant=store.tenant, name="Old Name")
    linked = threading.Event()

    def link() -> None:
        with transaction.atomic():
            customer_store_link(customer=customer, store=store)
            linked.set()
            time.sleep(0.5)  # the rename is waiting for this transaction meanwhile

    join = in_background(link)
    assert linked.wait(timeout=30)
    Customer.objects.filter(pk=customer.pk).update(name="New Name")
    assert join() == []
    assert CustomerStore.objects.get(store=store, customer=customer).customer_name == "New Name"


def test_search_indexes_keep_no_long_pending_list(postgres_only):
    """Every search reads a GIN index's whole pending list: the links' trigram indexes keep
    none (links are rarely written), the customers' keep at most 256 kB
    (customers/migrations/0004), instead of 4 MB until a vacuum."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)",
            [
                [
                    "customerstore_name_trgm",
                    "customerstore_local_name_trgm",
                    "customer_name_trgm",
                    "customer_local_name_trgm",
                    "customer_email_trgm",
                ]
            ],
        )
        options = dict(cursor.fetchall())
    assert options == {
        "customerstore_name_trgm": ["fastupdate=off"],
        "customerstore_local_name_trgm": ["fastupdate=off"],
        "customer_name_trgm": ["gin_pending_list_limit=256"],
        "customer_local_name_trgm": ["gin_pending_list_limit=256"],
        "customer_email_trgm": ["gin_pending_list_limit=256"],
    }
