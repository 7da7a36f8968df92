from django.db import models
from django.db.models import Q

from tenants.ids import uuid7
from tenants.models import TenantOwnedModel, TimeStampedModel


class Product(TenantOwnedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    base_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sku"], name="product_unique_sku"),
            models.CheckConstraint(condition=Q(base_price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.sku} {self.name}"


class PriceList(TenantOwnedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=255)
    currency = models.CharField(max_length=3, default="USD")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="pricelist_currency_iso"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.currency})"


class PriceListItem(TimeStampedModel):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_items")
    price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["price_list", "product__sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product"], name="pricelistitem_unique_product"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="pricelistitem_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.product.sku} @ {self.price}"
