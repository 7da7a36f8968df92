"""Erasing a customer while other requests write it (issue 22), with real threads on both
databases: the erasure wins, and nothing personal is written back afterwards (a write that
comes after it answers 404)."""

from __future__ import annotations

import pytest

from b2b.models import Contact, SalesOrder
from customers.models import Customer
from tenants.models import Event
from tests.conftest import bearer_client
from tests.factories import AccountFactory, CustomerFactory
from tests.test_races import _data_clients, _peppered, race_rounds

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6


def _eraser(world):
    return bearer_client(world.admin, **{"x-tenant-id": world.tenant.slug})


def _erase(client, c, r):
    return client.post(f"/api/hub/customers/{c.uuid}/erase", {"confirm": True}, format="json")


def _left_behind(c, secret: str) -> list[str]:
    """Where ``secret`` survived the erasure of ``c`` (its record, history, events)."""
    c.refresh_from_db()
    problems = [] if c.erased_at is not None else ["not erased"]
    history = Customer.history.model.objects.filter(id=c.pk)
    if any(secret in (h.notes + h.first_name + h.last_name) for h in history):
        problems.append("in the history")
    if any(secret in str(e.data) for e in Event.objects.filter(customer_uuid=c.uuid)):
        problems.append("in an event")
    if secret in c.notes + c.first_name + c.last_name:
        problems.append("in the record")
    return problems


def _answers(results, writer: set[int]) -> list[str]:
    erase, write = results
    out = [] if erase.status_code == 200 else [f"erase answered {erase.status_code}"]
    return out + ([] if write.status_code in writer else [f"write answered {write.status_code}"])


def test_erase_racing_a_data_patch(world):
    def lost(c, r, results):
        return _answers(results, {200, 404}) + _left_behind(c, f"secret note {r}")

    race_rounds(
        [_eraser(world), _data_clients(world, 1)[0]],
        [
            _erase,
            lambda client, c, r: client.patch(
                f"/api/data/customer/{c.uuid}", {"notes": f"secret note {r}"}, format="json"
            ),
        ],
        setup=lambda r: CustomerFactory(tenant=world.tenant),
        lost=lost,
        rounds=ROUNDS,
    )


def test_erase_racing_a_peppered_put(world):
    def lost(c, r, results):
        return _answers(results, {200, 404}) + _left_behind(c, f"Secretname{r}")

    race_rounds(
        [_eraser(world), _peppered(world)],
        [
            _erase,
            lambda client, c, r: client.put(
                f"/v1/{world.tenant.slug}/peppered/customer/{c.pk}",
                {"email": c.email, "customerFirstName": f"Secretname{r}"},
                format="json",
            ),
        ],
        setup=lambda r: CustomerFactory(tenant=world.tenant),
        lost=lost,
        rounds=ROUNDS,
    )


def test_erase_racing_b2b_contact_and_order_creation(world):
    """A contact or an order (which copies the shipping address) created while the customer
    is erased is either erased with it or refused: none is left with personal values."""
    b2b = bearer_client(world.agent)

    def setup(r):
        return AccountFactory(customer=CustomerFactory(tenant=world.tenant)).customer

    def lost(c, r, results):
        problems = _answers(results[:2], {201, 404}) + _answers(
            [results[0], results[2]], {201, 404}
        )
        problems += _left_behind(c, f"Secret Contact {r}")
        if Contact.objects.filter(customer=c).exists():
            problems.append("a contact survived")
        if SalesOrder.objects.filter(customer=c).exclude(shipping_address={}).exists():
            problems.append("an order kept an address")
        return problems

    race_rounds(
        [_eraser(world), b2b, bearer_client(world.agent)],
        [
            _erase,
            lambda client, c, r: client.post(
                f"/api/customers/{c.uuid}/contacts",
                {"name": f"Secret Contact {r}", "email": f"secret{r}@example.org"},
                format="json",
            ),
            lambda client, c, r: client.post(
                "/api/orders",
                {
                    "customer_id": str(c.uuid),
                    "lines": [{"product_id": str(world.products[0].id), "quantity": 1}],
                    "shipping_address": {"line1": f"Secret Contact {r} Street"},
                },
                format="json",
            ),
        ],
        setup=setup,
        lost=lost,
        rounds=ROUNDS,
    )
