"""Back-office for customers, addresses, client types and memberships.

The customer admin is extended by the apps that depend on customers (stores, b2b) through
``customer_admin_extend`` (inlines, columns, filters, prefetches and sections of the 360
page), because customers must not import them. Memberships live in tenants but are created by
``customers.services.member_join`` (it also creates the member's customer), so their admin and
the Tenant admin with the memberships inline are registered here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal

from customers import csv_io
from customers.admin_export import changelist_queryset, csv_download
from customers.admin_merge import merge_start_url
from customers.admin_privacy import privacy_panel, privacy_urls
from customers.history import Position, customer_timeline
from customers.models import LIVE, Address, ClientType, Customer
from customers.services import (
    ADDRESS_FIELDS,
    CUSTOMER_FIELDS,
    address_add,
    address_remove,
    address_rename,
    address_set,
    client_type_create,
    client_type_delete,
    client_type_update,
    customer_create,
    customer_deactivate,
    customer_delete,
    customer_link_user,
    customer_reactivate,
    customer_tags_set,
    customer_update,
    customers_import,
    default_address_set,
    member_join,
)
from tenants import admin as tenants_admin
from tenants import errors
from tenants.admin_history import ReadableHistoryAdmin
from tenants.admin_scoping import (
    TenantScopedAdmin,
    TenantScopedInlineMixin,
    admin_roles,
    admin_store_ids,
    admin_tenant_ids,
    adopt,
    grouped_count,
    register_index_count,
    save_formset_via,
    scope,
)
from tenants.api.hub import decode_cursor, encode_cursor
from tenants.ids import parse_uuid
from tenants.models import Membership, Role, Tenant
from tenants.phones import phone_e164
from tenants.services import membership_remove, membership_update

# What a phone number typed in any national or international form can contain.
PHONE_LIKE = re.compile(r"[+(]?\d[\d\s().\-/]*")

# --- Memberships (and the Tenant admin with them inline) -------------------------------------


def membership_join(*, tenant, user, role, is_active=True) -> Membership:
    """``member_join`` (the membership and the member's customer), switched off at once when
    the admin adds it inactive."""
    membership = member_join(tenant=tenant, user=user, role=role)
    if not is_active:
        membership = membership_update(membership=membership, is_active=False)
    return membership


def membership_change(form) -> Membership:
    if "user" in form.changed_data:
        raise errors.ValidationError(
            "A membership keeps its user: add a membership for the other user instead."
        )
    values = {n: form.cleaned_data[n] for n in ("role", "is_active") if n in form.changed_data}
    return membership_update(membership=form.instance, **values)


def _save_memberships(formset) -> None:
    save_formset_via(
        formset,
        create=lambda form: membership_join(
            tenant=formset.instance,
            user=form.instance.user,
            role=form.instance.role,
            is_active=form.instance.is_active,
        ),
        update=membership_change,
        delete=lambda form: membership_remove(membership=form.instance),
    )


class MembershipInline(TenantScopedInlineMixin, admin.TabularInline):
    model = Membership
    tenant_path = "tenant"
    extra = 0
    fields = ("user", "role", "is_active")

    def save_formset(self, request, form, formset, change):
        _save_memberships(formset)


admin.site.unregister(Tenant)


@admin.register(Tenant)
class TenantAdmin(tenants_admin.TenantAdmin):
    inlines = [MembershipInline, *tenants_admin.TenantAdmin.inlines]


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    tenant_path = "tenant"
    list_display = ("user", "tenant", "role", "is_active", "created_at")
    list_filter = ("tenant", "role", "is_active")
    list_select_related = ("user", "tenant")
    search_fields = ("user__username", "user__email", "tenant__slug")
    fields = ("tenant", "user", "role", "is_active")

    def get_readonly_fields(self, request, obj=None):
        return ("tenant", "user") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            adopt(obj, membership_change(form))
        else:
            adopt(
                obj,
                membership_join(
                    tenant=obj.tenant, user=obj.user, role=obj.role, is_active=obj.is_active
                ),
            )

    def delete_model(self, request, obj):
        membership_remove(membership=obj)


# --- Client types ------------------------------------------------------------------------------


@admin.register(ClientType)
class ClientTypeAdmin(TenantScopedAdmin):
    tenant_path = "tenant"
    list_display = ("name", "tenant", "created_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant",)
    search_fields = ("name",)
    fields = ("tenant", "name")

    def save_model(self, request, obj, form, change):
        if change:
            adopt(obj, client_type_update(client_type=obj, name=form.cleaned_data["name"]))
        else:
            adopt(obj, client_type_create(tenant=obj.tenant, name=obj.name))

    def delete_model(self, request, obj):
        client_type_delete(client_type=obj)


# --- Addresses ---------------------------------------------------------------------------------


def _address_fields(form) -> dict:
    return {name: form.cleaned_data[name] for name in ADDRESS_FIELDS if name in form.cleaned_data}


def address_save(*, customer, form) -> Address:
    """A changed address row: its client key first (``address_rename``), then its parts."""
    key = form.initial.get("key", form.instance.key)
    if "key" in form.changed_data:
        key = address_rename(customer=customer, key=key, new_key=form.cleaned_data["key"]).key
    fields = {n: v for n, v in _address_fields(form).items() if n in form.changed_data}
    return address_set(customer=customer, key=key, **fields)


def save_addresses(formset) -> None:
    """Inline address rows through the address services (removal clears a default)."""
    customer = formset.instance

    def update(form):
        address_save(customer=customer, form=form)

    save_formset_via(
        formset,
        create=lambda form: address_add(
            customer=customer, key=form.instance.key, **_address_fields(form)
        ),
        update=update,
        delete=lambda form: address_remove(
            customer=customer, key=form.initial.get("key", form.instance.key)
        ),
    )


class AddressInline(TenantScopedInlineMixin, admin.StackedInline):
    model = Address
    tenant_path = "customer__tenant"
    extra = 0
    fields = (
        ("key", "name", "phone"),
        ("line1", "house_number"),
        "line2",
        ("postal_code", "city"),
        ("state", "country"),
    )

    def save_formset(self, request, form, formset, change):
        save_addresses(formset)


@admin.register(Address)
class AddressAdmin(TenantScopedAdmin, ReadableHistoryAdmin):
    tenant_path = "customer__tenant"
    list_display = ("key", "customer", "line1", "house_number", "postal_code", "city", "country")
    list_select_related = ("customer",)
    search_fields = ("key", "line1", "city", "postal_code", "customer__name", "customer__email")
    list_filter = ("country",)
    autocomplete_fields = ("customer",)
    fields = (
        "customer",
        "key",
        "name",
        ("line1", "house_number"),
        "line2",
        ("postal_code", "city"),
        ("state", "country"),
        "phone",
    )

    def get_readonly_fields(self, request, obj=None):
        return ("customer",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            adopt(obj, address_save(customer=obj.customer, form=form))
        else:
            adopt(obj, address_add(customer=obj.customer, key=obj.key, **_address_fields(form)))

    def delete_model(self, request, obj):
        address_remove(customer=obj.customer, key=obj.key)

    def delete_queryset(self, request, queryset):
        for address in queryset.select_related("customer"):
            address_remove(customer=address.customer, key=address.key)


# --- Customers: extension points -------------------------------------------------------------


@dataclass
class Panel:
    """A section of the customer 360 page contributed by an app."""

    title: str
    template: str
    context: Any  # (request, customer) -> dict
    order: int = 100


_EXT: dict[str, list] = {
    "inlines": [],
    "columns": [],
    "list_filter": [],
    "prefetch": [],
    "panels": [],
}


def customer_admin_extend(
    *, inlines=(), columns=(), list_filter=(), prefetch=(), panels=()
) -> None:
    """Add inlines, change-list columns, filters, prefetches and 360 sections (idempotent).
    A prefetch may be a function of the request (what the user may see of the relation)."""
    for key, values in (
        ("inlines", inlines),
        ("columns", columns),
        ("list_filter", list_filter),
        ("prefetch", prefetch),
        ("panels", panels),
    ):
        for value in values:
            if value not in _EXT[key]:
                _EXT[key].append(value)
    _EXT["panels"].sort(key=lambda panel: panel.order)


# --- Customers ---------------------------------------------------------------------------------


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = (
            "tenant",
            *sorted(CUSTOMER_FIELDS),
            "default_address",
            "tags",
        )

    # Unique emails and Discord ids, and linked users who are members of the tenant, are
    # the services' rules (their errors come back onto this form: tenants/admin_scoping.py).


class HasUserFilter(admin.SimpleListFilter):
    title = "linked user"
    parameter_name = "has_user"

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(user__isnull=self.value() == "no")
        return queryset


@admin.register(Customer)
class CustomerAdmin(TenantScopedAdmin, ReadableHistoryAdmin):
    tenant_path = "tenant"
    form = CustomerAdminForm
    list_display_links = ("display",)
    list_select_related = ("tenant",)
    list_per_page = 50
    # Every part of a search is served by an index on PostgreSQL (docs/performance.md): each
    # word a substring of the name, local name or email (trigram indexes), or the whole term
    # exactly a phone, Discord id or user name, external id, UUID or integer id (B-trees).
    search_fields = ("name", "local_name", "email")
    search_help_text = (
        "Words of the name, local name or email; or exactly a phone number, Discord id or "
        "user name, external id, the customer's UUID or its integer id."
    )
    count_scope = "customers"  # tenants/counts.py: no COUNT(*) of the whole list
    autocomplete_fields = ("tags",)
    actions = ["deactivate", "reactivate", "export_csv"]
    readonly_fields = ("uuid", "id", "created_at", "updated_at", "view_360")
    fieldsets = (
        (None, {"fields": ("tenant", ("uuid", "id"), "view_360")}),
        (
            "Name",
            {
                "fields": (
                    "name",
                    "local_name",
                    ("salutation", "first_name", "preposition", "last_name"),
                )
            },
        ),
        ("Contact", {"fields": ("email", "phone", "default_address")}),
        ("Discord", {"fields": ("discord_id", "discord_username", "discord_display_name")}),
        (
            "Account",
            {"fields": ("source", "user", "external_id", "credit", "tags", "is_active", "notes")},
        ),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )
    change_list_template = "admin/customers/customer/change_list.html"

    # -- change list --------------------------------------------------------------------------
    def get_list_display(self, request):
        ids = admin_tenant_ids(request)
        tenant = ["tenant"] if ids is None or len(ids) > 1 else []
        return [
            "display",
            "open_360",
            *tenant,
            "email",
            "phone",
            *_EXT["columns"],
            "tag_list",
            "is_active",
            "updated_at",
        ]

    def get_list_filter(self, request):
        return self.scoped_list_filter(
            ["is_active", "source", "tags", *_EXT["list_filter"], HasUserFilter, "tenant"]
        )

    def get_inlines(self, request, obj):
        return [AddressInline, *_EXT["inlines"]]

    #: the pages that list customers: live ones only (a tombstone's own pages stay reachable)
    LISTS = frozenset({"customers_customer_changelist", "customers_customer_export"})

    def counted_rows(self):
        return Customer.objects.filter(LIVE)  # as customers/migrations/0010 counts them

    def get_queryset(self, request):
        prefetch = [p(request) if callable(p) else p for p in _EXT["prefetch"]]
        queryset = super().get_queryset(request).prefetch_related("tags", *prefetch)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name in self.LISTS:
            # lists and exports never show tombstones, and the kept count is of live ones
            queryset = queryset.filter(LIVE)
        return queryset

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        words = Q()
        for bit in smart_split(term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            words &= Q(name__icontains=bit) | Q(local_name__icontains=bit) | Q(email__icontains=bit)
        exact = (
            Q(phone__in=self._phone_forms(request, term))
            | Q(discord_id=term)
            | Q(discord_username__iexact=term)
            | Q(external_id=term)
        )
        if term.isdigit() and 0 < int(term) < 2**63:
            exact |= Q(pk=int(term))
        uid = parse_uuid(term)
        if uid is not None:
            exact |= Q(uuid=uid)
        return queryset.filter(words | exact), False

    def _phone_forms(self, request, term: str) -> set[str]:
        """The term as typed and as stored (E.164: tenants/phones.py), read with the region of
        each tenant the user sees, so "06 1234 5678" finds "+31612345678"."""
        forms_ = {term}
        if not PHONE_LIKE.fullmatch(term):
            return forms_  # a name or an email: no region to read
        tenant_ids = admin_tenant_ids(request)
        regions = Tenant.objects.values_list("default_region", flat=True).distinct()
        if tenant_ids is not None:
            regions = regions.filter(pk__in=tenant_ids)
        for region in {"", *regions}:
            normalized = phone_e164(term, region=region)
            if normalized:
                forms_.add(normalized)
        return forms_

    @admin.display(description="name", ordering="name")
    def display(self, obj):
        return obj.display_name or f"Customer {obj.pk}"

    @admin.display(description="Discord", ordering="discord_username")
    def discord(self, obj):
        return obj.discord_display_name or obj.discord_username or "-"

    @admin.display(description="tags")
    def tag_list(self, obj):
        return ", ".join(sorted(t.name for t in obj.tags.all())) or "-"

    @admin.display(description="360°")
    def open_360(self, obj):
        url = reverse("admin:customers_customer_360", args=[obj.pk])
        return format_html('<a href="{}" title="Everything about this customer">360°</a>', url)

    # -- change form ----------------------------------------------------------------------------
    @admin.display(description="360° view")
    def view_360(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:customers_customer_360", args=[obj.pk])
        return format_html('<a class="button" href="{}">Open the 360° page</a>', url)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "default_address" in form.base_fields:
            field = form.base_fields["default_address"]
            field.queryset = Address.objects.filter(customer=obj) if obj else Address.objects.none()
            if obj is None:
                field.help_text = "Add the customer first, then pick one of its addresses."
        return form

    def save_model(self, request, obj, form, change):
        names = form.changed_data if change else list(form.cleaned_data)
        values = {n: form.cleaned_data[n] for n in names if n in CUSTOMER_FIELDS}
        user = values.pop("user", None) if "user" in values else False
        if change:
            customer = customer_update(customer=obj, **values)
        else:
            customer = customer_create(tenant=obj.tenant, **values)
        if user:
            customer = customer_link_user(customer=customer, user=user)
        elif user is None and change:
            customer = customer_update(customer=customer, user=None)
        if change and "default_address" in form.changed_data:
            address = form.cleaned_data["default_address"]
            customer = default_address_set(customer=customer, key=address.key if address else None)
        adopt(obj, customer)

    def delete_model(self, request, obj):
        customer_delete(customer=obj)

    def save_related(self, request, form, formsets, change):
        tags = form.cleaned_data.pop("tags", None)
        super().save_related(request, form, formsets, change)
        if tags is not None and (not change or "tags" in form.changed_data):
            customer_tags_set(customer=form.instance, names=[t.name for t in tags])

    # -- actions ----------------------------------------------------------------------------------
    @admin.action(description="Deactivate selected customers", permissions=["change"])
    def deactivate(self, request, queryset):
        count = 0
        for customer in queryset.filter(is_active=True):
            customer_deactivate(customer=customer)
            count += 1
        self.message_user(request, f"{count} customer(s) deactivated.", messages.SUCCESS)

    @admin.action(description="Reactivate selected customers", permissions=["change"])
    def reactivate(self, request, queryset):
        count = 0
        for customer in queryset.filter(is_active=False):
            customer_reactivate(customer=customer)
            count += 1
        self.message_user(request, f"{count} customer(s) reactivated.", messages.SUCCESS)

    @admin.action(description="Export selected customers as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        return csv_download(queryset)

    # -- extra views: import, 360 -----------------------------------------------------------------
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="{}_{}_import".format(*info),
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "<path:object_id>/360/",
                self.admin_site.admin_view(self.customer_360_view),
                name="{}_{}_360".format(*info),
            ),
            *privacy_urls(self),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """The change list as filtered and searched (every page of it), as CSV. Whoever may
        view customers may export them (docs/csv.md)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            queryset = changelist_queryset(self, request)
        except IncorrectLookupParameters:
            changelist = reverse("admin:customers_customer_changelist")
            return HttpResponseRedirect(f"{changelist}?{ERROR_FLAG}=1")
        return csv_download(queryset)

    def import_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        tenants = scope(Tenant.objects.all(), "pk", admin_tenant_ids(request))
        form = ImportForm(request.POST or None, request.FILES or None, tenants=tenants)
        report = file_error = None
        if request.method == "POST" and form.is_valid():
            try:
                rows = csv_io.read_bytes(form.cleaned_data["file"].read())
            except csv_io.CsvFormatError as exc:
                file_error = str(exc)
            else:
                report = customers_import(
                    tenant=form.cleaned_data["tenant"],
                    rows=rows,
                    dry_run=form.cleaned_data["dry_run"],
                )
                if report.committed:
                    self.message_user(
                        request,
                        f"Imported: {report.created} created, {report.updated} updated.",
                        messages.SUCCESS,
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import customers from CSV",
            "form": form,
            "report": report,
            "file_error": file_error,
            "columns": csv_io.COLUMNS,
        }
        return TemplateResponse(request, "admin/customers/customer/import.html", context)

    def customer_360_view(self, request, object_id):
        customer = self.get_scoped_object(request, object_id)
        if not self.has_view_or_change_permission(request, customer):
            raise PermissionDenied
        customer = (
            Customer.objects.select_related("tenant", "user", "default_address")
            .prefetch_related("tags")
            .get(pk=customer.pk)
        )
        panels = [
            {"title": p.title, "template": p.template, **p.context(request, customer)}
            for p in _EXT["panels"]
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"360° — {customer}",
            "customer": customer,
            "addresses": list(Address.objects.filter(customer=customer).order_by("created_at")),
            "panels": panels,
            "timeline": history_section(request, customer),
            "has_change_permission": self.has_change_permission(request, customer),
            "merge_url": merge_start_url(request, customer),
        }
        return TemplateResponse(request, "admin/customers/customer/customer_360.html", context)


class ImportForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.none())
    file = forms.FileField(help_text="UTF-8 CSV with a header row (see the columns below).")
    dry_run = forms.BooleanField(
        required=False, initial=True, help_text="Check every row and report; write nothing."
    )

    def __init__(self, *args, tenants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants
        if len(tenants) == 1:
            self.fields["tenant"].initial = tenants[0].pk


#: entries per page of the 360 page's history
HISTORY_PAGE = 20


def history_section(request, customer) -> dict:
    """The 360 page's timeline (customers/history.py), paged by ``?history=<cursor>``."""
    after = None
    if request.GET.get("history"):
        try:
            after = Position.from_values(decode_cursor(request.GET["history"]))
        except (errors.ValidationError, ValueError):
            after = None  # a mangled link: the newest page
    roles = admin_roles(request)
    whole = roles is None or roles.get(customer.tenant_id) == Role.ADMIN
    page = customer_timeline(
        customer=customer,
        limit=HISTORY_PAGE,
        after=after,
        store_ids=None if whole else admin_store_ids(request),
    )
    return {
        "entries": page.entries,
        "next": encode_cursor(page.next.as_values()) if page.next is not None else None,
        "paged": after is not None,
    }


register_index_count(
    "Customers",
    lambda tenant_ids: grouped_count(Customer.objects.all(), "tenant", tenant_ids),
    order=10,
)
customer_admin_extend(
    panels=[
        Panel("Privacy", "admin/customers/customer/panels/privacy.html", privacy_panel, order=900)
    ]
)

# the "Possible duplicates" section of the 360 page and the review queue (issue 20)
from customers import admin_duplicates  # noqa: E402, F401
