from decimal import Decimal

import factory

from pricelists.models import PriceList, PriceListItem, Product
from tests.factories.tenants import TenantFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    tenant = factory.SubFactory(TenantFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    base_price = Decimal("10.00")


class PriceListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceList

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Price list {n}")
    currency = "USD"
    is_active = True


class PriceListItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListItem

    price_list = factory.SubFactory(PriceListFactory)
    product = factory.SubFactory(
        ProductFactory, tenant=factory.SelfAttribute("..price_list.tenant")
    )
    price = Decimal("8.00")
