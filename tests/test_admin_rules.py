"""One place for every rule: the admin writes through the same services as the API, so the
admin path and the API path refuse the same input (and the admin says why in a sentence,
never 'Constraint "…" is violated.'). ``world`` is acme, ``other`` globex; the admin user
is acme's tenant admin."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from b2b.models import Contact, SalesOrder
from customers.models import Customer
from pricelists.models import PriceList, PriceListItem, Product
from stores.models import CustomerStore
from tenants.admin_scoping import TenantScopedAdmin, TenantScopedInlineMixin
from tenants.constraints import MESSAGES, named_constraints
from tenants.roles import HUB_APPS
from tests.admin_support import admin_client
from tests.conftest import bearer_client, json_of
from tests.factories import (
    AccountFactory,
    CustomerFactory,
    CustomerStoreFactory,
    SalesOrderFactory,
)

pytestmark = pytest.mark.django_db


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def store_client(world, store=None):
    return bearer_client(world.admin, **{"x-store-id": str((store or world.store).id)})


def form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code  # the form again, not a redirect
    return response.context["adminform"].form.errors


# --- price lists on store links -------------------------------------------------------------------


def link_change(client, link, price_list):
    return client.post(
        url(CustomerStore, "change", link.pk),
        {"price_list": str(price_list.pk) if price_list else ""},
    )


@pytest.mark.parametrize("which", ["inactive", "another tenant's"])
def test_a_store_links_price_list_must_be_usable_in_admin_and_api(world, other, which):
    """The agent's admin and the store API refuse an inactive or another tenant's price list."""
    refused = world.inactive_price_list if which == "inactive" else other.price_list
    link = CustomerStoreFactory(store=world.store, price_list=world.price_list)
    customer = link.customer
    errors = form_errors(link_change(admin_client(world.agent), link, refused))
    assert errors["price_list"]
    response = bearer_client(world.agent, **{"x-store-id": str(world.store.id)}).put(
        f"/customers/{customer.uuid}/price-list", {"priceListId": str(refused.pk)}, format="json"
    )
    assert response.status_code == 404
    link.refresh_from_db()
    assert link.price_list == world.price_list
    # a new link with it is refused too
    response = admin_client(world.admin).post(
        url(CustomerStore, "add"),
        {"customer": customer.pk, "store": str(world.store2.pk), "price_list": str(refused.pk)},
    )
    assert form_errors(response)["price_list"]
    assert not CustomerStore.objects.filter(customer=customer, store=world.store2).exists()


def test_inactive_price_list_in_the_customers_inline_is_refused(world):
    customer = CustomerFactory(tenant=world.tenant, name="Linked")
    link = CustomerStoreFactory(customer=customer, store=world.store, price_list=world.price_list)
    data = {
        "name": "Linked",
        "source": customer.source,
        "credit": "0",
        "is_active": "on",
        "email": customer.email,
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
        "account-TOTAL_FORMS": "0",
        "account-INITIAL_FORMS": "0",
        "contacts-TOTAL_FORMS": "0",
        "contacts-INITIAL_FORMS": "0",
        "store_links-TOTAL_FORMS": "1",
        "store_links-INITIAL_FORMS": "1",
        "store_links-0-id": str(link.pk),
        "store_links-0-customer": str(customer.pk),
        "store_links-0-store": str(world.store.pk),
        "store_links-0-price_list": str(world.inactive_price_list.pk),
    }
    response = admin_client(world.admin).post(url(Customer, "change", customer.pk), data)
    assert "inactive" in str(form_errors(response))
    link.refresh_from_db()
    assert link.price_list == world.price_list


def test_a_link_price_list_set_in_the_admin_moves_updated_at_as_the_api_does(world):
    link = CustomerStoreFactory(store=world.store)
    before = Customer.objects.get(pk=link.customer_id).updated_at
    response = link_change(admin_client(world.admin), link, world.price_list)
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.price_list == world.price_list
    assert Customer.objects.get(pk=link.customer_id).updated_at > before
    # and cleared
    before = Customer.objects.get(pk=link.customer_id).updated_at
    assert link_change(admin_client(world.admin), link, None).status_code == 302
    link.refresh_from_db()
    assert link.price_list is None
    assert Customer.objects.get(pk=link.customer_id).updated_at > before


# --- prices -----------------------------------------------------------------------------------------


def test_negative_price_is_refused_with_a_sentence(world):
    price_list = world.price_list
    data = {
        "name": price_list.name,
        "currency": "USD",
        "is_active": "on",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-0-product": str(world.products[0].pk),
        "items-0-price": "-1.00",
        "items-0-price_list": str(price_list.pk),
    }
    response = admin_client(world.admin).post(url(PriceList, "change", price_list.pk), data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert errors == {"price": ["The price must be 0 or more."]}
    assert "Constraint" not in response.content.decode()
    assert not PriceListItem.objects.filter(price_list=price_list).exists()


def test_negative_base_price_is_refused_by_admin_and_service(world):
    product = world.products[0]
    response = admin_client(world.admin).post(
        url(Product, "change", product.pk),
        {"sku": product.sku, "name": product.name, "base_price": "-5"},
    )
    assert form_errors(response) == {"base_price": ["The base price must be 0 or more."]}
    from pricelists.services import product_update
    from tenants import errors

    with pytest.raises(errors.ValidationError) as caught:
        product_update(product=product, base_price=Decimal("-5"))
    assert caught.value.fields == {"base_price": ["The base price must be 0 or more."]}


def test_negative_unit_price_on_an_order_is_refused_by_admin_and_api(world):
    customer = CustomerFactory(tenant=world.tenant)
    product = world.products[0]
    response = admin_client(world.agent).post(
        url(SalesOrder, "add"),
        {
            "customer": customer.pk,
            "status": "confirmed",
            "order_date_0": "",
            "order_date_1": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": str(product.pk),
            "lines-0-quantity": "1",
            "lines-0-unit_price": "-1",
        },
    )
    assert response.status_code == 200
    line_errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert line_errors == {"unit_price": ["The unit price must be 0 or more."]}
    api = bearer_client(world.agent).post(
        "/api/orders",
        {
            "customer_id": str(customer.uuid),
            "lines": [{"product_id": str(product.pk), "quantity": 1, "unit_price": -1}],
        },
        format="json",
    )
    assert api.status_code == 400
    assert not SalesOrder.objects.filter(customer=customer).exists()


def test_an_order_line_of_another_tenants_product_is_refused_by_admin_and_api(world, other):
    customer = CustomerFactory(tenant=world.tenant)
    theirs = other.products[0]
    response = admin_client(world.admin).post(
        url(SalesOrder, "add"),
        {
            "customer": customer.pk,
            "status": "confirmed",
            "order_date_0": "",
            "order_date_1": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": str(theirs.pk),
            "lines-0-quantity": "1",
            "lines-0-unit_price": "",
        },
    )
    assert response.status_code == 200
    api = bearer_client(world.admin).post(
        "/api/orders",
        {
            "customer_id": str(customer.uuid),
            "lines": [{"product_id": str(theirs.pk), "quantity": 1}],
        },
        format="json",
    )
    assert api.status_code == 404
    assert not SalesOrder.objects.filter(customer=customer).exists()


# --- customers --------------------------------------------------------------------------------------


def customer_form(customer, **changes) -> dict:
    data = {
        "name": customer.name,
        "email": customer.email,
        "source": customer.source,
        "credit": str(customer.credit),
        "is_active": "on",
        "discord_id": customer.discord_id,
    }
    for prefix in ("addresses", "store_links", "account", "contacts"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    return data | changes


def data_client(world):
    return bearer_client(world.agent, **{"x-tenant-id": "acme"})


def test_invalid_email_is_refused_by_the_agents_admin_and_api(world):
    customer = CustomerFactory(tenant=world.tenant, email="ok@example.com")
    response = admin_client(world.agent).post(
        url(Customer, "change", customer.pk), customer_form(customer, email="not an email")
    )
    assert "email" in form_errors(response)
    api = data_client(world).patch(
        f"/api/data/customer/{customer.uuid}", {"email": "not an email"}, format="json"
    )
    assert api.status_code == 400
    customer.refresh_from_db()
    assert customer.email == "ok@example.com"


def test_duplicate_email_is_refused_by_the_agents_admin_and_api_alike(world):
    CustomerFactory(tenant=world.tenant, email="taken@example.com")
    customer = CustomerFactory(tenant=world.tenant, email="mine@example.com")
    response = admin_client(world.agent).post(
        url(Customer, "change", customer.pk), customer_form(customer, email="TAKEN@example.com")
    )
    api = data_client(world).patch(
        f"/api/data/customer/{customer.uuid}", {"email": "TAKEN@example.com"}, format="json"
    )
    assert api.status_code == 400
    assert form_errors(response)["email"] == [json_of(api)["message"]]


def test_a_linked_user_must_be_a_member_in_the_agents_admin_and_api(world, other):
    customer = CustomerFactory(tenant=world.tenant)
    response = admin_client(world.agent).post(
        url(Customer, "change", customer.pk), customer_form(customer, user=str(other.agent.pk))
    )
    assert "user" in form_errors(response)  # not a choice: only the tenant's members are
    api = data_client(world).post(
        f"/api/data/customer/{customer.uuid}/link", {"userId": str(other.agent.pk)}, format="json"
    )
    assert api.status_code in (400, 404)
    customer.refresh_from_db()
    assert customer.user is None


# --- orders and contacts ------------------------------------------------------------------------


def test_order_status_transition_is_refused_by_admin_and_api_alike(world):
    order = SalesOrderFactory(customer=CustomerFactory(tenant=world.tenant), status="delivered")
    response = admin_client(world.admin).post(
        url(SalesOrder, "change", order.pk),
        {
            "status": "cancelled",
            "ship_date_0": "",
            "ship_date_1": "",
            "delivery_date_0": "",
            "delivery_date_1": "",
            "paid_at_0": "",
            "paid_at_1": "",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )
    api = bearer_client(world.admin).patch(
        f"/api/orders/{order.pk}", {"status": "cancelled"}, format="json"
    )
    assert api.status_code == 409
    assert form_errors(response)["__all__"] == [json_of(api)["error"]["message"]]
    order.refresh_from_db()
    assert order.status == "delivered"


def test_two_primary_contacts_are_refused_by_the_agents_admin_and_api_alike(world):
    customer = CustomerFactory(tenant=world.tenant)
    data = customer_form(customer) | {
        "contacts-TOTAL_FORMS": "2",
        "contacts-0-name": "One",
        "contacts-0-is_primary": "on",
        "contacts-1-name": "Two",
        "contacts-1-is_primary": "on",
    }
    response = admin_client(world.agent).post(url(Customer, "change", customer.pk), data)
    assert response.status_code == 200
    contacts = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "contacts"
    )
    api = bearer_client(world.agent).post(
        "/api/customers",
        {
            "name": "Two primaries",
            "contacts": [
                {"name": "One", "is_primary": True},
                {"name": "Two", "is_primary": True},
            ],
        },
        format="json",
    )
    assert api.status_code == 400
    message = contacts.formset.non_form_errors()[0]
    assert message in json_of(api)["error"]["message"]
    assert not Contact.objects.filter(customer=customer).exists()


def test_account_price_list_must_be_active_in_admin_and_api(world):
    customer = CustomerFactory(tenant=world.tenant)
    AccountFactory(customer=customer)
    data = customer_form(customer) | {
        "account-TOTAL_FORMS": "1",
        "account-INITIAL_FORMS": "1",
        "account-0-customer": str(customer.pk),
        "account-0-payment_terms": "net_30",
        "account-0-currency": "USD",
        "account-0-credit_limit": "0",
        "account-0-discount_rate": "0",
        "account-0-price_list": str(world.inactive_price_list.pk),
    }
    response = admin_client(world.admin).post(url(Customer, "change", customer.pk), data)
    assert "inactive" in str(form_errors(response))
    api = bearer_client(world.admin).put(
        f"/api/customers/{customer.uuid}",
        {"price_list_id": str(world.inactive_price_list.pk)},
        format="json",
    )
    assert api.status_code in (400, 404)
    assert customer.account.price_list is None


# --- one place: every write of the admin names its service -------------------------------------


def test_every_named_constraint_has_a_sentence():
    missing = [
        f"{model._meta.label}.{constraint.name}"
        for model, constraint in named_constraints(HUB_APPS)
        if constraint.name not in MESSAGES
    ]
    assert missing == []


def test_the_scoping_base_refuses_to_write_without_a_service(world):
    base = TenantScopedAdmin(Customer, admin.site)
    with pytest.raises(ImproperlyConfigured):
        base.save_model(None, Customer(tenant=world.tenant), None, False)
    with pytest.raises(ImproperlyConfigured):
        base.delete_model(None, Customer(tenant=world.tenant))


def test_every_hub_admin_writes_through_services(rf):
    """Whatever a superuser may add, change or delete in a hub admin or inline is written by a
    service the admin names (the scoping base refuses the others)."""
    request = rf.get("/admin/")
    request.user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in HUB_APPS:
            continue
        cls = type(model_admin)
        assert isinstance(model_admin, TenantScopedAdmin), model
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
            assert cls.save_model is not TenantScopedAdmin.save_model, cls
        if model_admin.has_delete_permission(request):
            assert cls.delete_model is not TenantScopedAdmin.delete_model, cls
        for inline_class in model_admin.get_inlines(request, None):
            inline = inline_class(model, admin.site)
            assert isinstance(inline, TenantScopedInlineMixin), inline_class
            writes = (
                inline.has_add_permission(request, None)
                or inline.has_change_permission(request)
                or (inline.can_delete and inline.has_delete_permission(request))
            )
            assert not writes or "save_formset" in vars(inline_class), inline_class
