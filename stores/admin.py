"""Back-office for stores, store memberships and customer-store links.

Also extends the customer admin (stores -> customers): the store links inline with their price
lists, the "stores" column and filter, and the stores section of the customer 360 page.
"""

from django.contrib import admin
from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from customers.admin import Panel, customer_admin_extend
from pricelists.selectors import PRICE_LIST_UNUSABLE
from stores.models import CustomerStore, Store, StoreMembership
from stores.services import (
    customer_store_link_add,
    customer_store_price_list_change,
    store_create,
    store_customers_remove,
    store_membership_grant,
    store_membership_remove,
    store_membership_update,
    store_update,
)
from tenants import errors
from tenants.admin_scoping import (
    TenantScopedAdmin,
    TenantScopedInlineMixin,
    adopt,
    grouped_count,
    register_index_count,
    save_formset_via,
    scope_rows,
)


def store_membership_join(*, user, store, is_active=True) -> StoreMembership:
    """``store_membership_grant``, switched off at once when the admin adds it inactive."""
    membership = store_membership_grant(user=user, store=store)
    if not is_active:
        membership = store_membership_update(membership=membership, is_active=False)
    return membership


def store_membership_change(form) -> StoreMembership:
    if "user" in form.changed_data:
        raise errors.ValidationError(
            "A store relation keeps its user: add one for the other user instead."
        )
    return store_membership_update(
        membership=form.instance, is_active=form.cleaned_data["is_active"]
    )


class StoreMembershipInline(TenantScopedInlineMixin, admin.TabularInline):
    model = StoreMembership
    tenant_path = "store__tenant"
    extra = 0
    fields = ("user", "is_active", "created_at")
    readonly_fields = ("created_at",)

    def save_formset(self, request, form, formset, change):
        save_formset_via(
            formset,
            create=lambda row: store_membership_join(
                user=row.instance.user, store=formset.instance, is_active=row.instance.is_active
            ),
            update=store_membership_change,
            delete=lambda row: store_membership_remove(membership=row.instance),
        )


@admin.register(Store)
class StoreAdmin(TenantScopedAdmin):
    tenant_path = "tenant"
    store_path = "pk"  # an agent or a viewer sees the stores it has a relation with
    list_display = ("name", "tenant", "is_active", "member_count", "customer_link", "created_at")
    list_filter = ("tenant", "is_active")
    list_select_related = ("tenant", "customer")
    search_fields = ("name",)
    inlines = [StoreMembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(n_members=Count("memberships", filter=Q(memberships__is_active=True)))
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("tenant", "name", "is_active")
        return ("tenant", "name", "is_active", "customer_link", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("tenant", "customer_link", "created_at", "updated_at")

    @admin.display(description="active members", ordering="n_members")
    def member_count(self, obj):
        return getattr(obj, "n_members", None)

    @admin.display(description="store's customer record")
    def customer_link(self, obj):
        if obj is None or not obj.customer_id:
            return "-"
        url = reverse("admin:customers_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    def has_delete_permission(self, request, obj=None):
        return False  # switch a store off instead: its customer record and links stay

    def save_model(self, request, obj, form, change):
        if change:
            values = {name: form.cleaned_data[name] for name in form.changed_data}
            adopt(obj, store_update(store=obj, **values))
        else:  # the service also creates the customer record that represents the store
            adopt(obj, store_create(tenant=obj.tenant, name=obj.name, is_active=obj.is_active))


@admin.register(StoreMembership)
class StoreMembershipAdmin(TenantScopedAdmin):
    tenant_path = "store__tenant"
    store_path = "store"
    list_display = ("user", "store", "is_active", "created_at")
    list_filter = ("store", "is_active")
    list_select_related = ("user", "store")
    search_fields = ("user__username", "store__name")
    fields = ("store", "user", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return ("store", "user") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            adopt(obj, store_membership_change(form))
        else:
            adopt(
                obj, store_membership_join(user=obj.user, store=obj.store, is_active=obj.is_active)
            )

    def delete_model(self, request, obj):
        store_membership_remove(membership=obj)


# --- customer store links ------------------------------------------------------------------------


def _price_list_refused(exc: errors.NotFound) -> errors.DomainError:
    """The services' 404 for a price list, said for the form's field."""
    if exc.code == "price_list_not_found":
        return errors.ValidationError(
            PRICE_LIST_UNUSABLE, fields={"price_list": [PRICE_LIST_UNUSABLE]}, code=exc.code
        )
    return exc


def link_add(*, customer, store, price_list) -> CustomerStore:
    try:
        return customer_store_link_add(customer=customer, store=store, price_list=price_list)
    except errors.NotFound as exc:
        raise _price_list_refused(exc) from exc


def link_change(form) -> CustomerStore:
    """A changed link row: only its price list may change (through the store dialect's
    service: its rules, its updatedAt)."""
    if "store" in form.changed_data or "customer" in form.changed_data:
        raise errors.ValidationError(
            "A store link keeps its customer and store: remove it and add another instead."
        )
    try:
        return customer_store_price_list_change(
            link=form.instance, price_list=form.cleaned_data.get("price_list")
        )
    except errors.NotFound as exc:
        raise _price_list_refused(exc) from exc


def link_remove(*, link, user) -> None:
    store_customers_remove(store=link.store, customer_ids=[link.customer.uuid], user=user)


def _save_links(request, formset) -> None:
    save_formset_via(
        formset,
        create=lambda row: link_add(
            customer=formset.instance, store=row.instance.store, price_list=row.instance.price_list
        ),
        update=link_change,
        delete=lambda row: link_remove(link=row.instance, user=request.user),
    )


class CustomerStoreInline(TenantScopedInlineMixin, admin.TabularInline):
    model = CustomerStore
    fk_name = "customer"
    tenant_path = "store__tenant"
    store_path = "store"
    extra = 0
    fields = ("store", "price_list", "created_at")
    readonly_fields = ("created_at",)
    verbose_name = "store link"
    verbose_name_plural = "stores and price lists"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("store", "price_list")

    def save_formset(self, request, form, formset, change):
        _save_links(request, formset)


@admin.register(CustomerStore)
class CustomerStoreAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    tenant_path = "store__tenant"
    store_path = "store"
    list_display = ("customer", "store", "price_list", "created_at")
    list_filter = ("store", "price_list")
    list_select_related = ("customer", "store", "price_list")
    search_fields = ("customer__name", "customer__email", "store__name")
    autocomplete_fields = ("customer",)
    fields = ("customer", "store", "price_list", "created_at")
    readonly_fields = ("created_at",)

    def get_readonly_fields(self, request, obj=None):
        return ("customer", "store", "created_at") if obj is not None else ("created_at",)

    def save_model(self, request, obj, form, change):
        if change:
            adopt(obj, link_change(form))
        else:
            adopt(obj, link_add(customer=obj.customer, store=obj.store, price_list=obj.price_list))

    def delete_model(self, request, obj):
        link_remove(link=obj, user=request.user)


# --- Extensions of the customer admin ------------------------------------------------------------


@admin.display(description="stores")
def stores_column(customer):
    links = customer.store_links.all()
    return ", ".join(link.store.name for link in links) or "-"


def visible_links(request):
    """The store links the user may see (an agent's or viewer's: those of its stores)."""
    return scope_rows(CustomerStore.objects.all(), request, "store__tenant", "store")


def stores_panel(request, customer) -> dict:
    links = list(
        visible_links(request)
        .filter(customer=customer)
        .select_related("store", "price_list")
        .order_by("store__name")
    )
    represented = Store.objects.filter(customer=customer).first()
    return {"links": links, "represented_store": represented}


customer_admin_extend(
    inlines=[CustomerStoreInline],
    columns=[stores_column],
    list_filter=["store_links__store"],
    prefetch=[
        lambda request: Prefetch(
            "store_links", queryset=visible_links(request).select_related("store")
        ),
    ],
    panels=[
        Panel(
            title="Stores and price lists",
            template="admin/customers/customer/panels/stores.html",
            context=stores_panel,
            order=10,
        )
    ],
)

register_index_count(
    "Active stores",
    lambda tenant_ids: grouped_count(Store.objects.filter(is_active=True), "tenant", tenant_ids),
    order=20,
)
