"""The customer admin: change list (columns, search, filters, constant queries), the change form
through the services, the 360 page, history of API writes, and the admin index counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Address, Customer
from customers.services import customer_update, default_address_set
from stores.models import CustomerStore
from tests.admin_support import admin_client, changelist_pks, make_staff
from tests.conftest import bearer_client
from tests.factories import (
    AccountFactory,
    AddressFactory,
    ClientTypeFactory,
    ContactFactory,
    CreditCheckFactory,
    CustomerFactory,
    CustomerStoreFactory,
    SalesOrderFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:customers_customer_changelist")


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def url_360(customer):
    return reverse("admin:customers_customer_360", args=[customer.pk])


@pytest.fixture
def staff(world):
    return make_staff(world.admin)


def rich_customers(world, n):
    tags = [ClientTypeFactory(tenant=world.tenant, name=f"tag{i}") for i in range(3)]
    customers = []
    for i in range(n):
        customer = CustomerFactory(tenant=world.tenant, tags=tags[: i % 3 + 1])
        CustomerStoreFactory(customer=customer, store=world.store, price_list=world.price_list)
        CustomerStoreFactory(customer=customer, store=world.store2)
        customers.append(customer)
    return customers


def count_changelist_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST)
        assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_changelist_queries_are_constant_whatever_the_page_size(
    world, staff, django_assert_max_num_queries
):
    client = admin_client(staff)
    rich_customers(world, 5)
    small, response = count_changelist_queries(client)
    assert len(response.context["cl"].result_list) >= 5
    rich_customers(world, 45)
    big, response = count_changelist_queries(client)
    assert len(response.context["cl"].result_list) == 50
    assert big == small
    with django_assert_max_num_queries(small):
        client.get(CHANGELIST)


def test_changelist_columns(world, staff):
    customer = CustomerFactory(
        tenant=world.tenant, name="Ada Lovelace", discord_display_name="Countess"
    )
    customer.tags.set([ClientTypeFactory(tenant=world.tenant, name="vip")])
    CustomerStoreFactory(customer=customer, store=world.store)
    page = admin_client(staff).get(CHANGELIST, {"q": "Lovelace"}).content.decode()
    for text in ("Ada Lovelace", customer.email, customer.phone, world.store.name, "vip"):
        assert text in page
    assert url_360(customer) in page


def _national(phone: str) -> str:
    """A stored (E.164) phone as a person types it in its own country: "06 12345678"."""
    import phonenumbers

    return phonenumbers.format_number(
        phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL
    )


@pytest.mark.parametrize(
    "term",
    [
        lambda c: "Lovelace",
        lambda c: c.local_name,
        lambda c: c.email.upper(),
        lambda c: c.phone,
        lambda c: _national(c.phone),
        lambda c: c.discord_id,
        lambda c: c.discord_username,
        lambda c: str(c.uuid),
        lambda c: str(c.pk),
    ],
    ids=[
        "name",
        "local_name",
        "email",
        "phone",
        "phone_national",
        "discord_id",
        "discord_name",
        "uuid",
        "id",
    ],
)
def test_search(world, other, staff, term):
    customer = CustomerFactory(tenant=world.tenant, name="Ada Lovelace", local_name="エイダ")
    CustomerFactory(tenant=world.tenant, name="Someone Else")
    twin = CustomerFactory(tenant=other.tenant, name="Ada Lovelace", local_name="エイダ")
    pks = changelist_pks(admin_client(staff).get(CHANGELIST, {"q": term(customer)}))
    assert customer.pk in pks
    assert twin.pk not in pks
    assert len(pks) == 1


def test_filters(world, other, staff):
    linked = CustomerFactory(tenant=world.tenant)
    CustomerStoreFactory(customer=linked, store=world.store2)
    CustomerStoreFactory(store=world.store)  # a filter with a single choice is not shown
    b2b = CustomerFactory(tenant=world.tenant)
    AccountFactory(customer=b2b)
    inactive = CustomerFactory(tenant=world.tenant, is_active=False)
    tag = ClientTypeFactory(tenant=world.tenant, name="donor")
    tagged = CustomerFactory(tenant=world.tenant, tags=[tag])
    client = admin_client(staff)
    get = lambda **q: changelist_pks(client.get(CHANGELIST, q))  # noqa: E731
    assert get(store_links__store__id__exact=str(world.store2.pk)) == {linked.pk}
    assert get(has_account="yes") == {b2b.pk}
    assert get(is_active__exact="0") == {inactive.pk}
    assert get(tags__id__exact=str(tag.pk)) == {tagged.pk}
    assert get(source__exact="STORE") == {world.store.customer.pk, world.store2.customer.pk}
    # the store filter offers only the caller's stores
    response = client.get(CHANGELIST)
    page = response.content.decode()
    assert world.store2.name in page and other.store.name not in page


def test_change_form_writes_through_services_and_validates_email(world, staff):
    taken = CustomerFactory(tenant=world.tenant, email="taken@example.com")
    customer = CustomerFactory(tenant=world.tenant, email="mine@example.com")
    client = admin_client(staff)
    form = client.get(change_url(customer)).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "tags"}
    data |= _inline_management(customer)
    data["email"] = "TAKEN@example.com"
    response = client.post(change_url(customer), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"]
    data["email"] = "new@example.com"
    data["name"] = "Renamed"
    response = client.post(change_url(customer), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert (customer.email, customer.name) == ("new@example.com", "Renamed")
    record = customer.history.first()
    assert record.history_user == staff and record.history_type == "~"
    assert taken.email == "taken@example.com"


def test_address_inline_add_edit_and_remove_the_default(world, staff):
    customer = CustomerFactory(tenant=world.tenant)
    home = AddressFactory(customer=customer, key="home", city="Utrecht")
    default_address_set(customer=customer, key="home")
    client = admin_client(staff)
    form = client.get(change_url(customer)).context["adminform"].form
    base = {k: v for k, v in form.initial.items() if v is not None and k != "tags"}
    base["default_address"] = str(home.pk)
    data = base | _inline_management(customer, addresses=2, initial_addresses=1)
    data |= _address_row(0, home, city="Amsterdam")
    data |= {"addresses-1-key": "work", "addresses-1-city": "Delft", "addresses-1-customer": ""}
    response = client.post(change_url(customer), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    home.refresh_from_db()
    assert home.city == "Amsterdam"
    assert Address.objects.get(customer=customer, key="work").city == "Delft"
    assert home.history.first().history_user == staff

    data = base | _inline_management(customer, addresses=1, initial_addresses=1)
    data["default_address"] = ""
    data |= _address_row(0, home, city="Amsterdam") | {"addresses-0-DELETE": "on"}
    # the work address is not in the formset's rows: keep counts right
    data |= {"addresses-TOTAL_FORMS": "2", "addresses-INITIAL_FORMS": "2"}
    work = Address.objects.get(customer=customer, key="work")
    data |= _address_row(1, work)
    response = client.post(change_url(customer), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.default_address is None
    assert list(customer.addresses.values_list("key", flat=True)) == ["work"]


def test_customer_add_uses_the_service(world, staff):
    data = {
        "tenant": str(world.tenant.pk),
        "name": "Fresh",
        "email": "fresh@example.com",
        "source": "MANUAL",
        "credit": "0",
        "is_active": "on",
        "tags": [str(ClientTypeFactory(tenant=world.tenant, name="friend").pk)],
    } | _inline_management(None)
    response = admin_client(staff).post(reverse("admin:customers_customer_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get(email="fresh@example.com")
    assert [t.name for t in customer.tags.all()] == ["friend"]
    assert customer.history.first().history_user == staff


def test_export_action_returns_csv_of_selection(world, other, staff):
    mine = CustomerFactory(tenant=world.tenant, name="Exported")
    theirs = CustomerFactory(tenant=other.tenant, name="Hidden")
    response = admin_client(staff).post(
        CHANGELIST,
        {"action": "export_csv", "_selected_action": [str(mine.pk), str(theirs.pk)]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "Exported" in body and "Hidden" not in body
    assert body.splitlines()[0].startswith("id,customer_id,name")


# --- history -------------------------------------------------------------------------------------


def test_api_write_is_recorded_with_its_author(world):
    customer = CustomerFactory(tenant=world.tenant, phone="+31611111111")
    client = bearer_client(world.agent, **{"x-tenant-id": "acme"})
    response = client.patch(
        f"/api/data/customer/{customer.uuid}", {"phone": "+31622222222"}, format="json"
    )
    assert response.status_code == 200
    record = customer.history.first()
    assert record.history_type == "~" and record.phone == "+31622222222"
    assert record.history_user == world.agent


def test_api_key_write_is_recorded_without_user(world):
    customer = CustomerFactory(tenant=world.tenant)
    client = bearer_client(world.api_key, **{"x-tenant-id": "acme"})
    response = client.patch(f"/api/data/customer/{customer.uuid}", {"notes": "x"}, format="json")
    assert response.status_code == 200
    assert customer.history.first().history_user is None


def test_shell_write_is_recorded(world):
    customer = CustomerFactory(tenant=world.tenant)
    customer_update(customer=customer, notes="from the shell")
    record = customer.history.first()
    assert record.notes == "from the shell" and record.history_user is None


def test_history_page_shows_author(world, staff):
    customer = CustomerFactory(tenant=world.tenant)
    bearer_client(world.agent, **{"x-tenant-id": "acme"}).patch(
        f"/api/data/customer/{customer.uuid}", {"phone": "+31612999999"}, format="json"
    )
    page = admin_client(staff).get(reverse("admin:customers_customer_history", args=[customer.pk]))
    assert page.status_code == 200
    assert "acme-agent" in page.content.decode()


# --- 360 page ------------------------------------------------------------------------------------


def test_360_page_shows_everything_about_the_customer(world, staff, django_assert_max_num_queries):
    customer = Customer.objects.get(tenant=world.tenant, user=world.viewer)
    customer_update(customer=customer, name="Grace Hopper", discord_id="80000001")
    customer.tags.set([ClientTypeFactory(tenant=world.tenant, name="vip")])
    home = AddressFactory(customer=customer, key="home", city="Arlington")
    AddressFactory(customer=customer, key="work", city="Boston")
    default_address_set(customer=customer, key="home")
    CustomerStoreFactory(customer=customer, store=world.store, price_list=world.price_list)
    AccountFactory(customer=customer, payment_terms="net_45")
    ContactFactory(customer=customer, name="Jane Buyer", is_primary=True)
    SalesOrderFactory(customer=customer, order_number="SO-1", status="confirmed")
    CreditCheckFactory(customer=customer, credit_score=777)
    customer_update(customer=customer, phone="0612340123")
    client = admin_client(staff)
    with django_assert_max_num_queries(40 + 12):  # + the possible duplicates' (at most 12)
        response = client.get(url_360(customer))
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        str(customer.uuid),
        f"<code>{customer.pk}</code>",
        "80000001",
        "acme-viewer",
        "vip",
        "Arlington",
        "Boston",
        world.store.name,
        world.price_list.name,
        "Net 45",
        "Jane Buyer",
        "SO-1",
        "777",
        "Lifetime value",
        "<strong>Phone:</strong> — &rarr; +31612340123",  # the history: label, old and new value
    ):
        assert text in page, text
    assert '<code>home</code> <span class="badge default">default</span>' in page
    assert '<code>work</code> <span class="badge default">' not in page
    assert home.pk == Customer.objects.get(pk=customer.pk).default_address_id


def test_360_page_of_other_tenant_is_404(world, other, staff):
    theirs = CustomerFactory(tenant=other.tenant)
    assert admin_client(staff).get(url_360(theirs)).status_code == 404
    assert admin_client(staff).get("/admin/customers/customer/999999999/360/").status_code == 404


def test_change_form_links_to_360(world, staff):
    customer = CustomerFactory(tenant=world.tenant)
    page = admin_client(staff).get(change_url(customer)).content.decode()
    assert url_360(customer) in page


# --- admin index ---------------------------------------------------------------------------------


def test_index_counts_per_tenant(world, other, staff, django_assert_max_num_queries):
    CustomerFactory.create_batch(3, tenant=world.tenant)
    StoreFactory(tenant=world.tenant, is_active=False)
    for status in ("draft", "confirmed", "shipped", "delivered", "cancelled"):
        SalesOrderFactory(customer=CustomerFactory(tenant=world.tenant), status=status)
    CustomerFactory.create_batch(2, tenant=other.tenant)
    client = admin_client(staff)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:index"))
    page = response.content.decode()
    assert "Customer hub back-office" in page
    expected_customers = Customer.objects.filter(tenant=world.tenant).count()
    row = _overview_row(page, "acme")
    assert row == [expected_customers, 2, 3]
    assert 'data-tenant="globex"' not in page


def _overview_row(page, slug):
    import re

    start = page.index(f'data-tenant="{slug}"')
    chunk = page[start : page.index("</tr>", start)]
    return [int(n) for n in re.findall(r'<td class="count">(\d+)</td>', chunk)]


# --- helpers ---------------------------------------------------------------------------------


def _inline_management(customer, addresses=None, initial_addresses=None) -> dict:
    """Management forms of the customer's inlines (rows of existing objects are left out:
    only customers without store links, account or contacts are posted)."""
    if customer is not None:
        assert not CustomerStore.objects.filter(customer=customer).exists()
    data = {}
    for prefix in ("addresses", "store_links", "account", "contacts"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    if addresses is not None:
        data["addresses-TOTAL_FORMS"] = str(addresses)
        data["addresses-INITIAL_FORMS"] = str(initial_addresses or 0)
    return data


def _address_row(index, address, **changes) -> dict:
    prefix = f"addresses-{index}-"
    values = {
        "id": str(address.pk),
        "customer": str(address.customer_id),
        "key": address.key,
        "name": address.name,
        "phone": address.phone,
        "line1": address.line1,
        "house_number": address.house_number,
        "line2": address.line2,
        "postal_code": address.postal_code,
        "city": address.city,
        "state": address.state,
        "country": address.country,
    } | changes
    return {prefix + k: v for k, v in values.items()}
