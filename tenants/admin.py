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
from tenants.models import ApiKey, Tenant, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.services import (
    api_key_issue,
    api_key_revoke,
    api_key_update,
    tenant_create,
    tenant_update,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_replay,
    webhook_endpoint_update,
    webhook_secret_rotate,
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
        "match_by_email",
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
                    match_by_email=obj.match_by_email,
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


# --- webhooks ---------------------------------------------------------------------------------


class WebhookEndpointForm(forms.ModelForm):
    url = forms.CharField(
        max_length=2000,
        help_text="The receiver's https:// URL (public addresses only; checked at every delivery).",
    )
    rotate_secret = forms.BooleanField(
        required=False,
        help_text="Issue a new signing secret (shown once, after saving); the current one keeps "
        "signing beside it for HUB_WEBHOOKS_ROTATION_OVERLAP_HOURS.",
    )
    replay_since = forms.DateTimeField(
        required=False,
        help_text="Deliver again every event of the endpoint's types since this time "
        "(YYYY-MM-DD HH:MM), in order.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("tenant", "url", "description", "event_types", "enabled")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantScopedAdmin):
    """A tenant's webhook endpoints (tenant admins: agents and viewers hold no permission on
    them). Every write goes through the webhook services; the secret is shown once."""

    tenant_path = "tenant"
    form = WebhookEndpointForm
    list_display = ("url", "tenant", "enabled", "notice", "failing_since", "created_at")
    list_filter = ("tenant", "enabled")
    list_select_related = ("tenant",)
    search_fields = ("url", "description")
    actions = ["enable", "disable", "rotate"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("tenant", "url", "description", "event_types")
        return (
            "tenant",
            "url",
            "description",
            "event_types",
            "enabled",
            "notice",
            "failing_since",
            "previous_secret_expires_at",
            "deliveries_link",
            "rotate_secret",
            "replay_since",
            "created_at",
            "updated_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "tenant",
            "notice",
            "failing_since",
            "previous_secret_expires_at",
            "deliveries_link",
            "created_at",
            "updated_at",
        )

    @admin.display(description="notice")
    def notice(self, obj):
        if obj.enabled:
            return "-"
        return format_html(
            '<strong style="color:#ba2121">Disabled since {}: {}</strong> Enable it again once the '
            "receiver works (pending deliveries resume; replay what it missed).",
            obj.disabled_at.strftime("%Y-%m-%d %H:%M UTC"),
            obj.disabled_reason,
        )

    @admin.display(description="deliveries")
    def deliveries_link(self, obj):
        url = reverse("admin:tenants_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">Deliveries and attempts</a>', url)

    def _show_secret(self, request, endpoint, secret):
        self.message_user(
            request,
            f"The signing secret of {endpoint.url} is {secret} — copy it now: it is stored "
            "encrypted and will not be shown again.",
            messages.WARNING,
        )

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            endpoint, secret = webhook_endpoint_create(
                tenant=data["tenant"],
                url=data["url"],
                event_types=data.get("event_types") or [],
                description=data.get("description") or "",
            )
            adopt(obj, endpoint)
            self._show_secret(request, endpoint, secret)
            return
        editable = ("url", "description", "event_types", "enabled")
        values = {name: data[name] for name in form.changed_data if name in editable}
        if values:
            adopt(obj, webhook_endpoint_update(endpoint=obj, **values))
        if data.get("rotate_secret"):
            endpoint, secret = webhook_secret_rotate(endpoint=obj)
            adopt(obj, endpoint)
            self._show_secret(request, endpoint, secret)
        if data.get("replay_since"):
            queued = webhook_endpoint_replay(endpoint=obj, since=data["replay_since"])
            self.message_user(request, f"{queued} delivery(ies) queued again.", messages.SUCCESS)

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            webhook_endpoint_delete(endpoint=endpoint)

    @admin.action(description="Enable selected endpoints", permissions=["change"])
    def enable(self, request, queryset):
        for endpoint in queryset.filter(enabled=False):
            webhook_endpoint_update(endpoint=endpoint, enabled=True)
        self.message_user(request, "Enabled.", messages.SUCCESS)

    @admin.action(description="Disable selected endpoints", permissions=["change"])
    def disable(self, request, queryset):
        for endpoint in queryset.filter(enabled=True):
            webhook_endpoint_update(endpoint=endpoint, enabled=False)
        self.message_user(request, "Disabled.", messages.SUCCESS)

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate(self, request, queryset):
        for endpoint in queryset:
            endpoint, secret = webhook_secret_rotate(endpoint=endpoint)
            self._show_secret(request, endpoint, secret)


class WebhookAttemptInline(TenantScopedInlineMixin, admin.TabularInline):
    model = WebhookAttempt
    tenant_path = "delivery__endpoint__tenant"
    extra = 0
    can_delete = False
    fields = (
        "attempted_at",
        "succeeded",
        "status_code",
        "latency_ms",
        "error",
        "response_excerpt",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantScopedAdmin):
    """Deliveries with their attempts (read-only); "resend" queues one again."""

    tenant_path = "endpoint__tenant"
    list_display = (
        "id",
        "endpoint",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "endpoint")
    list_select_related = ("endpoint", "event")
    fields = (
        "endpoint",
        "event_id_public",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "retry_until",
        "last_status_code",
        "created_at",
        "delivered_at",
    )
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["resend"]

    @admin.display(description="event type")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description="event id (webhook-id)")
    def event_id_public(self, obj):
        return str(obj.event.uuid)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only: the log of what happened

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        """Resending is a change of the delivery: the role's change permission on it."""
        return super().has_change_permission(request)

    @admin.action(description="Resend selected deliveries", permissions=["resend"])
    def resend(self, request, queryset):
        count = 0
        for row in queryset:
            webhook_delivery_resend(delivery_obj=row)
            count += 1
        self.message_user(request, f"{count} delivery(ies) queued again.", messages.SUCCESS)
