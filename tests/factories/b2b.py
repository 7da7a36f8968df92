from decimal import Decimal

import factory
from django.utils import timezone

from b2b.models import Account, Contact, CreditCheck, OrderLine, SalesOrder
from tests.factories.customers import CustomerFactory
from tests.factories.pricelists import ProductFactory


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    customer = factory.SubFactory(CustomerFactory)
    website = "https://example.com"
    payment_terms = "net_30"
    currency = "USD"
    credit_limit = Decimal("10000.00")
    discount_rate = Decimal("0.00")
    customer_since = factory.LazyFunction(timezone.now)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Faker("name")
    title = "Buyer"
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    phone = "+1-555-0100"
    is_primary = False


class SalesOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesOrder

    customer = factory.SubFactory(CustomerFactory)
    tenant = factory.SelfAttribute("customer.tenant")
    order_number = factory.Sequence(lambda n: f"SO-TEST-{n:06d}")
    status = "confirmed"
    order_date = factory.LazyFunction(timezone.now)
    currency = "USD"
    total_amount = Decimal("0.00")
    items_count = 0


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(SalesOrderFactory)
    product = factory.SubFactory(ProductFactory, tenant=factory.SelfAttribute("..order.tenant"))
    quantity = 1
    unit_price = Decimal("10.00")
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


class CreditCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditCheck

    customer = factory.SubFactory(CustomerFactory)
    inputs = factory.LazyFunction(dict)
    factors = factory.LazyFunction(list)
    credit_score = 700
    credit_rating = "good"
    recommended_credit_limit = Decimal("5000.00")
    current_credit_limit = Decimal("5000.00")
    risk_assessment = "low"
