"""Wire shapes of the data dialect (camelCase), with length limits matching the models."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.data.base import (
    DISCORD_HELP,
    MAX_PAGE_LIMIT,
    PHONE_IN_HELP,
    PHONE_OUT_HELP,
    SOURCE_HELP,
    WIRE_SOURCES,
    DefaultAddressIdField,
    WireSourceField,
)
from customers.models import Source
from tenants.api.compiled import BlankAsNullCharField, CompiledSerializer, row_columns
from tenants.selectors import member_user_get

NOT_A_MEMBER = "The user does not exist or is not a member of this tenant."
NOTES_MAX = 10000
USER_ID_HELP = (
    "The platform user's id (`GET /api/auth/me` → `id`), as a string of digits. The user must "
    "be an active member of the tenant."
)


# --- output -----------------------------------------------------------------------------------


class DataAddressSerializer(CompiledSerializer):
    addressId = serializers.CharField(source="key")
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postalCode = serializers.CharField(source="postal_code")
    country = serializers.CharField()
    phone = serializers.CharField(help_text=PHONE_OUT_HELP)


class DataCustomerSerializer(CompiledSerializer):
    """The full customer record. Give it customers with ``address_list`` attached
    (``customers.selectors.attach_addresses``: no query per record)."""

    # or rows of DATA_CUSTOMER_COLUMNS with their address_list (customers_keyset_page)
    id = serializers.UUIDField(source="uuid")
    discordId = BlankAsNullCharField(source="discord_id", allow_null=True, help_text=DISCORD_HELP)
    discordUsername = BlankAsNullCharField(
        source="discord_username", allow_null=True, help_text=DISCORD_HELP
    )
    discordDisplayName = BlankAsNullCharField(
        source="discord_display_name", allow_null=True, help_text=DISCORD_HELP
    )
    source = WireSourceField(choices=WIRE_SOURCES, help_text=SOURCE_HELP)
    email = serializers.CharField(help_text="Empty when unknown.")
    phone = serializers.CharField(help_text=PHONE_OUT_HELP)
    userId = serializers.CharField(source="user_id", allow_null=True, help_text=USER_ID_HELP)
    notes = serializers.CharField()
    isActive = serializers.BooleanField(source="is_active")
    addresses = DataAddressSerializer(many=True, source="address_list")
    defaultAddressId = DefaultAddressIdField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


#: what a row of the data dialect's list reads (customers.selectors.customers_keyset_page)
DATA_CUSTOMER_COLUMNS = row_columns(DataCustomerSerializer)


# --- input ------------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "description": USER_ID_HELP})
class MemberUserField(serializers.Field):
    """``userId`` -> the user, who must be an active member of the request's tenant."""

    default_error_messages = {"not_member": NOT_A_MEMBER}

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) > 64:
            self.fail("not_member")
        user = member_user_get(tenant=self.context["tenant"], user_id=data)
        if user is None:
            self.fail("not_member")
        return user

    def to_representation(self, value):  # pragma: no cover - input only
        return str(value.pk)


class DataCustomerCreateSerializer(serializers.Serializer):
    discordId = serializers.CharField(max_length=64, help_text="Customer's Discord user ID")
    discordUsername = serializers.CharField(max_length=100)
    discordDisplayName = serializers.CharField(
        max_length=100, help_text="Also becomes the name of a new customer."
    )
    source = serializers.ChoiceField(choices=WIRE_SOURCES, default=Source.DISCORD)
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True, help_text=PHONE_IN_HELP
    )
    userId = MemberUserField(required=False, allow_null=True)

    def to_model(self) -> dict:
        data = self.validated_data
        fields = {
            "discord_username": data["discordUsername"],
            "discord_display_name": data["discordDisplayName"],
            "name": data["discordDisplayName"],
            "source": data["source"],
            "email": data.get("email") or "",
            "phone": data.get("phone") or "",
        }
        if data.get("userId") is not None:
            fields["user"] = data["userId"]
        return fields


class DataCustomerUpdateSerializer(serializers.Serializer):
    discordUsername = serializers.CharField(max_length=100, required=False)
    discordDisplayName = serializers.CharField(max_length=100, required=False)
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, allow_null=True
    )
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, allow_null=True, help_text=PHONE_IN_HELP
    )
    notes = serializers.CharField(
        max_length=NOTES_MAX, required=False, allow_blank=True, allow_null=True
    )
    userId = MemberUserField(
        required=False, allow_null=True, help_text=USER_ID_HELP + " `null` unlinks the user."
    )
    isActive = serializers.BooleanField(
        required=False,
        help_text="Extension: `true` reactivates a deactivated customer, `false` deactivates.",
    )

    _MODEL = {
        "discordUsername": "discord_username",
        "discordDisplayName": "discord_display_name",
        "email": "email",
        "phone": "phone",
        "notes": "notes",
        "userId": "user",
        "isActive": "is_active",
    }
    _BLANK_WHEN_NULL = frozenset({"email", "phone", "notes"})

    def to_model(self) -> dict:
        out = {}
        for name, value in self.validated_data.items():
            if value is None and name in self._BLANK_WHEN_NULL:
                value = ""
            out[self._MODEL[name]] = value
        return out


class DataAddressCreateSerializer(serializers.Serializer):
    addressId = serializers.CharField(
        max_length=64, help_text="Unique identifier for the address within the customer."
    )
    name = serializers.CharField(max_length=255, help_text="Recipient name")
    line1 = serializers.CharField(max_length=255)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=255)
    state = serializers.CharField(max_length=255)
    postalCode = serializers.CharField(max_length=20)
    country = serializers.CharField(min_length=2, max_length=255, help_text="Country code")
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text=PHONE_IN_HELP
    )

    def to_model(self) -> dict:
        data = dict(self.validated_data)
        fields = {
            "name": data["name"],
            "line1": data["line1"],
            "line2": data.get("line2", ""),
            "city": data["city"],
            "state": data["state"],
            "postal_code": data["postalCode"],
            "country": data["country"],
            "phone": data.get("phone", ""),
        }
        return {"key": data["addressId"], **fields}


class DataDefaultAddressSerializer(serializers.Serializer):
    addressId = serializers.CharField(
        max_length=64,
        allow_null=True,
        help_text="One of the customer's `addressId`s; `null` clears the default (extension).",
    )


class DataLinkSerializer(serializers.Serializer):
    userId = serializers.CharField(max_length=64, help_text=USER_ID_HELP)


class DataListQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_LIMIT, required=False)
    cursor = serializers.CharField(max_length=200, required=False)
