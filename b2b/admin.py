"""Back-office for B2B accounts, contacts, orders and credit checks.

Also extends the customer admin (b2b -> customers): the account and contacts inlines, the
"has B2B account" filter, and the account, orders (with the analytics summary) and credit
sections of the customer 360 page. Orders are created through the API (the server prices and
numbers them); here their status moves along the allowed transitions and their dates are set,
through ``b2b.services.order_update``; totals and lines are read-only. Credit checks are
read-only history.
"""

from django import forms
from django.contrib import admin
from django.db.models import Count, Max, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from simple_history.admin import SimpleHistoryAdmin

from b2b import services
from b2b.models import (
    NOT_COUNTED,
    Account,
    Contact,
    CreditCheck,
    OrderLine,
    OrderStatus,
    SalesOrder,
)
from customers.admin import Panel, customer_admin_extend
from customers.models import Address
from pricelists.selectors import PRICE_LIST_UNUSABLE
from tenants import errors
from tenants.admin_scoping import (
    TenantScopedAdmin,
    TenantScopedInlineMixin,
    admin_tenant_ids,
    adopt,
    grouped_count,
    mark_formset_saved,
    register_index_count,
)

OPEN_STATUSES = (OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.SHIPPED)
ADDRESS_FKS = ("billing_address", "shipping_address")


# --- accounts ------------------------------------------------------------------------------------


def _limit_addresses(form_class, customer) -> None:
    for name in ADDRESS_FKS:
        if name in form_class.base_fields:
            form_class.base_fields[name].queryset = (
                Address.objects.filter(customer=customer) if customer else Address.objects.none()
            )


def account_save(*, customer, form) -> Account:
    """The account fields through ``account_update``, its address links through
    ``account_addresses_link``."""
    fields = {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name in services.ACCOUNT_FIELDS
    }
    try:
        services.account_update(customer=customer, **fields)
    except errors.NotFound as exc:
        if exc.code != "price_list_not_found":
            raise
        raise errors.ValidationError(
            PRICE_LIST_UNUSABLE, fields={"price_list": [PRICE_LIST_UNUSABLE]}, code=exc.code
        ) from exc
    links = {name: form.cleaned_data[name] for name in ADDRESS_FKS if name in form.changed_data}
    if links:
        return services.account_addresses_link(customer=customer, **links)
    return Account.objects.get(customer=customer)


class AccountInline(TenantScopedInlineMixin, admin.StackedInline):
    model = Account
    tenant_path = "customer__tenant"
    extra = 0
    max_num = 1
    can_delete = False
    verbose_name = "B2B account"
    fields = (
        ("payment_terms", "currency"),
        ("credit_limit", "discount_rate"),
        "price_list",
        ("website", "fax", "tax_id"),
        "preferred_shipping",
        "customer_since",
        ("billing_address", "shipping_address"),
    )

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        _limit_addresses(formset.form, obj)
        return formset

    def save_formset(self, request, form, formset, change):
        new, changed = [], []
        for row in formset.forms:
            if not row.has_changed():
                continue
            account = account_save(customer=formset.instance, form=row)
            if row.instance._state.adding:
                new.append(adopt(row.instance, account))
            else:
                changed.append((row.instance, row.changed_data))
        mark_formset_saved(formset, new, changed, [])


@admin.register(Account)
class AccountAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    tenant_path = "customer__tenant"
    list_display = ("customer", "payment_terms", "currency", "credit_limit", "discount_rate")
    list_filter = ("payment_terms", "currency")
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__email", "tax_id")
    fields = ("customer", *AccountInline.fields)
    readonly_fields = ("customer",)

    def has_add_permission(self, request):
        return False  # an account is added on its customer's page

    def has_delete_permission(self, request, obj=None):
        return False  # an account goes with its customer

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        _limit_addresses(form, obj.customer if obj else None)
        return form

    def save_model(self, request, obj, form, change):
        account_save(customer=obj.customer, form=form)


# --- contacts ------------------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "title", "email", "phone", "is_primary")


class ContactFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            row.cleaned_data
            for row in self.forms
            if row not in self.deleted_forms and getattr(row, "cleaned_data", None)
        ]
        try:
            services.primary_contacts_check(contacts=kept)
        except errors.ValidationError as exc:
            raise forms.ValidationError(exc.fields["contacts"][0]) from exc


class ContactInline(TenantScopedInlineMixin, admin.TabularInline):
    model = Contact
    formset = ContactFormSet
    tenant_path = "customer__tenant"
    extra = 0
    fields = CONTACT_FIELDS

    def save_formset(self, request, form, formset, change):
        new, changed, deleted = [], [], []
        for row in formset.deleted_forms:
            if row.instance.pk:
                deleted.append(row.instance)
                services.contact_delete(contact=row.instance)
        # demotions first, so that a new primary never meets the old one
        rows = sorted(
            (r for r in formset.forms if r not in formset.deleted_forms and r.has_changed()),
            key=lambda r: bool(r.cleaned_data.get("is_primary")),
        )
        for row in rows:
            fields = {n: row.cleaned_data[n] for n in CONTACT_FIELDS if n in row.cleaned_data}
            if row.instance._state.adding:
                created = services.contact_create(customer=formset.instance, **fields)
                new.append(adopt(row.instance, created))
            else:
                changed_fields = {n: v for n, v in fields.items() if n in row.changed_data}
                services.contact_update(contact=row.instance, **changed_fields)
                changed.append((row.instance, row.changed_data))
        mark_formset_saved(formset, new, changed, deleted)


@admin.register(Contact)
class ContactAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    tenant_path = "customer__tenant"
    list_display = ("name", "customer", "title", "email", "phone", "is_primary")
    list_filter = ("is_primary",)
    list_select_related = ("customer",)
    search_fields = ("name", "email", "phone", "customer__name")
    autocomplete_fields = ("customer",)
    fields = ("customer", *CONTACT_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        return ("customer",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        fields = {n: form.cleaned_data[n] for n in CONTACT_FIELDS if n in form.cleaned_data}
        if change:
            changed = {n: v for n, v in fields.items() if n in form.changed_data}
            services.contact_update(contact=obj, **changed)
        else:
            adopt(obj, services.contact_create(customer=obj.customer, **fields))

    def delete_model(self, request, obj):
        services.contact_delete(contact=obj)


# --- orders --------------------------------------------------------------------------------------


class OrderLineForm(forms.ModelForm):
    class Meta:
        model = OrderLine
        fields = ("product", "quantity", "unit_price")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "unit_price" in self.fields:
            self.fields["unit_price"].required = False
            self.fields["unit_price"].help_text = "Empty: the account's price."


class OrderLineInline(TenantScopedInlineMixin, admin.TabularInline):
    """An order's lines: written once, with the order (``order_create`` prices them)."""

    model = OrderLine
    form = OrderLineForm
    tenant_path = "order__tenant"
    extra = 0
    can_delete = False
    autocomplete_fields = ("product",)

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else 0

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("product", "quantity", "unit_price")
        return ("product_name", "quantity", "unit_price", "line_total")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    @admin.display(description="product")
    def product_name(self, line):
        return f"{line.product.name} ({line.product.sku})"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    def has_add_permission(self, request, obj=None):
        return obj is None and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def save_formset(self, request, form, formset, change):
        pass  # written by SalesOrderAdmin.save_related, through order_create


class SalesOrderForm(forms.ModelForm):
    # The allowed status moves are order_update's rule (b2b.models.ORDER_TRANSITIONS); an
    # illegal one comes back onto this form as that service's error.
    class Meta:
        model = SalesOrder
        fields = ("status", "ship_date", "delivery_date", "paid_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("ship_date", "delivery_date", "paid_at"):
            if name in self.fields:
                self.fields[name].help_text = "Date and time in UTC."


class SalesOrderAddForm(forms.ModelForm):
    class Meta:
        model = SalesOrder
        fields = ("customer", "status", "order_date")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order_date"].required = False
        self.fields["order_date"].help_text = "Empty: now. Times are UTC."


def address_lines(parts: dict):
    """An address (an order's JSON copy of one) as lines of text."""
    city = " ".join(p for p in (parts.get("postal_code"), parts.get("city")) if p)
    lines = [parts.get("line1"), parts.get("line2"), city, parts.get("state"), parts.get("country")]
    return [line for line in lines if line]


@admin.register(SalesOrder)
class SalesOrderAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    tenant_path = "tenant"
    form = SalesOrderForm
    list_display = (
        "order_number",
        "customer",
        "tenant",
        "status",
        "order_date",
        "total",
        "paid_at",
    )
    list_filter = ("status", "tenant", "currency")
    list_select_related = ("customer", "tenant")
    search_fields = ("order_number", "customer__name", "customer__email")
    date_hierarchy = "order_date"
    autocomplete_fields = ("customer",)
    inlines = [OrderLineInline]
    readonly_fields = (
        "tenant",
        "customer",
        "order_number",
        "order_date",
        "due_date",
        "currency",
        "total_amount",
        "items_count",
        "shipping_address_lines",
    )
    fieldsets = (
        (None, {"fields": ("tenant", "customer", "order_number", "status")}),
        (
            "Dates (UTC)",
            {"fields": ("order_date", "ship_date", "delivery_date", "due_date", "paid_at")},
        ),
        (
            "Totals",
            {"fields": ("currency", "total_amount", "items_count", "shipping_address_lines")},
        ),
    )
    add_fieldsets = ((None, {"fields": ("customer", "status", "order_date")}),)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SalesOrderAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_list_display(self, request):
        ids = admin_tenant_ids(request)
        shown = self.list_display
        return shown if ids is None or len(ids) > 1 else [c for c in shown if c != "tenant"]

    @admin.display(description="total", ordering="total_amount")
    def total(self, order):
        return f"{order.total_amount} {order.currency}"

    @admin.display(description="shipping address")
    def shipping_address_lines(self, order):
        lines = address_lines(order.shipping_address or {})
        if not lines:
            return "-"
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    def has_delete_permission(self, request, obj=None):
        return False  # cancel an order instead: its number and figures stay

    def save_model(self, request, obj, form, change):
        if change:
            adopt(
                obj,
                services.order_update(
                    order=obj, **{name: form.cleaned_data[name] for name in form.changed_data}
                ),
            )
        # a new order is written with its lines, in save_related

    def save_related(self, request, form, formsets, change):
        if change:
            return super().save_related(request, form, formsets, change)
        lines = [
            {
                "product_id": row.cleaned_data["product"].pk,
                "quantity": row.cleaned_data["quantity"],
                "unit_price": row.cleaned_data.get("unit_price"),
            }
            for formset in formsets
            for row in formset.forms
            if row.has_changed() and row not in formset.deleted_forms
        ]
        customer = form.cleaned_data["customer"]
        order = services.order_create(
            tenant=customer.tenant,
            customer=customer,
            lines=lines,
            status=form.cleaned_data["status"],
            order_date=form.cleaned_data.get("order_date"),
        )
        adopt(form.instance, order)
        for formset in formsets:
            mark_formset_saved(formset)


@admin.register(CreditCheck)
class CreditCheckAdmin(TenantScopedAdmin):
    tenant_path = "customer__tenant"
    list_display = (
        "customer",
        "credit_score",
        "credit_rating",
        "risk_assessment",
        "recommended_credit_limit",
        "checked_at",
    )
    list_filter = ("credit_rating", "risk_assessment")
    list_select_related = ("customer",)
    search_fields = ("customer__name", "customer__email")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- extensions of the customer admin ------------------------------------------------------------


class HasAccountFilter(admin.SimpleListFilter):
    title = "B2B account"
    parameter_name = "has_account"

    def lookups(self, request, model_admin):
        return (("yes", "Has a B2B account"), ("no", "No B2B account"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(account__isnull=self.value() == "no")
        return queryset


def _summary(customer) -> dict:
    """The analytics summary: b2b.analytics when present, else the same figures here."""
    try:
        from b2b.analytics import customer_analytics
    except ImportError:  # pragma: no cover - the b2b analytics module is optional here
        customer_analytics = None
    if customer_analytics is not None:
        data = customer_analytics(customer=customer, period="all", now=timezone.now())
        return {
            **data["overview"],
            **data["financial_summary"],
            "segment": data["customer_segment"],
            "risk": data["risk_score"],
        }
    counted = SalesOrder.objects.filter(customer=customer).exclude(status__in=NOT_COUNTED)
    figures = counted.aggregate(
        total_orders=Count("pk"),
        lifetime_value=Sum("total_amount"),
        last_order_date=Max("order_date"),
        current_balance=Sum("total_amount", filter=Q(paid_at__isnull=True)),
    )
    return figures


def b2b_panel(request, customer) -> dict:
    account = (
        Account.objects.filter(customer=customer)
        .select_related("billing_address", "shipping_address", "price_list")
        .first()
    )
    return {
        "account": account,
        "contacts": list(Contact.objects.filter(customer=customer)),
    }


def orders_panel(request, customer) -> dict:
    orders = list(SalesOrder.objects.filter(customer=customer).order_by("-order_date")[:10])
    all_orders = reverse("admin:b2b_salesorder_changelist") + f"?customer__id__exact={customer.pk}"
    return {
        "orders": orders,
        "all_orders_url": all_orders,
        "open_orders": SalesOrder.objects.filter(
            customer=customer, status__in=OPEN_STATUSES
        ).count(),
        "summary": _summary(customer) if orders else None,
        "credit_check": CreditCheck.objects.filter(customer=customer)
        .order_by("-checked_at")
        .first(),
    }


customer_admin_extend(
    inlines=[AccountInline, ContactInline],
    list_filter=[HasAccountFilter],
    panels=[
        Panel(
            "B2B account and contacts", "admin/customers/customer/panels/b2b.html", b2b_panel, 20
        ),
        Panel("Orders and credit", "admin/customers/customer/panels/orders.html", orders_panel, 30),
    ],
)

register_index_count(
    "Open orders",
    lambda tenant_ids: grouped_count(
        SalesOrder.objects.filter(status__in=OPEN_STATUSES), "tenant", tenant_ids
    ),
    order=30,
)
