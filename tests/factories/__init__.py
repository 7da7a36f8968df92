"""factory-boy factories for every model (DESIGN.md §6)."""

from tests.factories.b2b import (
    AccountFactory,
    ContactFactory,
    CreditCheckFactory,
    OrderLineFactory,
    SalesOrderFactory,
)
from tests.factories.customers import AddressFactory, ClientTypeFactory, CustomerFactory
from tests.factories.pricelists import PriceListFactory, PriceListItemFactory, ProductFactory
from tests.factories.stores import CustomerStoreFactory, StoreFactory, StoreMembershipFactory
from tests.factories.tenants import (
    PASSWORD,
    ApiKeyFactory,
    MembershipFactory,
    TenantFactory,
    UserFactory,
)
from tests.factories.webhooks import EventFactory, WebhookEndpointFactory

__all__ = [
    "PASSWORD",
    "AccountFactory",
    "AddressFactory",
    "ApiKeyFactory",
    "ClientTypeFactory",
    "ContactFactory",
    "CreditCheckFactory",
    "CustomerFactory",
    "CustomerStoreFactory",
    "EventFactory",
    "MembershipFactory",
    "OrderLineFactory",
    "PriceListFactory",
    "PriceListItemFactory",
    "ProductFactory",
    "SalesOrderFactory",
    "StoreFactory",
    "StoreMembershipFactory",
    "TenantFactory",
    "UserFactory",
    "WebhookEndpointFactory",
]
