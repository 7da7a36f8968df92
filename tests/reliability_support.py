"""Helpers shared by the reliability tests (tests/test_reliability_*.py, test_races.py,
test_isolation_matrix.py): one "create a customer" request per dialect, route discovery."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import Resolver404, get_resolver, resolve

from customers.duplicates import FoundPair, duplicate_pairs_record
from customers.merging import customer_merge
from customers.models import Customer, CustomerExport, DuplicatePair
from tenants import events
from tenants.events import EventType
from tenants.models import Event, WebhookAttempt, WebhookDelivery
from tests.conftest import api_key_client, bearer_client
from tests.factories import (
    AccountFactory,
    AddressFactory,
    ClientTypeFactory,
    ContactFactory,
    CreditCheckFactory,
    CustomerFactory,
    CustomerStoreFactory,
    OrderLineFactory,
    SalesOrderFactory,
    WebhookEndpointFactory,
)

DIALECTS = ("data", "store", "peppered", "b2b")


#: the HTTP methods a route may answer (HEAD and OPTIONS come with them)
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def view_class_of(callback) -> type | None:
    """The class of the view a URL pattern calls (a DRF view or viewset, or a Django view)."""
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def route_handlers(callback) -> dict[str, tuple[type, str]]:
    """``{method: (class, attribute)}``: what answers each HTTP method of a URL pattern's view.
    A viewset's route answers the actions its router bound (``callback.actions``); a plain
    view's, its handler methods. Empty for a function view."""
    view_class = view_class_of(callback)
    if view_class is None:
        return {}
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return {m: (view_class, actions[m]) for m in HTTP_METHODS if m in actions}
    return {m: (view_class, m) for m in HTTP_METHODS if hasattr(view_class, m)}


def route_exists(path: str, method: str = "GET") -> bool:
    """Whether ``path`` resolves to a view that has a handler for ``method``."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    if view_class_of(match.func) is None:
        return True
    return method.lower() in route_handlers(match.func)


@dataclass
class CreateCase:
    """How one dialect creates a customer: client, path, body for the n-th customer."""

    dialect: str
    path: str
    client: Any
    make_body: Any
    created_status: int

    def body(self, n: int) -> dict:
        return self.make_body(n)


def create_case(dialect: str, world, *, client=None) -> CreateCase:
    slug = world.tenant.slug
    if dialect == "data":
        return CreateCase(
            "data",
            "/api/data/customer",
            client or bearer_client(world.agent, **{"x-tenant-id": slug}),
            lambda n: {
                "discordId": f"discord-{n}",
                "discordUsername": f"user{n}",
                "discordDisplayName": f"User {n}",
            },
            201,
        )
    if dialect == "store":
        return CreateCase(
            "store",
            "/customers",
            client or bearer_client(world.agent, **{"x-store-id": str(world.store.id)}),
            lambda n: {"localName": f"Local shop {n}"},
            200,
        )
    if dialect == "peppered":
        return CreateCase(
            "peppered",
            f"/v1/{slug}/peppered/customer",
            client or api_key_client(world.api_key, "bare"),
            lambda n: {"email": f"pep{n}@example.com", "customerFirstName": f"Pep{n}"},
            201,
        )
    if dialect == "b2b":
        return CreateCase(
            "b2b",
            "/api/customers",
            client or bearer_client(world.agent),
            lambda n: {"name": f"Corp {n}", "email": f"corp{n}@example.com"},
            201,
        )
    raise ValueError(dialect)


def customers_of(tenant) -> int:
    return Customer.objects.filter(tenant=tenant).count()


def request_id_in(dialect: str, body: dict) -> str | None:
    """The request id named by an error body, in each dialect's envelope."""
    if dialect in ("b2b", "hub"):  # the hub API has the b2b dialect's envelope
        return (body.get("error") or {}).get("request_id")
    return body.get("requestId")


def walk_patterns(patterns=None, prefix: str = ""):
    """(route string, pattern) for every URL pattern of the project."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from walk_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


@dataclass
class Refs:
    """One tenant's ids, as the path fillers and bodies need them."""

    world: object
    slug: str
    customer_uuid: str
    customer_pk: int
    address_key: str
    contact_id: str
    order_id: str
    email: str
    discord_id: str
    price_list_id: str
    product_id: str
    user_id: int
    endpoint_id: str = ""
    delivery_id: str = ""
    extra: dict = field(default_factory=dict)
    event_id: str = ""
    export_id: str = ""
    #: a merge of the tenant (hub merges), and a live customer besides ``customer_uuid``
    merge_id: str = ""
    twin_uuid: str = ""
    pair_id: str = ""


def populate(world, label: str) -> Refs:
    tenant = world.tenant
    vip = ClientTypeFactory(tenant=tenant, name="vip")
    customer = CustomerFactory(
        tenant=tenant,
        name=f"{label} Corp",
        first_name=label,
        email=f"{label}@{tenant.slug}.example",
    )
    address = AddressFactory(customer=customer, key="home", name=f"{label} home")
    customer.default_address = address
    customer.save()
    customer.tags.add(vip)
    CustomerStoreFactory(customer=customer, store=world.store, price_list=world.price_list)
    AccountFactory(customer=customer, billing_address=address, shipping_address=address)
    contact = ContactFactory(customer=customer, name=f"{label} contact", is_primary=True)
    order = SalesOrderFactory(customer=customer)
    OrderLineFactory(order=order, product=world.products[0])
    CreditCheckFactory(customer=customer)
    # the factories write no events: one about the customer (its data names the label)
    event = Event.objects.create(
        tenant=tenant,
        type=EventType.CUSTOMER_UPDATED,
        customer_uuid=customer.uuid,
        data=events.payload("customer", customer),
        previous_attributes={"notes": ""},
    )
    endpoint = WebhookEndpointFactory(
        tenant=tenant, url=f"https://{label}.example.com/hook", description=f"{label} hook"
    )
    webhook = WebhookDelivery.objects.create(
        endpoint=endpoint, event=event, customer_uuid=customer.uuid, retry_until=event.occurred_at
    )
    WebhookAttempt.objects.create(delivery=webhook, status_code=500, response_excerpt=label)
    # a ready export job of the customer (customers/privacy.py), its bundle naming the label
    export = CustomerExport.objects.create(
        tenant=tenant,
        customer_pk=customer.pk,
        customer_uuid=customer.uuid,
        via="api",
        status=CustomerExport.Status.READY,
        bundle=label.encode(),
    )
    # a merge (hub merges): a customer merged into another, which stays live beside the first
    twin = CustomerFactory(tenant=tenant, name=f"{label} twin", email=f"{label}-twin@x.example")
    ghost = CustomerFactory(tenant=tenant, name=f"{label} ghost", email=f"{label}-ghost@x.example")
    merge = customer_merge(survivor=twin, merged=ghost)
    # a possible duplicate of the customer, queued for review (customers/duplicates.py)
    lookalike = CustomerFactory(tenant=tenant, name=f"{label} Lookalike", phone=customer.phone)
    duplicate_pairs_record(
        tenant=tenant,
        pairs=[FoundPair(customer.pk, lookalike.pk, 85, ({"code": "same_phone", "detail": "x"},))],
    )
    pair = DuplicatePair.objects.get(tenant=tenant, customer_a=customer, customer_b=lookalike)
    return Refs(
        world=world,
        slug=tenant.slug,
        customer_uuid=str(customer.uuid),
        customer_pk=customer.pk,
        address_key=address.key,
        contact_id=str(contact.id),
        order_id=str(order.id),
        email=customer.email,
        discord_id=customer.discord_id,
        price_list_id=str(world.price_list.id),
        product_id=str(world.products[0].id),
        user_id=world.agent.pk,
        event_id=str(event.uuid),
        endpoint_id=str(endpoint.id),
        delivery_id=str(webhook.id),
        export_id=str(export.id),
        merge_id=str(merge.id),
        twin_uuid=str(twin.uuid),
        pair_id=str(pair.pk),
    )


def record_figure(kind: str, **data) -> None:
    """Append one figure to ``$HUB_RELIABILITY_FIGURES`` (docs/reliability_report.py reads it)."""
    import json
    import os

    target = os.environ.get("HUB_RELIABILITY_FIGURES")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"kind": kind, **data}, default=str) + "\n")
