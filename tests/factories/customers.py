import factory

from customers.identity import column_values
from customers.models import Address, ClientType, Customer, Identifier, Source
from tests.factories.tenants import TenantFactory


class ClientTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientType
        django_get_or_create = ("tenant", "name")

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"type-{n}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    tenant = factory.SubFactory(TenantFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    name = factory.LazyAttribute(lambda o: f"{o.first_name} {o.last_name}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+31612{n:06d}")  # E.164, as services store it
    discord_id = factory.Sequence(lambda n: str(100000000000000000 + n))
    discord_username = factory.Sequence(lambda n: f"discord_{n}")
    discord_display_name = factory.LazyAttribute(lambda o: o.name)
    source = Source.MANUAL

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.set(extracted)

    @factory.post_generation
    def identifiers(obj, create, extracted, **kwargs):
        """The identity graph's rows of the columns, as the services write them (a value
        another customer holds stays with it, as in customers/migrations/0008)."""
        if create and extracted is not False:
            Identifier.objects.bulk_create(
                [
                    Identifier(tenant_id=obj.tenant_id, customer=obj, kind=kind, value=value)
                    for kind, value in column_values(obj).items()
                    if value
                ],
                ignore_conflicts=True,
            )


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    key = factory.Sequence(lambda n: f"addr-{n}")
    name = factory.Faker("name")
    line1 = factory.Faker("street_address")
    house_number = factory.Sequence(lambda n: str(n % 300 + 1))
    city = factory.Faker("city")
    state = "NH"
    postal_code = factory.Sequence(lambda n: f"{1000 + n % 8999}AB")
    country = "NL"
