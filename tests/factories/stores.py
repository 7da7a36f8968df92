import factory

from stores.models import CustomerStore, Store, StoreMembership
from stores.services import store_create
from tests.factories.customers import CustomerFactory
from tests.factories.tenants import TenantFactory, UserFactory


class StoreFactory(factory.django.DjangoModelFactory):
    """Made by the service, so the store's own customer is created with it."""

    class Meta:
        model = Store

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    is_active = True

    @classmethod
    def _create(cls, model_class, tenant, name, is_active=True, **kwargs):
        return store_create(tenant=tenant, name=name, is_active=is_active)


class StoreMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoreMembership

    user = factory.SubFactory(UserFactory)
    store = factory.SubFactory(StoreFactory)
    is_active = True


class CustomerStoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerStore

    store = factory.SubFactory(StoreFactory)
    customer = factory.SubFactory(CustomerFactory, tenant=factory.SelfAttribute("..store.tenant"))
    price_list = None
