import factory

from tenants.models import Event, WebhookEndpoint
from tenants.services import webhook_endpoint_create
from tests.factories.tenants import TenantFactory


class EventFactory(factory.django.DjangoModelFactory):
    """An outbox row, as tenants/events.py writes them (the webhook tests need no real change)."""

    class Meta:
        model = Event

    tenant = factory.SubFactory(TenantFactory)
    type = "customer.updated"
    customer_uuid = factory.Faker("uuid4", cast_to=None)
    actor = factory.LazyFunction(lambda: {"type": "system", "id": None, "name": "test"})
    data = factory.LazyAttribute(lambda o: {"id": str(o.customer_uuid), "name": "Ada"})
    previous_attributes = None


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint through its service; the plain secret is on ``endpoint.secret`` (tests only)."""

    class Meta:
        model = WebhookEndpoint

    tenant = factory.SubFactory(TenantFactory)
    url = "https://hooks.example.com/hub"
    event_types = factory.LazyFunction(list)
    description = ""

    @classmethod
    def _create(cls, model_class, tenant, url, event_types, description, **kwargs):
        endpoint, secret = webhook_endpoint_create(
            tenant=tenant, url=url, event_types=event_types, description=description
        )
        endpoint.secret = secret
        return endpoint
