"""The tenant-scoping mixin on every admin: change lists, change views, history, autocomplete,
foreign-key choices, forged POSTs and bulk actions. ``world`` is acme (the staff user's
tenant), ``other`` is globex."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from b2b.models import Account, Contact, CreditCheck, SalesOrder
from customers.duplicates import FoundPair, duplicate_pairs_record
from customers.merging import customer_merge
from customers.models import Address, ClientType, Customer, DuplicatePair, Merge
from pricelists.models import PriceList, PriceListItem, Product
from stores.models import CustomerStore, Store, StoreMembership
from tenants.models import (
    ApiKey,
    Membership,
    Tenant,
    WebhookDelivery,
    WebhookEndpoint,
    hash_secret,
)
from tests.admin_support import admin_client, changelist_pks, make_staff
from tests.factories import (
    AccountFactory,
    AddressFactory,
    ClientTypeFactory,
    ContactFactory,
    CreditCheckFactory,
    CustomerFactory,
    CustomerStoreFactory,
    EventFactory,
    SalesOrderFactory,
    UserFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db


def make_pair(w) -> DuplicatePair:
    a, b = CustomerFactory(tenant=w.tenant), CustomerFactory(tenant=w.tenant)
    duplicate_pairs_record(tenant=w.tenant, pairs=[FoundPair(a.pk, b.pk, 60, ())])
    return DuplicatePair.objects.get(customer_a=a, customer_b=b)


MAKERS = {
    Tenant: lambda w: w.tenant,
    Membership: lambda w: Membership.objects.get(user=w.agent),
    ApiKey: lambda w: w.api_key,
    ClientType: lambda w: ClientTypeFactory(tenant=w.tenant),
    Customer: lambda w: CustomerFactory(tenant=w.tenant),
    Address: lambda w: AddressFactory(customer=CustomerFactory(tenant=w.tenant)),
    Store: lambda w: w.store,
    StoreMembership: lambda w: StoreMembership.objects.get(user=w.agent),
    CustomerStore: lambda w: CustomerStoreFactory(store=w.store),
    Product: lambda w: w.products[0],
    PriceList: lambda w: w.price_list,
    Account: lambda w: AccountFactory(customer=CustomerFactory(tenant=w.tenant)),
    Contact: lambda w: ContactFactory(customer=CustomerFactory(tenant=w.tenant)),
    SalesOrder: lambda w: SalesOrderFactory(customer=CustomerFactory(tenant=w.tenant)),
    CreditCheck: lambda w: CreditCheckFactory(customer=CustomerFactory(tenant=w.tenant)),
    Merge: lambda w: customer_merge(
        survivor=CustomerFactory(tenant=w.tenant), merged=CustomerFactory(tenant=w.tenant)
    ),
    DuplicatePair: make_pair,
    WebhookEndpoint: lambda w: WebhookEndpointFactory(tenant=w.tenant),
    WebhookDelivery: lambda w: WebhookDelivery.objects.create(
        endpoint=WebhookEndpointFactory(tenant=w.tenant),
        event=EventFactory(tenant=w.tenant),
        retry_until="2030-01-01T00:00:00Z",
    ),
}
MODELS = list(MAKERS)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def staff(world):
    return make_staff(world.admin)


def test_every_registered_model_is_covered():
    hub_apps = {"tenants", "customers", "stores", "pricelists", "b2b"}
    registered = {m for m in admin.site._registry if m._meta.app_label in hub_apps}
    assert registered == set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_lists_only_own_tenant(world, other, staff, model):
    mine, theirs = MAKERS[model](world), MAKERS[model](other)
    pks = changelist_pks(admin_client(staff).get(url(model, "changelist")))
    assert mine.pk in pks
    assert theirs.pk not in pks


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_superuser_sees_every_tenant(world, other, model):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    mine, theirs = MAKERS[model](world), MAKERS[model](other)
    assert {mine.pk, theirs.pk} <= changelist_pks(admin_client(root).get(url(model, "changelist")))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_view_of_other_tenant_is_not_found(world, other, staff, model):
    mine, theirs = MAKERS[model](world), MAKERS[model](other)
    client = admin_client(staff)
    assert client.get(url(model, "change", mine.pk)).status_code == 200
    response = client.get(url(model, "change", theirs.pk))
    # Django's "doesn't exist, perhaps it was deleted?" redirect, exactly as for a missing id
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(url(model, "delete", theirs.pk)).status_code in (302, 403)  # 403: no deletes
    history = client.get(url(model, "history", theirs.pk))
    assert history.status_code in (302, 404)


@pytest.mark.parametrize(
    "model", [Customer, Address, CustomerStore, Account, Contact, SalesOrder], ids=str
)
def test_history_pages_of_other_tenant_are_404(world, other, staff, model):
    theirs = MAKERS[model](other)
    client = admin_client(staff)
    assert client.get(url(model, "history", theirs.pk)).status_code == 404
    version = theirs.history.first()
    assert client.get(url(model, "simple_history", theirs.pk, version.pk)).status_code == 404
    mine = MAKERS[model](world)
    assert client.get(url(model, "history", mine.pk)).status_code == 200


def test_staff_without_membership_sees_nothing(world, other):
    stray = UserFactory(username="stray", is_staff=True)  # a staff flag set by hand
    stray.user_permissions.set(world.admin.groups.get().permissions.all())
    client = admin_client(stray)
    assert client.get(url(Customer, "changelist")).status_code == 403
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert response.context["app_list"] == []


def test_inactive_admin_membership_loses_access(world, staff):
    Membership.objects.filter(user=staff).update(is_active=False)
    assert admin_client(staff).get(url(Customer, "changelist")).status_code == 403


# --- autocomplete and choices ----------------------------------------------------------------


def autocomplete(client, app_label, model_name, field_name, term=""):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
    )
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_autocomplete_returns_only_own_tenant(world, other, staff):
    mine = CustomerFactory(tenant=world.tenant, name="Shared Name A")
    theirs = CustomerFactory(tenant=other.tenant, name="Shared Name B")
    client = admin_client(staff)
    ids = autocomplete(client, "customers", "address", "customer", "Shared")
    assert ids == {str(mine.pk)}
    assert str(theirs.pk) not in autocomplete(client, "b2b", "contact", "customer", "")
    my_tag = ClientTypeFactory(tenant=world.tenant, name="vip")
    their_tag = ClientTypeFactory(tenant=other.tenant, name="vip")
    tags = autocomplete(client, "customers", "customer", "tags", "vip")
    assert tags == {str(my_tag.pk)}
    assert str(their_tag.pk) not in tags
    products = autocomplete(client, "pricelists", "pricelistitem", "product", "")
    assert products == {str(p.pk) for p in world.products}


def test_foreign_key_choices_are_scoped(world, other, staff):
    client = admin_client(staff)
    form = client.get(url(CustomerStore, "add")).context["adminform"].form
    assert set(form.fields["store"].queryset) == {world.store, world.store2}
    assert set(form.fields["price_list"].queryset) == {world.price_list, world.inactive_price_list}
    form = client.get(url(Membership, "add")).context["adminform"].form
    assert set(form.fields["tenant"].queryset) == {world.tenant}
    assert set(form.fields["user"].queryset) == {world.admin, world.agent, world.viewer}


# --- forged POSTs ------------------------------------------------------------------------------


def test_forged_tenant_in_customer_add_is_rejected(world, other, staff):
    before = Customer.objects.count()
    response = admin_client(staff).post(
        url(Customer, "add"),
        {"tenant": str(other.tenant.pk), "name": "Forged", "source": "MANUAL", "credit": "0"}
        | _empty_inlines(),
    )
    assert response.status_code == 200
    assert "tenant" in response.context["adminform"].form.errors
    assert Customer.objects.count() == before


def test_forged_store_in_link_add_is_rejected(world, other, staff):
    customer = CustomerFactory(tenant=world.tenant)
    response = admin_client(staff).post(
        url(CustomerStore, "add"), {"customer": customer.pk, "store": str(other.store.pk)}
    )
    assert response.status_code == 200
    assert "store" in response.context["adminform"].form.errors
    assert not CustomerStore.objects.filter(customer=customer).exists()


def test_forged_customer_in_address_add_is_rejected(world, other, staff):
    theirs = CustomerFactory(tenant=other.tenant)
    response = admin_client(staff).post(
        url(Address, "add"), {"customer": theirs.pk, "key": "evil", "line1": "x"}
    )
    assert response.status_code == 200
    assert not Address.objects.filter(key="evil").exists()


def test_forged_inline_rows_are_rejected_and_nothing_is_written(world, other, staff):
    customer = CustomerFactory(tenant=world.tenant, name="Before")
    their_tag = ClientTypeFactory(tenant=other.tenant, name="spy")
    data = _customer_form(customer) | _empty_inlines()
    data |= {
        "name": "After",
        "tags": [str(their_tag.pk)],
        "store_links-TOTAL_FORMS": "1",
        "store_links-0-store": str(other.store.pk),
        "store_links-0-price_list": str(other.price_list.pk),
        "store_links-0-customer": str(customer.pk),
    }
    response = admin_client(staff).post(url(Customer, "change", customer.pk), data)
    assert response.status_code == 200  # the form again, with errors
    assert "tags" in response.context["adminform"].form.errors
    links = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "store_links"
    )
    assert set(links.formset.errors[0]) == {"store", "price_list"}
    customer.refresh_from_db()
    assert customer.name == "Before"
    assert not customer.tags.exists()
    assert not CustomerStore.objects.filter(customer=customer).exists()


def test_forged_product_in_price_list_items_is_rejected(world, other, staff):
    price_list = world.price_list
    data = {
        "name": price_list.name,
        "currency": "USD",
        "is_active": "on",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-product": str(other.products[0].pk),
        "items-0-price": "1.00",
        "items-0-price_list": str(price_list.pk),
    }
    response = admin_client(staff).post(url(PriceList, "change", price_list.pk), data)
    assert response.status_code == 200
    assert "product" in response.context["inline_admin_formsets"][0].formset.errors[0]
    assert not PriceListItem.objects.filter(price_list=price_list).exists()


def test_admin_of_two_tenants_cannot_mix_them(world, other, staff):
    Membership.objects.create(user=staff, tenant=other.tenant, role="admin")
    customer = CustomerFactory(tenant=world.tenant)
    response = admin_client(staff).post(
        url(CustomerStore, "add"),
        {"customer": customer.pk, "store": str(other.store.pk)},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    # the link's tenant is its store's: the acme customer is the one out of place
    assert errors["customer"] == ["This object belongs to another tenant."]
    assert not CustomerStore.objects.filter(customer=customer).exists()


# --- bulk actions ----------------------------------------------------------------------------


def _action(client, model, action, pks, **extra):
    return client.post(
        url(model, "changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in pks], **extra},
    )


@pytest.mark.parametrize("model", [Customer, Contact, Product, ClientType, Address], ids=str)
def test_bulk_delete_with_mixed_ids_deletes_only_own(world, other, staff, model):
    mine, theirs = MAKERS[model](world), MAKERS[model](other)
    response = _action(
        admin_client(staff), model, "delete_selected", [mine.pk, theirs.pk], post="yes"
    )
    assert response.status_code == 302
    assert not model.objects.filter(pk=mine.pk).exists()
    assert model.objects.filter(pk=theirs.pk).exists()


def test_deactivate_with_mixed_ids_changes_only_own(world, other, staff):
    mine, theirs = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=other.tenant)
    _action(admin_client(staff), Customer, "deactivate", [mine.pk, theirs.pk])
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.is_active, theirs.is_active) == (False, True)
    _action(admin_client(staff), Customer, "reactivate", [mine.pk])
    mine.refresh_from_db()
    assert mine.is_active


def test_revoke_keys_with_mixed_ids_revokes_only_own(world, other, staff):
    _action(admin_client(staff), ApiKey, "revoke", [world.api_key.pk, other.api_key.pk])
    world.api_key.refresh_from_db()
    other.api_key.refresh_from_db()
    assert world.api_key.revoked_at is not None
    assert other.api_key.revoked_at is None


# --- writes through the services -----------------------------------------------------------


def test_api_key_secret_is_shown_once(world, staff):
    client = admin_client(staff)
    response = client.post(
        url(ApiKey, "add"),
        {"tenant": str(world.tenant.pk), "name": "erp", "role": "viewer"},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    secret = next(word for m in shown for word in m.split() if word.startswith("chk_"))
    key = ApiKey.objects.get(name="erp")
    assert key.secret_hash == hash_secret(secret) and key.role == "viewer"
    page = client.get(url(ApiKey, "change", key.pk)).content.decode()
    assert secret not in page


def test_tenant_admin_cannot_add_or_delete_tenants(world, staff):
    client = admin_client(staff)
    assert client.get(url(Tenant, "add")).status_code == 403
    assert client.get(url(Tenant, "delete", world.tenant.pk)).status_code == 403


def test_membership_added_in_admin_creates_the_members_customer(world, other, staff):
    Membership.objects.create(user=staff, tenant=other.tenant, role="admin")
    newcomer = UserFactory(username="newcomer")
    Membership.objects.create(user=newcomer, tenant=other.tenant, role="viewer")
    response = admin_client(staff).post(
        url(Membership, "add"),
        {"tenant": str(world.tenant.pk), "user": newcomer.pk, "role": "agent", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer, tenant=world.tenant).role == "agent"
    assert Customer.objects.filter(tenant=world.tenant, user=newcomer).exists()


def test_store_added_in_admin_gets_its_customer(world, staff):
    response = admin_client(staff).post(
        url(Store, "add"),
        {
            "tenant": str(world.tenant.pk),
            "name": "Harbour",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    store = Store.objects.get(name="Harbour")
    assert store.customer.tenant == world.tenant and store.customer.source == "STORE"


def test_order_status_follows_transitions(world, staff):
    order = SalesOrderFactory(customer=CustomerFactory(tenant=world.tenant), status="delivered")
    client = admin_client(staff)
    data = {
        "status": "cancelled",
        "ship_date_0": "",
        "ship_date_1": "",
        "delivery_date_0": "",
        "delivery_date_1": "",
        "paid_at_0": "",
        "paid_at_1": "",
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
    }
    response = client.post(url(SalesOrder, "change", order.pk), data)
    assert response.status_code == 200  # the form again, with order_update's refusal on it
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == ["An order that is delivered cannot become cancelled."]
    order.refresh_from_db()
    assert order.status == "delivered" and order.total_amount == Decimal("0.00")


# --- helpers -----------------------------------------------------------------------------------


def _empty_inlines() -> dict:
    data = {}
    for prefix in ("addresses", "store_links", "account", "contacts"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    return data


def _customer_form(customer) -> dict:
    return {
        "name": customer.name,
        "email": customer.email,
        "source": customer.source,
        "credit": str(customer.credit),
        "is_active": "on" if customer.is_active else "",
        "discord_id": customer.discord_id,
    }
