"""The b2b dialect's wire format (snake_case), input validation and output shapes.

Output serializers take prepared objects (see ``customer_view``/``order_view`` in views) and
document exactly what is rendered; input serializers validate lengths, formats and ranges
before the services apply the domain rules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

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
)
from b2b.models import ADDRESS_PARTS, ORDER_TRANSITIONS, PAYMENT_TERM_DAYS, Account
from customers.api.fields import DisplayNameField
from tenants.api.compiled import CompiledSerializer, Computed, renders, row_columns

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


def address_output(address) -> dict:
    """An address (a dict of its parts or an Address) as output: the parts that are set."""
    if isinstance(address, dict):
        return {p: address[p] for p in ADDRESS_PARTS if address.get(p)}
    return {p: getattr(address, p) for p in ADDRESS_PARTS if getattr(address, p, "")}


@renders(address_output)
class B2BAddressSerializer(Computed, serializers.Serializer):
    """An address. Output lists only the parts that are set; input changes only the parts
    sent (send "" to clear one)."""

    # Output with ``first_of``: the first of these addresses that is linked, as
    # ``(its key, its path)`` from the customer (the billing address shown falls back to the
    # default address every dialect shows: docs/decisions/one-address.md); None without one.

    line1 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=255, required=False, allow_blank=True)
    state = serializers.CharField(max_length=255, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def __init__(self, *args, first_of: tuple[tuple[str, str], ...] = (), **kwargs):
        reads = tuple(path for key, address in first_of for path in (key, *_parts_of(address)))
        super().__init__(*args, reads=reads, **kwargs)

    def compute(self, *values):
        size = 1 + len(ADDRESS_PARTS)
        for at in range(0, len(values), size):
            if values[at] is not None:
                return dict(zip(ADDRESS_PARTS, values[at + 1 : at + size], strict=True))
        return None

    def to_representation(self, instance):
        return address_output(instance)


def _parts_of(address: str) -> tuple[str, ...]:
    return tuple(f"{address}.{part}" for part in ADDRESS_PARTS)


# --- contacts -----------------------------------------------------------------------------


class B2BContactInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    title = serializers.CharField(max_length=255, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = PhoneField(max_length=32, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(
        required=False, help_text="Making a contact primary demotes the previous primary."
    )


class B2BContactSerializer(CompiledSerializer):
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


class AccountTerm(Computed):
    """A term of the customer's account, or its default (``Account.default_of``) for a
    customer without one (mixin, before a field class)."""

    def __init__(self, term: str, **kwargs):
        self.term_default = Account.default_of(term)
        super().__init__(reads=("account.customer_id", f"account.{term}"), **kwargs)

    def compute(self, account, value):
        return self.term_default if account is None else value


class TermCharField(AccountTerm, serializers.CharField):
    pass


class TermChoiceField(AccountTerm, serializers.ChoiceField):
    pass


class TermCurrencyField(AccountTerm, CurrencyField):
    pass


class TermMoneyField(AccountTerm, MoneyField):
    pass


class TermPercentField(AccountTerm, PercentField):
    pass


class CustomerSinceField(Computed, serializers.DateTimeField):
    """The account's ``customer_since``, else when the customer was created."""

    reads = ("account.customer_since", "created_at")

    def compute(self, since, created):
        return since or created


class RecordUpdatedField(Computed, serializers.DateTimeField):
    """When the record (the customer or its account) last changed."""

    reads = ("updated_at", "account.updated_at")

    def compute(self, customer, account):
        return max(customer, account) if account else customer


class Figure(Computed):
    """A figure of the customer's counted orders, attached by
    ``b2b.selectors.attach_account_figures`` (0 when not attached): not a column."""

    columns = ()

    def __init__(self, figure: str, **kwargs):
        super().__init__(reads=(figure,), **kwargs)

    def compute(self, value):
        return 0 if value is None else value


class FigureMoneyField(Figure, MoneyField):
    pass


class FigureCountField(Figure, serializers.IntegerField):
    pass


class B2BCustomerSummarySerializer(CompiledSerializer):
    """A customer in a list: every field of the record except ``contacts``."""

    # of a Customer with its account and addresses (b2b.selectors.b2b_customer_get), or of a
    # row of B2B_CUSTOMER_COLUMNS (b2b.selectors.b2b_customers_page), with their figures
    id = serializers.UUIDField(source="uuid")
    name = DisplayNameField(
        help_text="A customer created elsewhere with only first/last names shows its display name."
    )
    email = serializers.CharField()
    phone = PhoneField()
    fax = TermCharField("fax")
    website = TermCharField("website")
    tax_id = TermCharField("tax_id")
    billing_address = B2BAddressSerializer(
        first_of=(
            ("account.billing_address_id", "account.billing_address"),
            ("default_address_id", "default_address"),
        ),
        allow_null=True,
    )
    shipping_address = B2BAddressSerializer(
        first_of=(("account.shipping_address_id", "account.shipping_address"),),
        allow_null=True,
    )
    payment_terms = TermChoiceField("payment_terms", choices=PAYMENT_TERMS)
    currency = TermCurrencyField("currency")
    credit_limit = TermMoneyField("credit_limit")
    current_balance = FigureMoneyField(
        "b2b_current_balance", help_text="Total of counted orders not yet paid."
    )
    discount_rate = TermPercentField("discount_rate")
    preferred_shipping = TermCharField("preferred_shipping")
    price_list_id = serializers.UUIDField(source="account.price_list_id", allow_null=True)
    customer_since = CustomerSinceField()
    lifetime_value = FigureMoneyField(
        "b2b_lifetime_value", help_text="Total of counted (not draft/cancelled) orders."
    )
    total_orders = FigureCountField("b2b_total_orders", help_text="Number of counted orders.")
    is_active = serializers.BooleanField()
    notes = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = RecordUpdatedField()


#: what a row of the b2b customer list reads (b2b.selectors.b2b_customers_page)
B2B_CUSTOMER_COLUMNS = row_columns(B2BCustomerSummarySerializer)


class B2BCustomerSerializer(B2BCustomerSummarySerializer):
    """The full record of a customer, with its contacts (primary first)."""

    contacts = B2BContactSerializer(many=True, source="contact_list")


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


class B2BCustomerRefSerializer(CompiledSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class B2BAnalyticsOverviewSerializer(CompiledSerializer):
    lifetime_value = MoneyField()
    total_orders = serializers.IntegerField()
    avg_order_value = MoneyField()
    last_order_date = serializers.DateTimeField(allow_null=True)
    customer_since = serializers.DateTimeField()
    days_since_last_order = serializers.IntegerField(allow_null=True)


class B2BFinancialSummarySerializer(CompiledSerializer):
    total_revenue = MoneyField(help_text="Counted orders in the period.")
    current_balance = MoneyField()
    credit_limit = MoneyField()
    credit_utilization = MoneyField(
        allow_null=True, help_text="current_balance / credit_limit in percent; null without."
    )
    avg_payment_days = serializers.IntegerField(
        allow_null=True, help_text="Order date to paid_at, orders of the period; null if none."
    )


class B2BMonthSerializer(CompiledSerializer):
    month = serializers.CharField(help_text="YYYY-MM (UTC)")
    orders = serializers.IntegerField()
    revenue = MoneyField()
    avg_order_value = MoneyField()


class B2BTopProductSerializer(CompiledSerializer):
    product_id = serializers.UUIDField()
    product_name = serializers.CharField()
    quantity_ordered = serializers.IntegerField()
    revenue = MoneyField()


class B2BAnalyticsSerializer(CompiledSerializer):
    # of the dict b2b.analytics computes (money in cents already)
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
