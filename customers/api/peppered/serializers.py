"""Peppered wire shapes: the request bodies of seed 002 and its ``UserResource``."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.peppered.base import (
    ADDRESS_WIRE_FIELDS,
    CUSTOMER_WIRE_FIELDS,
    DefaultAddressPartField,
    TwoPlacesField,
    messages,
)
from customers.models import Customer
from customers.selectors import customer_tag_names
from tenants.api.compiled import BlankAsNullCharField, CompiledSerializer, Computed
from tenants.money import money


def _credit_limit() -> Decimal:
    """The bound of the model's ``customer_credit_range`` check constraint."""

    def bounds(node):
        for child in node.children:
            if isinstance(child, tuple):
                if child[0].startswith("credit__"):
                    yield abs(Decimal(child[1]))
            else:
                yield from bounds(child)

    for constraint in Customer._meta.constraints:
        if constraint.name == "customer_credit_range":
            found = list(bounds(constraint.condition))
            if found:
                return min(found)
    return Decimal("100000000")


CREDIT_LIMIT = _credit_limit()
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.(\d*))?|\.(\d+))$")
_PHONE = re.compile(r"^\+?\d+$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(wire: str, limit: int, **extra) -> serializers.CharField:
    """An optional string field; ``null`` and ``""`` both clear the value."""
    return serializers.CharField(
        max_length=limit,
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages=messages(wire, **extra),
    )


class PhoneField(serializers.CharField):
    """Digits only, optionally after a leading ``+`` (a JSON number is accepted too)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value and not _PHONE.match(value):
            self.fail("not_numeric")
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "pattern": r"^[+-]?(\d+(\.\d{0,2})?|\.\d{1,2})$"},
            {"type": "number"},
        ],
        "description": 'A decimal with at most two decimal places, e.g. "25.50" or 25.5; '
        f"between -{CREDIT_LIMIT} and {CREDIT_LIMIT}.",
        "examples": ["25.50"],
    }
)
class CreditField(serializers.Field):
    """A decimal with at most two decimal places, sent as a string or a JSON number."""

    default_error_messages = {
        "invalid": "The customer credit field must be a number.",
        "max_decimal_places": "The customer credit field must have 0-2 decimal places.",
        "range": f"The customer credit field must be between -{CREDIT_LIMIT} and {CREDIT_LIMIT}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        if isinstance(data, float):
            if not math.isfinite(data):
                self.fail("invalid")
            text = repr(data)  # the shortest form: 25.5, not 25.499999…
        else:
            text = str(data).strip()
        if len(text) > 40:
            self.fail("range")
        match = _NUMBER.match(text)
        if match is None:
            self.fail("invalid")
        places = match.group(1) or match.group(2) or ""
        if len(places) > 2:
            self.fail("max_decimal_places")
        try:
            value = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
            self.fail("invalid")
        if abs(value) > CREDIT_LIMIT:
            self.fail("range")
        return money(value)

    def to_representation(self, value):
        return f"{value:.2f}"


class CustomerWriteSerializer(serializers.Serializer):
    """The body of ``POST customer``: ``email`` is required. Unknown fields are ignored, as
    the original does."""

    email = serializers.EmailField(
        max_length=254,
        error_messages=messages("email", invalid="The {name} field must be a valid email address."),
        help_text="Required on create; unique within the client (case-insensitive).",
    )
    customerFirstName = _text("customerFirstName", 255)
    customerLastName = _text("customerLastName", 255)
    customerSalutation = _text(
        "customerSalutation",
        1,
        max_length="The {name} field must be 1 characters.",
    )
    customerPreposition = _text("customerPreposition", 255)
    customerAddress = _text("customerAddress", 255)
    customerHouseNr = _text("customerHouseNr", 20)
    customerZip = _text("customerZip", 10)
    customerCity = _text("customerCity", 255)
    customerCountry = _text("customerCountry", 255)
    customerPhone = PhoneField(
        max_length=32,
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages=messages("customerPhone", not_numeric="The {name} field must be a number."),
        help_text='Digits only, optionally after a leading "+" (e.g. "0612345678", '
        '"+31612345678"); a JSON number is accepted too.',
    )
    customerCredit = CreditField(
        required=False, error_messages={"null": "The customer credit field must be a number."}
    )

    class Meta:
        ref_name = "PepperedCustomerWrite"

    def service_fields(self, customer=None) -> tuple[dict, dict]:
        """``(customer fields, default-address fields)`` for the services: only what was sent.

        ``null`` and ``""`` clear a string field. ``name`` follows the names: it is set to
        "first preposition last" when it is empty or still equals the previous full name.
        """
        data = self.validated_data
        fields = {
            model: ("" if data[wire] is None else data[wire])
            for wire, model in CUSTOMER_WIRE_FIELDS.items()
            if wire in data
        }
        address = {
            model: ("" if data[wire] is None else data[wire])
            for wire, model in ADDRESS_WIRE_FIELDS.items()
            if wire in data
        }
        name_parts = ("first_name", "preposition", "last_name")
        if any(part in fields for part in name_parts):
            old = {part: getattr(customer, part, "") for part in name_parts}
            new = {part: fields.get(part, old[part]) for part in name_parts}
            old_name = getattr(customer, "name", "")
            if not old_name or old_name == full_name(**old):
                fields["name"] = full_name(**new)
        return fields, address


class CustomerUpdateSerializer(CustomerWriteSerializer):
    """The body of ``PUT customer/{id}``: the same fields, all optional; only what is sent
    changes."""

    email = serializers.EmailField(
        max_length=254,
        required=False,
        error_messages=messages("email", invalid="The {name} field must be a valid email address."),
        help_text="Unique within the client (case-insensitive); cannot be cleared.",
    )

    class Meta:
        ref_name = "PepperedCustomerUpdate"


def full_name(*, first_name: str, preposition: str, last_name: str) -> str:
    """The display name "first preposition last", cut to the length of Customer.name."""
    name = " ".join(part for part in (first_name, preposition, last_name) if part)
    return name[: Customer._meta.get_field("name").max_length].rstrip()


class FindByEmailSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254,
        error_messages=messages("email", invalid="The {name} field must be a valid email address."),
    )

    class Meta:
        ref_name = "PepperedFindByEmail"


class ClientTypesSerializer(serializers.Serializer):
    clienttypes = serializers.ListField(
        child=serializers.CharField(max_length=100, error_messages=messages("clienttypes")),
        allow_empty=True,
        max_length=1000,
        error_messages=messages(
            "clienttypes",
            max_length="The {name} field must not have more than {{max_length}} items.",
        ),
        help_text="The complete new set of client-type names; [] removes every tag.",
    )

    class Meta:
        ref_name = "PepperedClientTypes"


class ChangedSinceField(serializers.DateTimeField):
    """An ISO 8601 date-time (a naive one is UTC), or a date (midnight UTC)."""

    def to_internal_value(self, value):
        if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
            try:
                day = datetime.strptime(value.strip(), "%Y-%m-%d")
            except ValueError:
                self.fail("invalid", format="YYYY-MM-DD")
            return day.replace(tzinfo=UTC)
        return super().to_internal_value(value)


class ExportCustomersSerializer(serializers.Serializer):
    changedSince = ChangedSinceField(
        required=False,
        allow_null=True,
        error_messages=messages(
            "changedSince",
            invalid="The {name} field must be a valid date.",
            date="The {name} field must be a valid date.",
            make_aware="The {name} field must be a valid date.",
            overflow="The {name} field must be a valid date.",
        ),
        help_text="Only customers whose lastChanged is at or after this moment (ISO 8601; a "
        "naive time is UTC, a bare date is midnight UTC). Absent or null: every customer.",
    )

    class Meta:
        ref_name = "PepperedExportCustomers"


class TagNamesField(Computed, serializers.ListField):
    """The names of the customer's client types, sorted (``customer_tag_names``)."""

    reads = ("*",)
    columns = ()

    def compute(self, customer):
        return customer_tag_names(customer)


class UserResourceSerializer(CompiledSerializer):
    """The seed's ``UserResource``: exactly its sixteen fields.

    The address fields are the customer's default address; empty strings in the model are
    returned as ``""``, an empty external id as ``null``.
    """

    customerId = serializers.IntegerField(source="pk", help_text="Unique customer ID.")
    customerExternalId = BlankAsNullCharField(
        source="external_id",
        allow_null=True,
        help_text="External reference (e.g. CRM ID); null when not set.",
    )
    email = serializers.CharField()
    customerSalutation = serializers.CharField(source="salutation", allow_blank=True)
    customerFirstName = serializers.CharField(source="first_name", allow_blank=True)
    customerLastName = serializers.CharField(source="last_name", allow_blank=True)
    customerPreposition = serializers.CharField(
        source="preposition", allow_blank=True, help_text="Dutch tussenvoegsel."
    )
    customerAddress = DefaultAddressPartField(
        "line1",
        allow_blank=True,
        help_text="The address line (street + house number) exactly as the client sent it.",
    )
    customerHouseNr = DefaultAddressPartField(
        "house_number", allow_blank=True, help_text="House number separately."
    )
    customerZip = DefaultAddressPartField("postal_code", allow_blank=True)
    customerCity = DefaultAddressPartField("city", allow_blank=True)
    customerCountry = DefaultAddressPartField("country", allow_blank=True)
    customerPhone = serializers.CharField(source="phone", allow_blank=True)
    customerCredit = TwoPlacesField(
        source="credit",
        help_text='Current credit balance: a decimal string with two places, e.g. "25.50".',
    )
    lastChanged = serializers.DateTimeField(
        source="updated_at", help_text="Last modification (ISO 8601, UTC)."
    )
    customerTags = TagNamesField(
        child=serializers.CharField(), help_text="Client types assigned, sorted by name."
    )

    class Meta:
        ref_name = "UserResource"
