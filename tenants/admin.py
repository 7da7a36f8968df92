"""Back-office for tenants and API keys.

``Tenant`` is registered here with its API keys inline; ``customers/admin.py`` re-registers it
with the memberships inline added (memberships are created by ``customers.services.member_join``,
which also creates the member's customer, and tenants must not import customers).
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from tenants.admin_scoping import TenantScopedAdmin, TenantScopedInlineMixin, adopt
from tenants.models import ApiKey, Tenant
from tenants.services import (
    api_key_issue,
    api_key_revoke,
    api_key_update,
    tenant_create,
    tenant_update,
)


class ApiKeyInline(TenantScopedInlineMixin, admin.TabularInline):
    """The tenant's keys, read-only: a key is issued from the API key admin (secret shown once)."""

    model = ApiKey
    tenant_path = "tenant"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("name", "prefix", "role", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TenantForm(forms.ModelForm):
    def clean_default_region(self):
        # capitals, as stored; whether phonenumbers knows the region is the service's rule
        return (self.cleaned_data.get("default_region") or "").strip().upper()


@admin.register(Tenant)
class TenantAdmin(TenantScopedAdmin):
    tenant_path = "pk"
    list_display = ("slug", "name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("slug", "name")
    fields = (
        "slug",
        "name",
        "is_active",
        "default_region",
        "issue_key_link",
        "created_at",
        "updated_at",
    )
    inlines = [ApiKeyInline]
    form = TenantForm

    @admin.display(description="API keys")
    def issue_key_link(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:tenants_apikey_add") + f"?tenant={obj.pk}"
        return format_html('<a class="button" href="{}">Issue a new API key</a>', url)

    def get_readonly_fields(self, request, obj=None):
        fixed = ["issue_key_link", "created_at", "updated_at"]
        if not request.user.is_superuser:
            fixed += ["slug", "is_active"]  # the slug is in URLs; switching a tenant off is ours
        return fixed

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False  # switch a tenant off instead: its members lose their access with it

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            adopt(obj, tenant_update(tenant=obj, **values))
        else:
            adopt(
                obj,
                tenant_create(
                    slug=obj.slug,
                    name=obj.name,
                    is_active=obj.is_active,
                    default_region=obj.default_region,
                ),
            )


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    tenant_path = "tenant"
    list_display = ("name", "tenant", "prefix", "role", "created_at", "last_used_at", "status")
    list_filter = ("tenant", "role", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("tenant",)
    search_fields = ("name", "prefix", "tenant__slug")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("tenant", "name", "role")
        return ("tenant", "name", "prefix", "role", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("tenant", "prefix", "role", "created_at", "last_used_at", "revoked_at")

    @admin.display(description="status")
    def status(self, obj):
        return "active" if obj.revoked_at is None else "revoked"

    def save_model(self, request, obj, form, change):
        if change:
            api_key_update(api_key=obj, name=form.cleaned_data["name"])
            return
        key, secret = api_key_issue(tenant=obj.tenant, name=obj.name, role=obj.role)
        adopt(obj, key)
        self.message_user(
            request,
            f"The secret of API key “{key.name}” is {secret} — copy it now: "
            "it is not stored and will not be shown again.",
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: a revoked key stays listed for the audit trail

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=key)
            count += 1
        self.message_user(request, f"{count} API key(s) revoked.", messages.SUCCESS)
