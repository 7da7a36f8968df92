"""Tenant-scoped reads of products and price lists."""

from __future__ import annotations

from pricelists.error_codes import PriceListErrorCode
from pricelists.models import PriceList, PriceListItem, Product
from tenants import errors
from tenants.ids import parse_uuid


def price_lists_for_tenant(*, tenant):
    return PriceList.objects.filter(tenant=tenant)


def products_for_tenant(*, tenant):
    return Product.objects.filter(tenant=tenant)


#: what the back-office says for a price list that ``price_list_usable`` refuses
PRICE_LIST_UNUSABLE = "This price list is inactive or not this tenant's: pick an active one."


def price_list_usable(*, tenant_id, price_list: PriceList | None) -> PriceList:
    """The rule for giving anything a price list (a store link, a B2B account): it exists,
    is active and is the tenant's; else 404, as the seed's verifyPriceList() answers."""
    if price_list is None or price_list.tenant_id != tenant_id or not price_list.is_active:
        raise errors.NotFound("Price list not found", code=PriceListErrorCode.PRICE_LIST_NOT_FOUND)
    return price_list


def price_list_verify(*, tenant_id, price_list_id) -> PriceList:
    """The seed's verifyPriceList() of an id: ``price_list_usable`` (else 404)."""
    uid = parse_uuid(price_list_id)
    price_list = price_lists_for_tenant(tenant=tenant_id).filter(pk=uid).first() if uid else None
    return price_list_usable(tenant_id=tenant_id, price_list=price_list)


def product_get(*, tenant, product_id=None, sku=None) -> Product:
    qs = products_for_tenant(tenant=tenant)
    if product_id is not None:
        uid = parse_uuid(product_id)
        product = qs.filter(pk=uid).first() if uid else None
    else:
        product = qs.filter(sku=sku).first() if sku else None
    if product is None:
        raise errors.NotFound("Product not found.", code=PriceListErrorCode.PRODUCT_NOT_FOUND)
    return product


def price_for(*, product: Product, price_list: PriceList | None):
    """The product's price in ``price_list`` when listed there, else its base price."""
    if price_list is not None:
        item = PriceListItem.objects.filter(price_list=price_list, product=product).first()
        if item is not None:
            return item.price
    return product.base_price
