"""What a support agent meets daily in the back-office: orders with product names and
addresses, the list's link to the 360° page and its phone column, the 360° page's link to all
orders, dates with their time zone; and the list, its search and the 360° page within a
bounded number of queries, without counting the whole table (docs/performance.md)."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from b2b.models import SalesOrder
from b2b.services import order_create
from customers.services import customer_update
from tests.admin_support import admin_client, changelist_pks
from tests.factories import (
    AccountFactory,
    AddressFactory,
    ClientTypeFactory,
    ContactFactory,
    CreditCheckFactory,
    CustomerFactory,
    CustomerStoreFactory,
    SalesOrderFactory,
)

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:customers_customer_changelist")


def url_360(customer):
    return reverse("admin:customers_customer_360", args=[customer.pk])


def test_an_order_shows_product_names_and_a_formatted_address(world):
    customer = CustomerFactory(tenant=world.tenant)
    product = world.products[0]
    order = order_create(
        tenant=world.tenant,
        customer=customer,
        lines=[{"product_id": product.pk, "quantity": 5, "unit_price": Decimal("2.00")}],
        shipping_address={
            "line1": "1 Commerce Way",
            "city": "Springfield",
            "postal_code": "62701",
            "country": "US",
        },
    )
    page = admin_client(world.agent).get(reverse("admin:b2b_salesorder_change", args=[order.pk]))
    text = page.content.decode()
    assert f"{product.name} ({product.sku})" in text
    assert f"5 x {product.name}" in text  # the line's own label
    assert str(product.pk) not in text
    assert "1 Commerce Way<br>62701 Springfield<br>US" in text
    assert "{&#x27;" not in text and '{"' not in text  # no JSON


def test_the_customer_list_links_to_the_360_page_and_shows_phone(world):
    customer = CustomerFactory(tenant=world.tenant, name="Ada Lovelace", phone="0612345678")
    page = admin_client(world.agent).get(CHANGELIST, {"q": "Lovelace"}).content.decode()
    assert f'href="{url_360(customer)}"' in page
    assert "0612345678" in page


def test_the_360_page_links_to_all_the_customers_orders(world):
    customer = CustomerFactory(tenant=world.tenant)
    orders = [SalesOrderFactory(customer=customer) for _ in range(12)]
    SalesOrderFactory(customer=CustomerFactory(tenant=world.tenant))
    client = admin_client(world.agent)
    page = client.get(url_360(customer)).content.decode()
    link = re.search(r'id="c360-all-orders" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert changelist_pks(client.get(link)) == {order.pk for order in orders}


def test_dates_are_shown_with_their_time_zone(world):
    customer = CustomerFactory(tenant=world.tenant, name="Zoned")
    client = admin_client(world.admin)
    day = customer.updated_at.strftime("%Y-%m-%d")
    assert re.search(rf"{day} \d\d:\d\d UTC", client.get(CHANGELIST).content.decode())
    change = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    assert re.search(rf"{day} \d\d:\d\d UTC", change.content.decode())
    assert re.search(rf"{day} \d\d:\d\d UTC", client.get(url_360(customer)).content.decode())


# --- queries ----------------------------------------------------------------------------------------


def rich_customers(world, n):
    tags = [ClientTypeFactory(tenant=world.tenant, name=f"tag{i}") for i in range(3)]
    for i in range(n):
        customer = CustomerFactory(tenant=world.tenant, tags=tags[: i % 3 + 1], name=f"Rich {i}")
        CustomerStoreFactory(customer=customer, store=world.store, price_list=world.price_list)
        CustomerStoreFactory(customer=customer, store=world.store2)


def queries_of(client, path, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params or {})
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


CUSTOMER_COUNT = re.compile(r'SELECT COUNT\(\*\).*FROM "customers_customer"', re.S)


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_the_list_and_its_search_have_a_bounded_number_of_queries(world, role):
    rich_customers(world, 60)
    client = admin_client(getattr(world, role))
    for params in ({}, {"q": "Rich"}, {"q": "Rich 1"}, {"is_active__exact": "1"}, {"p": "2"}):
        sql = queries_of(client, CHANGELIST, params)
        assert len(sql) <= 14, (params, len(sql), sql)


def test_the_list_is_not_counted_and_its_filters_do_not_scan_it(world, postgres_only):
    rich_customers(world, 5)
    client = admin_client(world.admin)
    whole = queries_of(client, CHANGELIST)
    assert len(whole) <= 13
    assert not [q for q in whole if CUSTOMER_COUNT.search(q)]  # the kept count
    assert not [q for q in whole if "DISTINCT" in q and '"customers_customer"' in q]
    searched = queries_of(client, CHANGELIST, {"q": "Rich"})
    # one statement finds the matches, counts them and picks the page
    assert len([q for q in searched if "ILIKE" in q or "LIKE UPPER" in q]) == 2
    assert not [q for q in searched if CUSTOMER_COUNT.search(q)]


def test_the_360_page_has_a_bounded_number_of_queries(world):
    customer = CustomerFactory(tenant=world.tenant)
    customer.tags.set([ClientTypeFactory(tenant=world.tenant, name="vip")])
    for key in ("home", "work", "other"):
        AddressFactory(customer=customer, key=key)
    CustomerStoreFactory(customer=customer, store=world.store, price_list=world.price_list)
    AccountFactory(customer=customer)
    for _ in range(3):
        ContactFactory(customer=customer)
    for _ in range(15):
        SalesOrderFactory(customer=customer)
    CreditCheckFactory(customer=customer)
    for n in range(5):
        customer_update(customer=customer, notes=f"note {n}")
    client = admin_client(world.agent)
    # with the history timeline (customers/history.py) and the possible duplicates (at most
    # 12: customers/duplicates.py); constant in the rows
    assert len(queries_of(client, url_360(customer))) <= 32 + 12
    assert SalesOrder.objects.filter(customer=customer).count() == 15


def test_a_broad_search_or_filter_counts_up_to_a_cap(world, monkeypatch):
    from customers.admin import CustomerAdmin

    monkeypatch.setattr(CustomerAdmin, "count_cap", 3)
    monkeypatch.setattr(CustomerAdmin, "list_per_page", 2)
    made = [CustomerFactory(tenant=world.tenant, name=f"Broad {i}") for i in range(5)]
    client = admin_client(world.agent)
    response = client.get(CHANGELIST, {"q": "Broad"})
    cl = response.context["cl"]
    assert cl.count_capped and cl.result_count == 3
    assert "more than 3 customers" in response.content.decode()
    assert [c.pk for c in cl.result_list] == [made[4].pk, made[3].pk]  # newest first
    second = client.get(CHANGELIST, {"q": "Broad", "p": "2"}).context["cl"]
    assert [c.pk for c in second.result_list] == [made[2].pk, made[1].pk]
    exact = client.get(CHANGELIST, {"q": "'Broad 1'"}).context["cl"]  # one phrase
    assert (exact.count_capped, exact.result_count) == (False, 1)
    assert [c.pk for c in exact.result_list] == [made[1].pk]
    inactive = client.get(CHANGELIST, {"is_active__exact": "0"}).context["cl"]
    assert (inactive.count_capped, inactive.result_count) == (False, 0)
