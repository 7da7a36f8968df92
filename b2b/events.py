"""The change events' payloads (tenants.events): each kind of record as an event's ``data``
carries it, in the b2b dialect's snake_case shape (its names, its phone style, money as
numbers with two decimals, times in ISO 8601 UTC), built from the record in memory.

One builder per record kind, registered at start-up (``B2bConfig.ready``), so that the
services of every app (which may not import b2b) build them through ``tenants.events.payload``.
A builder never queries: the service passes what the record does not hold (``customer``).
The b2b serializers are reused where the dialect has one for the record (contacts, orders);
the customer, its addresses, store links and account carry every column a change can touch
(the b2b record of a customer joins its account, which a customer's service does not read).
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from b2b.api.base import CurrencyField, MoneyField, PercentField, PhoneField, cents
from b2b.api.serializers import (
    PAYMENT_TERMS,
    B2BContactDetailSerializer,
    B2BOrderSummarySerializer,
)
from tenants.api.dialect import iso_timestamp
from tenants.events import payload_register
from tenants.phones import phone_dashed


def _json(value):
    """A serializer's output as JSON values (money as numbers)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _money(value) -> float | None:
    return None if value is None else float(cents(value))


def _id(value) -> str | None:
    return None if value is None else str(value)


def customer_data(customer) -> dict:
    return {
        "id": str(customer.uuid),
        "name": customer.display_name,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "local_name": customer.local_name,
        "salutation": customer.salutation,
        "preposition": customer.preposition,
        "email": customer.email,
        "phone": phone_dashed(customer.phone),
        "discord_id": customer.discord_id,
        "discord_username": customer.discord_username,
        "discord_display_name": customer.discord_display_name,
        "external_id": customer.external_id,
        "source": customer.source,
        "user_id": _id(customer.user_id),
        "credit": _money(customer.credit),
        "default_address_id": _id(customer.default_address_id),
        "is_active": customer.is_active,
        "notes": customer.notes,
        "created_at": iso_timestamp(customer.created_at),
        "updated_at": iso_timestamp(customer.updated_at),
    }


def customer_tags_data(customer, *, tags) -> dict:
    return {"customer_id": str(customer.uuid), "tags": sorted(tags)}


def address_data(address, *, customer) -> dict:
    return {
        "id": str(address.pk),
        "customer_id": str(customer.uuid),
        "address_id": address.key,
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "house_number": address.house_number,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
        "phone": phone_dashed(address.phone),
        "created_at": iso_timestamp(address.created_at),
        "updated_at": iso_timestamp(address.updated_at),
    }


def store_link_data(link, *, customer) -> dict:
    return {
        "id": str(link.pk),
        "customer_id": str(customer.uuid),
        "store_id": str(link.store_id),
        "price_list_id": _id(link.price_list_id),
        "created_at": iso_timestamp(link.created_at),
    }


def account_data(account, *, customer) -> dict:
    return {
        "customer_id": str(customer.uuid),
        "fax": account.fax,
        "website": account.website,
        "tax_id": account.tax_id,
        "payment_terms": account.payment_terms,
        "currency": account.currency,
        "credit_limit": _money(account.credit_limit),
        "discount_rate": _money(account.discount_rate),
        "preferred_shipping": account.preferred_shipping,
        "price_list_id": _id(account.price_list_id),
        "customer_since": iso_timestamp(account.customer_since),
        "billing_address_id": _id(account.billing_address_id),
        "shipping_address_id": _id(account.shipping_address_id),
        "updated_at": iso_timestamp(account.updated_at),
    }


def contact_data(contact) -> dict:
    return _json(dict(B2BContactDetailSerializer(contact).data))


def order_data(order) -> dict:
    return _json(dict(B2BOrderSummarySerializer(order).data))


def merge_data(merge) -> dict:
    """A merge (customers.models.Merge) as ``customer.merged``/``customer.unmerged`` carry
    it: the two customers, who and when, the field choices and, after an undo, what could
    not be restored."""
    return {
        "id": str(merge.id),
        "survivor_id": str(merge.survivor.uuid),
        "merged_id": str(merge.merged.uuid),
        "merged_at": iso_timestamp(merge.merged_at),
        "merged_by": merge.actor,
        "fields": dict(merge.fields),
        "undone_at": iso_timestamp(merge.undone_at),
        "undone_by": merge.undone_by,
        "problems": list(merge.problems),
    }


BUILDERS = {
    "customer": customer_data,
    "customer_tags": customer_tags_data,
    "address": address_data,
    "store_link": store_link_data,
    "account": account_data,
    "contact": contact_data,
    "order": order_data,
    "merge": merge_data,
}


# --- the payloads' schemas (OpenAPI: the events API's ``data``) --------------------------------
# One serializer per builder above, declaring what it returns (tests compare the keys); the
# contact and order payloads are the b2b serializers themselves.


class EventCustomerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField(help_text="The display name, as the b2b dialect shows it.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    local_name = serializers.CharField()
    salutation = serializers.CharField()
    preposition = serializers.CharField()
    email = serializers.CharField()
    phone = PhoneField()
    discord_id = serializers.CharField()
    discord_username = serializers.CharField()
    discord_display_name = serializers.CharField()
    external_id = serializers.CharField()
    source = serializers.CharField()
    user_id = serializers.CharField(allow_null=True, help_text="The linked user's id.")
    credit = MoneyField()
    default_address_id = serializers.UUIDField(allow_null=True)
    is_active = serializers.BooleanField()
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EventCustomerTagsSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    tags = serializers.ListField(
        child=serializers.CharField(), help_text="The client types' names, sorted."
    )


class EventAddressSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    address_id = serializers.CharField(help_text="The client's key of the address (addressId).")
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    house_number = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    phone = PhoneField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EventStoreLinkSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    store_id = serializers.UUIDField()
    price_list_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


class EventAccountSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    fax = serializers.CharField()
    website = serializers.CharField()
    tax_id = serializers.CharField()
    payment_terms = serializers.ChoiceField(choices=PAYMENT_TERMS)
    currency = CurrencyField()
    credit_limit = MoneyField()
    discount_rate = PercentField()
    preferred_shipping = serializers.CharField()
    price_list_id = serializers.UUIDField(allow_null=True)
    customer_since = serializers.DateTimeField(allow_null=True)
    billing_address_id = serializers.UUIDField(allow_null=True)
    shipping_address_id = serializers.UUIDField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class EventMergeActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "api_key", "system"])
    id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    origin = serializers.CharField()


class EventMergeSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The merge's id (GET /api/hub/merges/{id}).")
    survivor_id = serializers.UUIDField(help_text="The customer that was kept.")
    merged_id = serializers.UUIDField(
        help_text="The customer merged away: a tombstone that answers as the survivor until "
        "the merge is undone."
    )
    merged_at = serializers.DateTimeField()
    merged_by = EventMergeActorSerializer(help_text="Who merged.")
    fields = serializers.DictField(
        child=serializers.ChoiceField(choices=["survivor", "merged"]),
        help_text="The per-field choices the merge was asked for.",
    )
    undone_at = serializers.DateTimeField(allow_null=True)
    undone_by = EventMergeActorSerializer(allow_null=True, help_text="Who undid it.")
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the undo could not restore cleanly (empty otherwise).",
    )


SCHEMAS = {
    "customer": EventCustomerSerializer,
    "customer_tags": EventCustomerTagsSerializer,
    "address": EventAddressSerializer,
    "store_link": EventStoreLinkSerializer,
    "account": EventAccountSerializer,
    "contact": B2BContactDetailSerializer,
    "order": B2BOrderSummarySerializer,
    "merge": EventMergeSerializer,
}


def register() -> None:
    for kind, builder in BUILDERS.items():
        payload_register(kind, builder, schema=SCHEMAS[kind])
