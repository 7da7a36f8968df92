"""Back-office roles derived from memberships (tenants/roles.py): staff flags and permission
groups kept by the membership services, and what an admin, an agent and a viewer of a tenant
may see and do in the admin (tenants/admin_scoping.py). ``world`` is acme, ``other`` globex;
acme's agent and viewer have a relation with acme's first store only."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from b2b.models import SalesOrder
from customers.models import ClientType, Customer
from customers.services import member_join
from pricelists.models import PriceList, Product
from stores.management.commands.demo import DEMO_PASSWORD
from stores.models import CustomerStore, Store, StoreMembership
from stores.services import store_update
from tenants.models import ApiKey, Membership, Tenant
from tenants.services import membership_remove, membership_update, tenant_update
from tests.admin_support import admin_client, changelist_pks
from tests.factories import CustomerFactory, CustomerStoreFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def groups(user) -> set:
    return set(user.groups.values_list("name", flat=True))


def refreshed(user):
    user.refresh_from_db()
    return user


# --- staff flags and groups follow the memberships ------------------------------------------------


def test_a_membership_makes_staff_in_the_roles_group(world):
    for user, role in ((world.admin, "admin"), (world.agent, "agent"), (world.viewer, "viewer")):
        user = refreshed(user)
        assert user.is_staff and groups(user) == {role}
    agent = get_user_model().objects.get(pk=world.agent.pk)  # fresh permission caches
    assert agent.has_perm("customers.change_customer")
    assert agent.has_perm("stores.add_customerstore")
    assert not agent.has_perm("customers.delete_customer")
    assert not agent.has_perm("tenants.view_apikey")
    assert not agent.has_perm("pricelists.view_pricelist")
    viewer = get_user_model().objects.get(pk=world.viewer.pk)
    assert viewer.has_perm("customers.view_customer")
    assert not viewer.has_perm("customers.change_customer")


def test_access_follows_role_changes_and_switching_off(world):
    membership = Membership.objects.get(user=world.agent)
    membership_update(membership=membership, role="viewer")
    assert groups(world.agent) == {"viewer"} and refreshed(world.agent).is_staff
    membership_update(membership=membership, is_active=False)
    assert groups(world.agent) == set() and not refreshed(world.agent).is_staff
    membership_update(membership=membership, is_active=True)
    assert refreshed(world.agent).is_staff

    tenant_update(tenant=world.tenant, is_active=False)
    for user in (world.admin, world.agent, world.viewer):
        assert not refreshed(user).is_staff and groups(user) == set()
    tenant_update(tenant=world.tenant, is_active=True)
    assert refreshed(world.admin).is_staff and groups(world.admin) == {"admin"}

    membership_remove(membership=Membership.objects.get(user=world.viewer))
    assert not refreshed(world.viewer).is_staff and groups(world.viewer) == set()


def test_a_member_of_two_tenants_holds_both_roles_groups(world, other):
    member_join(tenant=other.tenant, user=world.agent, role="viewer")
    assert groups(world.agent) == {"agent", "viewer"}
    membership_update(membership=Membership.objects.get(user=world.agent, tenant=world.tenant),
                      is_active=False)  # fmt: skip
    assert groups(world.agent) == {"viewer"} and refreshed(world.agent).is_staff


def test_other_groups_and_a_superusers_flag_are_left_alone(world):
    team = Group.objects.create(name="night shift")
    world.viewer.groups.add(team)
    membership_remove(membership=Membership.objects.get(user=world.viewer))
    assert groups(world.viewer) == {"night shift"}
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    member_join(tenant=world.tenant, user=root, role="viewer")
    membership_remove(membership=Membership.objects.get(user=root))
    assert refreshed(root).is_staff


def test_demo_users_of_every_role_log_in_to_the_back_office(db):
    call_command("demo", stdout=StringIO())
    for username in ("acme-admin", "acme-agent", "acme-viewer"):
        client = Client()
        response = client.post(
            "/admin/login/?next=/admin/",
            {"username": username, "password": DEMO_PASSWORD, "next": "/admin/"},
        )
        assert response.status_code == 302, (username, response.content[-600:])
        index = client.get("/admin/")
        assert index.status_code == 200 and index.context["app_list"], username
    call_command("demo", stdout=StringIO())  # idempotent, flags and groups included
    agent = get_user_model().objects.get(username="acme-agent")
    assert agent.is_staff and groups(agent) == {"agent"}


def test_grant_membership_command_gives_back_office_access(world):
    call_command(
        "grant_membership",
        "newbie",
        "acme",
        "--role",
        "viewer",
        "--create",
        "--password",
        "a-long-password-42",
        stdout=StringIO(),
    )
    newbie = get_user_model().objects.get(username="newbie")
    assert newbie.is_staff and groups(newbie) == {"viewer"}
    assert newbie.check_password("a-long-password-42")


# --- what each role sees and may do ---------------------------------------------------------------

HIDDEN = (ApiKey, Membership, Tenant, PriceList, StoreMembership)


def admin_models(client) -> set:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return {m["object_name"] for app in response.context["app_list"] for m in app["models"]}


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_agents_and_viewers_see_the_daily_work_and_nothing_else(world, role):
    client = admin_client(getattr(world, role))
    models = admin_models(client)
    assert {"Customer", "Address", "CustomerStore", "SalesOrder", "Contact", "Account"} <= models
    assert not models & {m.__name__ for m in HIDDEN}
    for model, obj in (
        (ApiKey, world.api_key),
        (Membership, Membership.objects.get(user=world.admin)),
        (Tenant, world.tenant),
        (PriceList, world.price_list),
        (StoreMembership, StoreMembership.objects.get(user=world.agent)),
    ):
        assert client.get(url(model, "changelist")).status_code == 403, model
        assert client.get(url(model, "change", obj.pk)).status_code == 403, model


def test_admin_sees_everything_of_its_tenant(world):
    models = admin_models(admin_client(world.admin))
    assert {m.__name__ for m in HIDDEN} <= models


def test_agent_edits_but_never_deletes(world):
    customer = CustomerFactory(tenant=world.tenant, name="Before")
    client = admin_client(world.agent)
    page = client.get(url(Customer, "change", customer.pk))
    assert page.context["has_change_permission"] and not page.context["has_delete_permission"]
    assert b'name="_save"' in page.content and b"deletelink" not in page.content
    # a forged delete, by URL or as a bulk action, is refused
    assert client.get(url(Customer, "delete", customer.pk)).status_code == 403
    assert client.post(url(Customer, "delete", customer.pk), {"post": "yes"}).status_code == 403
    changelist = client.get(url(Customer, "changelist"))
    assert "delete_selected" not in dict(changelist.context["action_form"].fields["action"].choices)
    client.post(
        url(Customer, "changelist"),
        {"action": "delete_selected", "_selected_action": [customer.pk], "post": "yes"},
    )
    assert Customer.objects.filter(pk=customer.pk).exists()
    # and the daily edit goes through
    data = {
        "name": "After",
        "email": customer.email,
        "source": customer.source,
        "credit": "0",
        "is_active": "on",
    } | _empty_inlines()
    response = client.post(url(Customer, "change", customer.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.name == "After"
    assert customer.history.first().history_user == world.agent


def test_agent_reaches_only_the_store_links_of_its_stores(world):
    world.store = store_update(store=world.store, name="Downtown shop")
    world.store2 = store_update(store=world.store2, name="Airport shop")
    mine = CustomerStoreFactory(store=world.store)
    theirs = CustomerStoreFactory(store=world.store2)
    client = admin_client(world.agent)
    assert changelist_pks(client.get(url(CustomerStore, "changelist"))) == {mine.pk}
    assert client.get(url(CustomerStore, "change", theirs.pk)).status_code == 302  # not found
    form = client.get(url(CustomerStore, "add")).context["adminform"].form
    assert set(form.fields["store"].queryset) == {world.store}
    # on the customer's page too: only the links of its stores are shown and written
    customer = CustomerFactory(tenant=world.tenant)
    CustomerStoreFactory(customer=customer, store=world.store)
    CustomerStoreFactory(customer=customer, store=world.store2)
    response = client.get(url(Customer, "change", customer.pk))
    links = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "store_links"
    )
    assert [f.instance.store for f in links.formset.forms] == [world.store]
    # the stores it may pick are its own
    assert set(links.formset.empty_form.fields["store"].queryset) == {world.store}
    # and the list's stores column and the 360 page show only those
    listed = client.get(url(Customer, "changelist"), {"q": customer.name}).content.decode()
    page = client.get(reverse("admin:customers_customer_360", args=[customer.pk])).content
    for text in (listed, page.decode()):
        assert world.store.name in text and world.store2.name not in text


def test_viewer_only_views(world):
    customer = CustomerFactory(tenant=world.tenant, name="Same")
    client = admin_client(world.viewer)
    assert customer.pk in changelist_pks(client.get(url(Customer, "changelist")))
    page = client.get(url(Customer, "change", customer.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert b'name="_save"' not in page.content and b'name="_continue"' not in page.content
    data = {"name": "Changed", "source": "MANUAL", "credit": "0"} | _empty_inlines()
    assert client.post(url(Customer, "change", customer.pk), data).status_code == 403
    assert client.get(url(Customer, "add")).status_code == 403
    changelist = client.get(url(Customer, "changelist"))
    assert set(dict(changelist.context["action_form"].fields["action"].choices)) <= {
        "",
        "export_csv",
    }
    client.post(
        url(Customer, "changelist"), {"action": "deactivate", "_selected_action": [customer.pk]}
    )
    customer.refresh_from_db()
    assert customer.name == "Same" and customer.is_active
    page = client.get(reverse("admin:customers_customer_360", args=[customer.pk]))
    assert page.status_code == 200 and page.context["has_change_permission"] is False


def test_a_user_acts_by_its_role_in_each_objects_tenant(world, other):
    user = world.admin
    member_join(tenant=other.tenant, user=user, role="viewer")
    mine, theirs = CustomerFactory(tenant=world.tenant), CustomerFactory(tenant=other.tenant)
    client = admin_client(user)
    assert {mine.pk, theirs.pk} <= changelist_pks(client.get(url(Customer, "changelist")))
    assert client.get(url(Customer, "change", mine.pk)).context["has_change_permission"]
    page = client.get(url(Customer, "change", theirs.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    data = {"name": "x", "source": "MANUAL", "credit": "0"} | _empty_inlines()
    assert client.post(url(Customer, "change", theirs.pk), data).status_code == 403
    assert client.get(url(Customer, "delete", theirs.pk)).status_code == 403
    assert client.get(url(Customer, "delete", mine.pk)).status_code == 200
    # a bulk action runs only where the role allows it
    client.post(
        url(Customer, "changelist"),
        {"action": "deactivate", "_selected_action": [mine.pk, theirs.pk]},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.is_active, theirs.is_active) == (False, True)
    # a new object goes to a tenant where the role may add it
    form = client.get(url(Customer, "add")).context["adminform"].form
    assert list(form.fields["tenant"].queryset) == [world.tenant]
    response = client.post(
        url(Customer, "add"),
        {"tenant": str(other.tenant.pk), "name": "Sneaky", "source": "MANUAL", "credit": "0"}
        | _empty_inlines(),
    )
    assert response.status_code == 200
    assert not Customer.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("model", [Product, ClientType, Store, PriceList])
def test_agents_change_nothing_outside_their_work(world, model):
    client = admin_client(world.agent)
    assert client.get(url(model, "add")).status_code == 403


def test_agent_adds_an_order_through_the_service(world):
    customer = CustomerFactory(tenant=world.tenant)
    product = world.products[0]
    client = admin_client(world.agent)
    assert client.get(url(SalesOrder, "add")).status_code == 200
    response = client.post(
        url(SalesOrder, "add"),
        {
            "customer": customer.pk,
            "status": "confirmed",
            "order_date_0": "",
            "order_date_1": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-product": str(product.pk),
            "lines-0-quantity": "3",
            "lines-0-unit_price": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    order = SalesOrder.objects.get(customer=customer)
    assert order.order_number.startswith("SO-") and order.items_count == 3
    assert order.total_amount == product.base_price * 3


def _empty_inlines() -> dict:
    data = {}
    for prefix in ("addresses", "store_links", "account", "contacts"):
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    return data


def test_sync_roles_derives_access_for_data_older_than_the_services(world):
    Membership.objects.filter(user=world.agent).update(role="viewer")  # before the services
    stray = UserFactory(username="stray", is_staff=True)  # a flag set by hand
    call_command("sync_roles", stdout=StringIO())
    assert groups(world.agent) == {"viewer"} and refreshed(world.agent).is_staff
    assert not refreshed(stray).is_staff
    assert groups(world.admin) == {"admin"}


def test_sync_roles_gives_the_admin_group_the_permissions_of_new_models(world):
    from django.contrib.auth.models import Group

    admin_group = Group.objects.get(name="admin")
    admin_group.permissions.remove(
        *admin_group.permissions.filter(content_type__model="webhookendpoint")
    )  # as an admin group made before the webhook migration
    call_command("sync_roles", stdout=StringIO())
    assert admin_group.permissions.filter(codename="change_webhookendpoint").exists()
    assert (
        not Group.objects.get(name="agent")
        .permissions.filter(content_type__model="webhookendpoint")
        .exists()
    )
