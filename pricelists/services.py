"""Writes of products and price lists."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from pricelists.models import PriceList, PriceListItem, Product


@transaction.atomic
def product_create(*, tenant, sku: str, name: str, base_price: Decimal) -> Product:
    product = Product(tenant=tenant, sku=sku, name=name, base_price=Decimal(base_price))
    product.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    product.save()
    return product


@transaction.atomic
def price_list_create(*, tenant, name: str, currency: str = "USD", is_active: bool = True):
    price_list = PriceList(tenant=tenant, name=name, currency=currency, is_active=is_active)
    price_list.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    price_list.save()
    return price_list


@transaction.atomic
def price_list_item_set(*, price_list: PriceList, product: Product, price: Decimal):
    if product.tenant_id != price_list.tenant_id:
        raise ValueError("The product and the price list belong to different tenants.")
    item, _ = PriceListItem.objects.update_or_create(
        price_list=price_list, product=product, defaults={"price": Decimal(price)}
    )
    return item
