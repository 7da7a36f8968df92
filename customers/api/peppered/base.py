"""The peppered dialect's edge (seed 002): ``/v1/<client_name>/peppered/…``.

Everything that makes this dialect look like the original Laravel platform lives here:

- errors: ``{"message": "...", "requestId": "..."}``; validation failures are **422** in
  Laravel's form ``{"message": "<first error> (and N more errors)", "errors": {"field":
  ["..."]}, "requestId": "..."}``, keyed by the wire names (``email``,
  ``customerFirstName``, …, ``clienttypes``);
- validation messages worded as Laravel words them ("The customer first name field must not
  be greater than 255 characters.");
- the mapping between the wire names and the shared model's field names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rest_framework import serializers

from customers.identity import existing_of
from tenants import errors
from tenants.access import tenant_from_path
from tenants.api.compiled import Computed, renders
from tenants.api.dialect import Dialect, ErrorInfo, register
from tenants.money import money

#: wire name -> Customer field
CUSTOMER_WIRE_FIELDS = {
    "email": "email",
    "customerSalutation": "salutation",
    "customerFirstName": "first_name",
    "customerLastName": "last_name",
    "customerPreposition": "preposition",
    "customerPhone": "phone",
    "customerCredit": "credit",
}
#: wire name -> field of the customer's default Address
ADDRESS_WIRE_FIELDS = {
    "customerAddress": "line1",
    "customerHouseNr": "house_number",
    "customerZip": "postal_code",
    "customerCity": "city",
    "customerCountry": "country",
}
#: model field name -> wire name (for errors raised by the shared services)
MODEL_TO_WIRE = {
    **{model: wire for wire, model in CUSTOMER_WIRE_FIELDS.items()},
    **{model: wire for wire, model in ADDRESS_WIRE_FIELDS.items()},
    "external_id": "customerExternalId",
    "name": "customerFirstName",
    "non_field_errors": "body",
}
#: the key the peppered dialect gives the default address it creates
DEFAULT_ADDRESS_KEY = "default"


def two_places(value) -> str:
    """A decimal as the seed shows money: a string with two places (``"25.50"``), rounded as
    all money is (``tenants.money``)."""
    return str(money(value))


@renders(two_places)
class TwoPlacesField(serializers.CharField):
    """Money on the wire: a decimal string with two places."""

    def to_representation(self, value):
        return two_places(value)


class DefaultAddressPartField(Computed, serializers.CharField):
    """A part of the customer's default address (``ADDRESS_WIRE_FIELDS``): ``""`` when the
    customer has no default address."""

    def __init__(self, part: str, **kwargs):
        super().__init__(reads=(f"default_address.{part}",), **kwargs)

    def compute(self, value):
        return "" if value is None else value


def attribute(wire_name: str) -> str:
    """Laravel's display name of an attribute: ``customerFirstName`` -> ``customer first name``."""
    head = wire_name.split(".")[0]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", head).lower().replace("_", " ")


def messages(wire_name: str, **extra: str) -> dict[str, str]:
    """DRF error messages for a field, worded as Laravel's validator words them."""
    name = attribute(wire_name)
    base = {
        "required": f"The {name} field is required.",
        "null": f"The {name} field is required.",
        "blank": f"The {name} field is required.",
        "invalid": f"The {name} field must be a string.",
        "max_length": f"The {name} field must not be greater than {{max_length}} characters.",
        "min_length": f"The {name} field must be at least {{min_length}} characters.",
        "not_a_list": f"The {name} field must be an array.",
        "empty": f"The {name} field is required.",
    }
    base.update({key: value.format(name=name) for key, value in extra.items()})
    return base


def _nested(name: str, msgs: list[str]) -> list[str]:
    """Laravel names an item of an array by its path: "The clienttypes.1 field is required."."""
    if "." not in name:
        return list(msgs)
    general = f"The {attribute(name)} field"
    return [m.replace(general, f"The {name} field", 1) for m in msgs]


@dataclass
class PepperedErrorInfo(ErrorInfo):
    #: the integer id of the customer that holds a taken email (issue 20)
    customer_id: int | None = None


class PepperedDialect(Dialect):
    name = "peppered"
    path_pattern = re.compile(r"^/v1/[^/]+/peppered(/|$)")
    validation_status = 422
    error_component = "PepperedError"

    def caller_access(self, request, view_kwargs):
        return tenant_from_path(request, view_kwargs.get("client_name", ""), write=False)

    def error_info(self, exc, request) -> ErrorInfo:
        info = super().error_info(exc, request)
        # Every broken rule is a 422 here, whatever its code (email_taken,
        # unknown_client_type, …): Laravel answers every failed validation with 422.
        if isinstance(exc, errors.ValidationError) or (info.status == 400 and info.fields):
            info.status = self.validation_status
        if info.status == self.validation_status:
            info.fields = {
                MODEL_TO_WIRE.get(name, name): _nested(MODEL_TO_WIRE.get(name, name), msgs)
                for name, msgs in info.fields.items()
            }
            if info.code == "invalid_phone":  # tenants/phones.py, worded as Laravel does
                info.fields = {
                    name: [f"The {attribute(name)} field must be a valid phone number."]
                    for name in info.fields
                }
        if info.status == 401:
            # The API key as Basic user name is what peppered clients send; Bearer works too.
            info.headers["WWW-Authenticate"] = 'Basic realm="peppered", Bearer realm="api"'
        if (existing := existing_of(exc)) is not None:
            # a taken email names the customer that has it, so the client can use it
            return PepperedErrorInfo(**vars(info), customer_id=existing.pk)
        return info

    def render_error(self, info: ErrorInfo) -> dict:
        if info.status == self.validation_status and info.fields:  # Laravel's form
            all_messages = [m for msgs in info.fields.values() for m in msgs]
            message = all_messages[0] if all_messages else info.message
            more = len(all_messages) - 1
            if more > 0:
                message += f" (and {more} more {'error' if more == 1 else 'errors'})"
            customer_id = getattr(info, "customer_id", None)
            if customer_id is not None:
                message += f" (customerId {customer_id})"
                return {
                    "message": message,
                    "errors": info.fields,
                    "customerId": customer_id,
                    "requestId": info.request_id,
                }
            return {"message": message, "errors": info.fields, "requestId": info.request_id}
        if info.status == self.validation_status:
            return {"message": info.message, "errors": {}, "requestId": info.request_id}
        return {"message": info.message, "requestId": info.request_id}

    def error_schema(self) -> dict:
        return {
            "type": "object",
            "description": (
                "Every peppered error. Validation failures (422) add `errors`, which maps "
                "each field's wire name to its messages (Laravel's format); `message` is then "
                "the first message, followed by `(and N more errors)` when there are more."
            ),
            "properties": {
                "message": {"type": "string"},
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "customerId": {
                    "type": "integer",
                    "description": (
                        "Only on a 422 for an email another customer of the client has: "
                        "that customer's id (also named in `message`), to read or update it "
                        "instead."
                    ),
                },
                "requestId": {"type": "string", "description": "Also sent as X-Request-ID."},
            },
            "required": ["message", "requestId"],
        }


PEPPERED = register(PepperedDialect())


class ValidationErrorSerializer(serializers.Serializer):
    """The documented 422 body (for the OpenAPI document only)."""

    message = serializers.CharField(
        help_text='The first error, plus " (and N more errors)" when there are more.'
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field wire name -> messages.",
    )
    customerId = serializers.IntegerField(
        required=False,
        help_text="Only when the email is taken: the id of the customer that has it.",
    )
    requestId = serializers.CharField()

    class Meta:
        ref_name = "PepperedValidationError"
