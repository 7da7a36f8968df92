"""Writes of products and price lists."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from pricelists.error_codes import PriceListErrorCode
from pricelists.models import PriceList, PriceListItem, Product
from tenants import errors
from tenants.constraints import integrity_message, violation
from tenants.transactions import service_atomic

UNSET = object()


def _money(value, constraint: str) -> Decimal:
    """A price: a decimal of 0 or more (else the constraint's sentence, before the database
    says it)."""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise violation(constraint) from None
    if not value.is_finite() or value < 0:
        raise violation(constraint)
    return value


def _save(instance, *, update_fields=None) -> None:
    """Validate formats and lengths, then save; a violated constraint is its sentence."""
    try:
        instance.full_clean(exclude=["tenant"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        name, messages = next(iter(fields.items()))
        raise errors.ValidationError(f"{name}: {messages[0]}", fields=fields) from exc
    try:
        with transaction.atomic():
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        field, sentence = integrity_message(exc)
        raise errors.ValidationError(
            sentence, fields={field: [sentence]} if field else None
        ) from exc


def _changed(instance, values: dict) -> list[str]:
    changed = []
    for name, value in values.items():
        if value is not UNSET and getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


@service_atomic()
def product_create(*, tenant, sku: str, name: str, base_price: Decimal) -> Product:
    product = Product(
        tenant=tenant, sku=sku, name=name, base_price=_money(base_price, "product_price_gte_0")
    )
    _save(product)
    return product


@service_atomic()
def product_update(*, product: Product, sku=UNSET, name=UNSET, base_price=UNSET) -> Product:
    """Change only the given fields of a product."""
    if base_price is not UNSET:
        base_price = _money(base_price, "product_price_gte_0")
    locked = Product.objects.select_for_update().get(pk=product.pk)
    changed = _changed(locked, {"sku": sku, "name": name, "base_price": base_price})
    if changed:
        _save(locked, update_fields=[*changed, "updated_at"])
    return locked


@service_atomic()
def product_delete(*, product: Product) -> None:
    """Delete a product and its prices (a product on an order is protected by the database)."""
    product.delete()


@service_atomic()
def price_list_create(*, tenant, name: str, currency: str = "USD", is_active: bool = True):
    price_list = PriceList(tenant=tenant, name=name, currency=currency, is_active=is_active)
    _save(price_list)
    return price_list


@service_atomic()
def price_list_update(
    *, price_list: PriceList, name=UNSET, currency=UNSET, is_active=UNSET
) -> PriceList:
    """Change only the given fields. A price list switched off can no longer be given to a
    store link or an account (``price_list_usable``); those that have it keep it."""
    locked = PriceList.objects.select_for_update().get(pk=price_list.pk)
    changed = _changed(locked, {"name": name, "currency": currency, "is_active": is_active})
    if changed:
        _save(locked, update_fields=[*changed, "updated_at"])
    return locked


@service_atomic()
def price_list_item_set(*, price_list: PriceList, product: Product, price: Decimal):
    if product.tenant_id != price_list.tenant_id:
        raise ValueError("The product and the price list belong to different tenants.")
    item, _ = PriceListItem.objects.update_or_create(
        price_list=price_list,
        product=product,
        defaults={"price": _money(price, "pricelistitem_price_gte_0")},
    )
    return item


@service_atomic()
def price_list_item_product_change(*, item: PriceListItem, product: Product) -> PriceListItem:
    """Make a price list item price another product of the same tenant."""
    locked = PriceListItem.objects.select_for_update().select_related("price_list").get(pk=item.pk)
    if product.tenant_id != locked.price_list.tenant_id:
        raise errors.NotFound("Product not found.", code=PriceListErrorCode.PRODUCT_NOT_FOUND)
    if locked.product_id != product.pk:
        locked.product = product
        _save(locked, update_fields=["product", "updated_at"])
    return locked


@service_atomic()
def price_list_item_remove(*, item: PriceListItem) -> None:
    PriceListItem.objects.filter(pk=item.pk).delete()
