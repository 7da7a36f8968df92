"""Every database constraint, violated once (run on SQLite and on PostgreSQL)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from b2b.models import Account, Contact, CreditCheck, OrderLine, OrderNumberSequence, SalesOrder
from customers.models import Address, ClientType, Customer
from pricelists.models import PriceList, PriceListItem, Product
from stores.models import CustomerStore, StoreMembership
from tenants.models import ApiKey, Membership, Tenant
from tests.factories import (
    AccountFactory,
    AddressFactory,
    ContactFactory,
    CustomerFactory,
    CustomerStoreFactory,
    PriceListFactory,
    PriceListItemFactory,
    ProductFactory,
    SalesOrderFactory,
    StoreFactory,
    TenantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _customer(**kw):
    return CustomerFactory(**kw)


VIOLATIONS = {
    "tenant slug unique": lambda: Tenant.objects.create(slug=TenantFactory().slug, name="x"),
    "tenant slug format": lambda: Tenant.objects.create(slug="Bad Slug!", name="x"),
    "membership unique": lambda: [
        Membership.objects.create(user=(u := UserFactory()), tenant=(t := TenantFactory())),
        Membership.objects.create(user=u, tenant=t),
    ],
    "membership role": lambda: Membership.objects.create(
        user=UserFactory(), tenant=TenantFactory(), role="owner"
    ),
    "api key role": lambda: ApiKey.objects.create(
        tenant=TenantFactory(), name="k", prefix="p", secret_hash="a" * 64, role="admin"
    ),
    "api key hash unique": lambda: [
        ApiKey.objects.create(
            tenant=(t := TenantFactory()), name="a", prefix="p", secret_hash="b" * 64
        ),
        ApiKey.objects.create(tenant=t, name="b", prefix="p", secret_hash="b" * 64),
    ],
    "client type unique": lambda: [
        ClientType.objects.create(tenant=(t := TenantFactory()), name="vip"),
        ClientType.objects.create(tenant=t, name="vip"),
    ],
    "customer discord id unique": lambda: [
        _customer(tenant=(t := TenantFactory()), discord_id="42"),
        _customer(tenant=t, discord_id="42"),
    ],
    "customer email unique, case-insensitive": lambda: [
        _customer(tenant=(t := TenantFactory()), email="Ada@Example.com"),
        _customer(tenant=t, email="ada@example.COM"),
    ],
    "customer user unique": lambda: [
        _customer(tenant=(t := TenantFactory()), user=(u := UserFactory())),
        _customer(tenant=t, user=u),
    ],
    "customer source": lambda: _customer(source="FAX"),
    "customer credit range": lambda: _customer(credit=Decimal("100000000.01")),
    "address key unique per customer": lambda: [
        AddressFactory(customer=(c := _customer()), key="home"),
        AddressFactory(customer=c, key="home"),
    ],
    "product sku unique": lambda: [
        ProductFactory(tenant=(t := TenantFactory()), sku="A"),
        ProductFactory(tenant=t, sku="A"),
    ],
    "product price >= 0": lambda: ProductFactory(base_price=Decimal("-1")),
    "price list currency": lambda: PriceListFactory(currency="usd"),
    "price list item unique": lambda: [
        (item := PriceListItemFactory()),
        PriceListItem.objects.create(price_list=item.price_list, product=item.product, price=1),
    ],
    "price list item price >= 0": lambda: PriceListItemFactory(price=Decimal("-0.01")),
    "store membership unique": lambda: [
        StoreMembership.objects.create(user=(u := UserFactory()), store=(s := StoreFactory())),
        StoreMembership.objects.create(user=u, store=s),
    ],
    "customer store unique": lambda: [
        (link := CustomerStoreFactory()),
        CustomerStore.objects.create(customer=link.customer, store=link.store),
    ],
    "account payment terms": lambda: AccountFactory(payment_terms="net_1000"),
    "account currency": lambda: AccountFactory(currency="eur"),
    "account credit limit >= 0": lambda: AccountFactory(credit_limit=Decimal("-1")),
    "account discount <= 100": lambda: AccountFactory(discount_rate=Decimal("100.01")),
    "account discount >= 0": lambda: AccountFactory(discount_rate=Decimal("-0.01")),
    "one primary contact per customer": lambda: [
        ContactFactory(customer=(c := _customer()), is_primary=True),
        ContactFactory(customer=c, is_primary=True),
    ],
    "order sequence unique": lambda: [
        OrderNumberSequence.objects.create(tenant=(t := TenantFactory()), year=2026),
        OrderNumberSequence.objects.create(tenant=t, year=2026),
    ],
    "order number unique per tenant": lambda: [
        SalesOrderFactory(customer=(c := _customer()), order_number="SO-1"),
        SalesOrderFactory(customer=c, order_number="SO-1"),
    ],
    "order status": lambda: SalesOrderFactory(status="lost"),
    "order total >= 0": lambda: SalesOrderFactory(total_amount=Decimal("-5")),
    "order currency": lambda: SalesOrderFactory(currency="$"),
    "order line quantity > 0": lambda: OrderLine.objects.create(
        order=(o := SalesOrderFactory()),
        product=ProductFactory(tenant=o.tenant),
        quantity=0,
        unit_price=1,
        line_total=0,
    ),
    "order line price >= 0": lambda: OrderLine.objects.create(
        order=(o := SalesOrderFactory()),
        product=ProductFactory(tenant=o.tenant),
        quantity=1,
        unit_price=-1,
        line_total=-1,
    ),
    "credit score 300..850": lambda: CreditCheck.objects.create(
        customer=_customer(),
        credit_score=900,
        credit_rating="x",
        recommended_credit_limit=0,
        risk_assessment="low",
    ),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_constraint_is_enforced_by_the_database(case):
    with pytest.raises(IntegrityError), transaction.atomic():
        VIOLATIONS[case]()


def test_partial_uniques_allow_many_empty_values():
    tenant = TenantFactory()
    for _ in range(3):
        Customer.objects.create(tenant=tenant, email="", discord_id="", user=None)
    Contact.objects.create(customer=(c := _customer()), name="a")
    Contact.objects.create(customer=c, name="b")
    assert Customer.objects.filter(tenant=tenant).count() == 3


def test_same_values_are_fine_in_another_tenant():
    a, b = TenantFactory(), TenantFactory()
    for tenant in (a, b):
        _customer(tenant=tenant, email="same@example.com", discord_id="1")
        ProductFactory(tenant=tenant, sku="SAME")
        SalesOrderFactory(customer=_customer(tenant=tenant), order_number="SO-SAME")
    assert Customer.objects.filter(email="same@example.com").count() == 2


def test_every_model_has_a_readable_str():
    order = SalesOrderFactory()
    line = OrderLine.objects.create(
        order=order,
        product=ProductFactory(tenant=order.tenant),
        quantity=2,
        unit_price=1,
        line_total=2,
    )
    objects = [
        order.tenant,
        Membership.objects.create(user=UserFactory(), tenant=order.tenant),
        ApiKey.objects.create(
            tenant=order.tenant, name="k", prefix="chk_abc", secret_hash="c" * 64
        ),
        ClientType.objects.create(tenant=order.tenant, name="vip"),
        order.customer,
        AddressFactory(customer=order.customer),
        PriceList.objects.create(tenant=order.tenant, name="Retail"),
        PriceListItemFactory(),
        Product.objects.first(),
        StoreFactory(tenant=order.tenant),
        StoreMembership.objects.create(user=UserFactory(), store=StoreFactory()),
        CustomerStoreFactory(),
        Account.objects.create(customer=_customer(), customer_since=timezone.now()),
        ContactFactory(),
        order,
        line,
        OrderNumberSequence.objects.create(tenant=order.tenant, year=2030),
        CreditCheck.objects.create(
            customer=order.customer,
            credit_score=700,
            credit_rating="good",
            recommended_credit_limit=1,
            risk_assessment="low",
        ),
        SalesOrder.objects.first(),
        Address.objects.first(),
    ]
    for obj in objects:
        assert str(obj).strip(), type(obj)
