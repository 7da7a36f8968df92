"""Back-office for products and price lists (with their items inline)."""

from django.contrib import admin
from django.db.models import Count

from pricelists.models import PriceList, PriceListItem, Product
from pricelists.services import (
    price_list_create,
    price_list_item_product_change,
    price_list_item_remove,
    price_list_item_set,
    price_list_update,
    product_create,
    product_delete,
    product_update,
)
from tenants.admin_scoping import (
    TenantScopedAdmin,
    TenantScopedInlineMixin,
    adopt,
    save_formset_via,
)


@admin.register(Product)
class ProductAdmin(TenantScopedAdmin):
    tenant_path = "tenant"
    list_display = ("sku", "name", "tenant", "base_price", "updated_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant",)
    search_fields = ("sku", "name")
    fields = ("tenant", "sku", "name", "base_price")

    def save_model(self, request, obj, form, change):
        if change:
            values = {name: form.cleaned_data[name] for name in form.changed_data}
            adopt(obj, product_update(product=obj, **values))
        else:
            adopt(
                obj,
                product_create(
                    tenant=obj.tenant, sku=obj.sku, name=obj.name, base_price=obj.base_price
                ),
            )

    def delete_model(self, request, obj):
        product_delete(product=obj)


class PriceListItemInline(TenantScopedInlineMixin, admin.TabularInline):
    model = PriceListItem
    tenant_path = "price_list__tenant"
    extra = 0
    fields = ("product", "price")
    autocomplete_fields = ("product",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    def save_formset(self, request, form, formset, change):
        def set_price(row):
            return price_list_item_set(
                price_list=formset.instance, product=row.instance.product, price=row.instance.price
            )

        def update(row):
            if "product" in row.changed_data:
                price_list_item_product_change(item=row.instance, product=row.instance.product)
            if "price" in row.changed_data:
                set_price(row)

        save_formset_via(
            formset,
            create=set_price,
            update=update,
            delete=lambda row: price_list_item_remove(item=row.instance),
        )


@admin.register(PriceList)
class PriceListAdmin(TenantScopedAdmin):
    tenant_path = "tenant"
    list_display = ("name", "tenant", "currency", "is_active", "item_count", "updated_at")
    list_filter = ("tenant", "is_active", "currency")
    list_select_related = ("tenant",)
    search_fields = ("name",)
    fields = ("tenant", "name", "currency", "is_active")
    inlines = [PriceListItemInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_items=Count("items"))

    @admin.display(description="items", ordering="n_items")
    def item_count(self, obj):
        return getattr(obj, "n_items", None)

    def has_delete_permission(self, request, obj=None):
        return False  # switch a price list off instead: store links and accounts keep theirs

    def save_model(self, request, obj, form, change):
        if change:
            values = {name: form.cleaned_data[name] for name in form.changed_data}
            adopt(obj, price_list_update(price_list=obj, **values))
        else:
            adopt(
                obj,
                price_list_create(
                    tenant=obj.tenant,
                    name=obj.name,
                    currency=obj.currency,
                    is_active=obj.is_active,
                ),
            )
