"""The b2b dialect's wire format (snake_case), input validation and output shapes.

Output serializers take prepared objects (see ``customer_view``/``order_view`` in views) and
document exactly what is rendered; input serializers validate lengths, formats and ranges
before the services apply the domain rules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from b2b.api.base import (
    CurrencyField,
    MoneyField,
    PageQuerySerializer,
    PercentField,
    PhoneField,
    cents,
)
from b2b.models import ADDRESS_PARTS, ORDER_TRANSITIONS, PAYMENT_TERM_DAYS, Account
from b2b.selectors import B2B_CUSTOMER_ROW, account_of, billing_prefix
from customers.models import DISPLAY_NAME_FIELDS, display_name
from tenants.api.dialect import iso_timestamp
from tenants.phones import phone_dashed

PAYMENT_TERMS = list(PAYMENT_TERM_DAYS)
ORDER_STATUSES = list(ORDER_TRANSITIONS)

# --- addresses ----------------------------------------------------------------------------

ADDRESS_LENGTHS = {
    "line1": 255,
    "line2": 255,
    "city": 255,
    "state": 255,
    "postal_code": 20,
    "country": 255,
}


class B2BAddressSerializer(serializers.Serializer):
    """An address. Output lists only the parts that are set; input changes only the parts
    sent (send "" to clear one)."""

    line1 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=255, required=False, allow_blank=True)
    state = serializers.CharField(max_length=255, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def to_representation(self, instance):
        return address_output(instance)


def address_output(address) -> dict:
    """An address (a dict of its parts or an Address) as output: the parts that are set."""
    if isinstance(address, dict):
        return {p: address[p] for p in ADDRESS_PARTS if address.get(p)}
    return {p: getattr(address, p) for p in ADDRESS_PARTS if getattr(address, p, "")}


# --- contacts -----------------------------------------------------------------------------


class B2BContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = PhoneField(max_length=32, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(
        required=False, help_text="Making a contact primary demotes the previous primary."
    )


class B2BContactSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    title = serializers.CharField()
    email = serializers.CharField()
    phone = PhoneField()
    is_primary = serializers.BooleanField()


class B2BContactDetailSerializer(B2BContactSerializer):
    customer_id = serializers.UUIDField(source="customer.uuid")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


# --- customers ----------------------------------------------------------------------------


class B2BCustomerInputSerializer(serializers.Serializer):
    """A customer (POST: ``name`` required; PUT: only the fields sent change)."""

    name = serializers.CharField(max_length=255)
    email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, help_text="Unique in the tenant."
    )
    phone = PhoneField(max_length=32, required=False, allow_blank=True)
    fax = serializers.CharField(max_length=32, required=False, allow_blank=True)
    website = serializers.URLField(max_length=255, required=False, allow_blank=True)
    tax_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    billing_address = B2BAddressSerializer(required=False, allow_null=True)
    shipping_address = B2BAddressSerializer(required=False, allow_null=True)
    payment_terms = serializers.ChoiceField(choices=PAYMENT_TERMS, required=False)
    currency = CurrencyField(required=False)
    credit_limit = MoneyField(required=False, min_value=0)
    discount_rate = PercentField(required=False)
    preferred_shipping = serializers.CharField(max_length=64, required=False, allow_blank=True)
    customer_since = serializers.DateTimeField(required=False)
    price_list_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="An active price list of the tenant."
    )
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    contacts = B2BContactInputSerializer(
        many=True, required=False, max_length=50, help_text="POST only; at most one primary."
    )


class B2BCustomerUpdateSerializer(B2BCustomerInputSerializer):
    """PUT: only the fields sent change (contacts have their own endpoints)."""

    contacts = None


FIGURES = ("b2b_current_balance", "b2b_lifetime_value", "b2b_total_orders")


def customer_row(customer) -> dict:
    """A Customer (with its account and addresses, and its figures when attached) as a row
    of ``b2b.selectors.B2B_CUSTOMER_ROW``: what ``values()`` reads for it."""
    account = account_of(customer)
    objects = {
        "": customer,
        "account__": account,
        "account__billing_address__": account.billing_address if account else None,
        "account__shipping_address__": account.shipping_address if account else None,
        "default_address__": customer.default_address,
    }
    row = {}
    for name in B2B_CUSTOMER_ROW:
        prefix, _, field = name.rpartition("__")
        obj = objects[f"{prefix}__" if prefix else ""]
        row[name] = None if obj is None else getattr(obj, field)
    for name in FIGURES:
        if hasattr(customer, name):
            row[name] = getattr(customer, name)
    return row


def _address(row: dict, prefix: str | None) -> dict | None:
    return None if prefix is None else {part: row[prefix + part] for part in ADDRESS_PARTS}


def row_view(row: dict, contacts=None) -> SimpleNamespace:
    """The b2b record of a row of ``b2b.selectors.B2B_CUSTOMER_ROW`` (with its figures when
    attached): its account fields, or the defaults without one; addresses as dicts of
    their parts, or None."""
    has_account = row["account__customer_id"] is not None
    account_updated = row["account__updated_at"]
    updated_at = row["updated_at"]
    if has_account and account_updated:
        updated_at = max(updated_at, account_updated)

    def term(field):  # an account's field, or its default for a customer without one
        return row[f"account__{field}"] if has_account else Account.default_of(field)

    return SimpleNamespace(
        id=row["uuid"],
        # a customer created by another dialect may only have first/last names
        name=display_name(*(row[field] for field in DISPLAY_NAME_FIELDS)),
        email=row["email"],
        phone=row["phone"],
        fax=term("fax"),
        website=term("website"),
        tax_id=term("tax_id"),
        billing_address=_address(row, billing_prefix(row)),
        shipping_address=_address(
            row,
            "account__shipping_address__" if row["account__shipping_address_id"] else None,
        ),
        contacts=[] if contacts is None else contacts,
        payment_terms=term("payment_terms"),
        currency=term("currency"),
        credit_limit=term("credit_limit"),
        current_balance=row.get("b2b_current_balance", 0),
        discount_rate=term("discount_rate"),
        preferred_shipping=term("preferred_shipping"),
        price_list_id=row["account__price_list_id"],
        customer_since=row["account__customer_since"] or row["created_at"],
        lifetime_value=row.get("b2b_lifetime_value", 0),
        total_orders=row.get("b2b_total_orders", 0),
        is_active=row["is_active"],
        notes=row["notes"],
        created_at=row["created_at"],
        updated_at=updated_at,
    )


def account_view(customer) -> SimpleNamespace:
    """The b2b record of a customer (with its ``contact_list`` when read): ``row_view`` of
    its ``customer_row``, so a Customer and a list's row render alike."""
    return row_view(customer_row(customer), getattr(customer, "contact_list", []))


class B2BCustomerSummarySerializer(serializers.Serializer):
    """A customer in a list: every field of the record except ``contacts``."""

    id = serializers.UUIDField()
    name = serializers.CharField(
        help_text="A customer created elsewhere with only first/last names shows its display name."
    )
    email = serializers.CharField()
    phone = PhoneField()
    fax = serializers.CharField()
    website = serializers.CharField()
    tax_id = serializers.CharField()
    billing_address = B2BAddressSerializer(allow_null=True)
    shipping_address = B2BAddressSerializer(allow_null=True)
    payment_terms = serializers.ChoiceField(choices=PAYMENT_TERMS)
    currency = CurrencyField()
    credit_limit = MoneyField()
    current_balance = MoneyField(help_text="Total of counted orders not yet paid.")
    discount_rate = PercentField()
    preferred_shipping = serializers.CharField()
    price_list_id = serializers.UUIDField(allow_null=True)
    customer_since = serializers.DateTimeField()
    lifetime_value = MoneyField(help_text="Total of counted (not draft/cancelled) orders.")
    total_orders = serializers.IntegerField(help_text="Number of counted orders.")
    is_active = serializers.BooleanField()
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, instance):
        # Hand-written for speed (a page renders up to 100 of these): exactly what the
        # declared fields above render (tests compare both). ``instance`` is a Customer
        # (b2b.selectors.b2b_customer_get) or a row of b2b.selectors.b2b_customer_rows.
        view = row_view(instance) if isinstance(instance, dict) else account_view(instance)
        return self.render(view)

    def render(self, v: SimpleNamespace) -> dict:
        address = address_output  # B2BAddressSerializer's output, without building fields
        return {
            "id": str(v.id),
            "name": v.name,
            "email": v.email,
            "phone": phone_dashed(v.phone),
            "fax": v.fax,
            "website": v.website,
            "tax_id": v.tax_id,
            "billing_address": None if v.billing_address is None else address(v.billing_address),
            "shipping_address": None if v.shipping_address is None else address(v.shipping_address),
            "payment_terms": v.payment_terms,
            "currency": v.currency,
            "credit_limit": cents(v.credit_limit),
            "current_balance": cents(v.current_balance),
            "discount_rate": cents(v.discount_rate),
            "preferred_shipping": v.preferred_shipping,
            "price_list_id": None if v.price_list_id is None else str(v.price_list_id),
            "customer_since": iso_timestamp(v.customer_since),
            "lifetime_value": cents(v.lifetime_value),
            "total_orders": v.total_orders,
            "is_active": v.is_active,
            "notes": v.notes,
            "created_at": iso_timestamp(v.created_at),
            "updated_at": iso_timestamp(v.updated_at),
        }


class B2BCustomerSerializer(B2BCustomerSummarySerializer):
    """The full record of a customer, with its contacts (primary first)."""

    contacts = B2BContactSerializer(many=True)

    def render(self, v: SimpleNamespace) -> dict:
        out = super().render(v)
        out["contacts"] = [
            {
                "id": str(c.id),
                "name": c.name,
                "title": c.title,
                "email": c.email,
                "phone": phone_dashed(c.phone),
                "is_primary": c.is_primary,
            }
            for c in v.contacts
        ]
        return out


class B2BCustomerListQuerySerializer(PageQuerySerializer):
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    search = serializers.CharField(
        required=False, max_length=255, allow_blank=True, help_text="Name or email contains."
    )


# --- orders -------------------------------------------------------------------------------


class B2BOrderLineInputSerializer(serializers.Serializer):
    product_id = serializers.UUIDField(required=False, help_text="Either product_id or sku.")
    sku = serializers.CharField(max_length=64, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = MoneyField(
        required=False,
        min_value=0,
        help_text="Default: the account's price list price (else the product's base price), "
        "less the account's discount_rate percent, rounded half-up to cents.",
    )

    def validate(self, attrs):
        if ("product_id" in attrs) == ("sku" in attrs):
            raise serializers.ValidationError("Give either product_id or sku.")
        return attrs


class B2BOrderInputSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    order_date = serializers.DateTimeField(required=False, help_text="Default: now.")
    status = serializers.ChoiceField(
        choices=ORDER_STATUSES, required=False, default="confirmed", help_text="Default confirmed."
    )
    shipping_address = B2BAddressSerializer(
        required=False, allow_null=True, help_text="Default: the customer's shipping address."
    )
    ship_date = serializers.DateTimeField(required=False, allow_null=True)
    delivery_date = serializers.DateTimeField(required=False, allow_null=True)
    paid_at = serializers.DateTimeField(required=False, allow_null=True)
    lines = B2BOrderLineInputSerializer(many=True, min_length=1, max_length=500)


class B2BOrderUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=ORDER_STATUSES,
        required=False,
        help_text="draft->confirmed->shipped->delivered; any but delivered -> cancelled.",
    )
    ship_date = serializers.DateTimeField(required=False, allow_null=True)
    delivery_date = serializers.DateTimeField(required=False, allow_null=True)
    paid_at = serializers.DateTimeField(required=False, allow_null=True)


class B2BOrderLineSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    product_id = serializers.UUIDField()
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    line_total = MoneyField()


class B2BOrderSummarySerializer(serializers.Serializer):
    """An order in a list (without its lines)."""

    id = serializers.UUIDField()
    order_number = serializers.CharField()
    customer_id = serializers.UUIDField(source="customer.uuid")
    status = serializers.ChoiceField(choices=ORDER_STATUSES)
    order_date = serializers.DateTimeField()
    ship_date = serializers.DateTimeField(allow_null=True)
    delivery_date = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    currency = CurrencyField()
    total_amount = MoneyField()
    items_count = serializers.IntegerField(help_text="Units ordered (sum of line quantities).")
    shipping_address = B2BAddressSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class B2BOrderSerializer(B2BOrderSummarySerializer):
    lines = B2BOrderLineSerializer(many=True, source="lines.all")


#: what ``date_from``/``date_to`` take: a date, or a date-time (time zone optional: UTC)
DATE_BOUND_PATTERN = (
    r"^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}([.,]\d{1,6})?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?)?\s*$"
)


@extend_schema_field(
    {
        "type": "string",
        "pattern": DATE_BOUND_PATTERN,
        "maxLength": 64,
        "examples": ["2024-01-15", "2024-01-15T00:00:00Z"],
    }
)
class DateBoundField(serializers.CharField):
    """A date (YYYY-MM-DD) or an ISO 8601 date-time, as an aware datetime: a date-time
    without a time zone is UTC; a date is its midnight, or the next day's for an ``end``
    bound (the whole day is included)."""

    def __init__(self, *, end: bool = False, **kwargs):
        kwargs.setdefault("max_length", 64)
        self.end = end
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        value = super().run_validation(data)  # the text, its length checked
        if value is None:
            return None
        value = value.strip()
        try:
            if len(value) == 10:
                day = date.fromisoformat(value)
                if self.end:
                    day += timedelta(days=1)
                return datetime.combine(day, time.min, tzinfo=UTC)
            moment = parse_datetime(value)
        except (ValueError, OverflowError):
            moment = None
        if moment is None:
            raise serializers.ValidationError(
                "Must be a date (YYYY-MM-DD) or an ISO 8601 date-time."
            )
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=UTC)
        return moment


class B2BOrderListQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=ORDER_STATUSES, required=False)
    date_from = DateBoundField(
        required=False, help_text="A date (inclusive) or an ISO 8601 date-time (inclusive)."
    )
    date_to = DateBoundField(
        end=True,
        required=False,
        help_text="A date (inclusive: the whole day) or an ISO 8601 date-time (exclusive).",
    )

    def validate(self, attrs):
        date_from, date_to = attrs.get("date_from"), attrs.get("date_to")
        if date_from and date_to and date_from >= date_to:
            raise serializers.ValidationError({"date_to": ["Must be after date_from."]})
        return attrs


# --- analytics and credit checks ----------------------------------------------------------

RISK_LEVELS = ["low", "medium", "high"]


# one schema shape for risk_score and risk_assessment, kept inline (not an enum component
# named twice)
@extend_schema_field({"anyOf": [{"type": "string", "enum": RISK_LEVELS}]})
class RiskLevelField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=RISK_LEVELS, **kwargs)


class B2BAnalyticsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=["30d", "90d", "1y", "all"], default="all")


class B2BCustomerRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class B2BAnalyticsOverviewSerializer(serializers.Serializer):
    lifetime_value = MoneyField()
    total_orders = serializers.IntegerField()
    avg_order_value = MoneyField()
    last_order_date = serializers.DateTimeField(allow_null=True)
    customer_since = serializers.DateTimeField()
    days_since_last_order = serializers.IntegerField(allow_null=True)


class B2BFinancialSummarySerializer(serializers.Serializer):
    total_revenue = MoneyField(help_text="Counted orders in the period.")
    current_balance = MoneyField()
    credit_limit = MoneyField()
    credit_utilization = MoneyField(
        allow_null=True, help_text="current_balance / credit_limit in percent; null without."
    )
    avg_payment_days = serializers.IntegerField(
        allow_null=True, help_text="Order date to paid_at, orders of the period; null if none."
    )


class B2BMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM (UTC)")
    orders = serializers.IntegerField()
    revenue = MoneyField()
    avg_order_value = MoneyField()


class B2BTopProductSerializer(serializers.Serializer):
    product_id = serializers.UUIDField()
    product_name = serializers.CharField()
    quantity_ordered = serializers.IntegerField()
    revenue = MoneyField()


class B2BAnalyticsSerializer(serializers.Serializer):
    customer = B2BCustomerRefSerializer()
    period = serializers.ChoiceField(choices=["30d", "90d", "1y", "all"])
    overview = B2BAnalyticsOverviewSerializer()
    financial_summary = B2BFinancialSummarySerializer()
    order_history = B2BMonthSerializer(many=True)
    top_products = B2BTopProductSerializer(many=True)
    customer_segment = serializers.ChoiceField(
        choices=["high_value", "mid_value", "low_value", "new", "at_risk", "inactive"]
    )
    risk_score = RiskLevelField()

    def to_representation(self, data) -> dict:
        # Hand-written for speed (DRF's field machinery cost more than the figures): exactly
        # what the declared fields above render (b2b.analytics gives money in cents already;
        # tests compare both).
        overview, summary = data["overview"], data["financial_summary"]
        return {
            "customer": {"id": str(data["customer"]["id"]), "name": data["customer"]["name"]},
            "period": data["period"],
            "overview": {
                "lifetime_value": cents(overview["lifetime_value"]),
                "total_orders": overview["total_orders"],
                "avg_order_value": cents(overview["avg_order_value"]),
                "last_order_date": iso_timestamp(overview["last_order_date"]),
                "customer_since": iso_timestamp(overview["customer_since"]),
                "days_since_last_order": overview["days_since_last_order"],
            },
            "financial_summary": {
                "total_revenue": cents(summary["total_revenue"]),
                "current_balance": cents(summary["current_balance"]),
                "credit_limit": cents(summary["credit_limit"]),
                "credit_utilization": cents(summary["credit_utilization"]),
                "avg_payment_days": summary["avg_payment_days"],
            },
            "order_history": [
                {
                    "month": row["month"],
                    "orders": row["orders"],
                    "revenue": cents(row["revenue"]),
                    "avg_order_value": cents(row["avg_order_value"]),
                }
                for row in data["order_history"]
            ],
            "top_products": [
                {
                    "product_id": str(row["product_id"]),
                    "product_name": row["product_name"],
                    "quantity_ordered": row["quantity_ordered"],
                    "revenue": cents(row["revenue"]),
                }
                for row in data["top_products"]
            ],
            "customer_segment": data["customer_segment"],
            "risk_score": data["risk_score"],
        }


class B2BCreditFactorSerializer(serializers.Serializer):
    factor = serializers.ChoiceField(
        choices=[
            "payment_punctuality",
            "overdue_balance",
            "credit_utilization",
            "tenure",
            "order_volume",
        ]
    )
    impact = serializers.IntegerField(help_text="Points added to (or removed from) the score.")
    description = serializers.CharField()


class B2BCreditCheckSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    customer_id = serializers.UUIDField(source="customer.uuid")
    credit_score = serializers.IntegerField(min_value=300, max_value=850)
    credit_rating = serializers.ChoiceField(
        choices=["excellent", "good", "fair", "poor", "very_poor"]
    )
    recommended_credit_limit = MoneyField()
    current_credit_limit = MoneyField()
    risk_assessment = RiskLevelField()
    last_checked = serializers.DateTimeField(source="checked_at")
    factors = B2BCreditFactorSerializer(many=True)
