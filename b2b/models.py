from django.db import models
from django.db.models import Q

from tenants.history import tracked
from tenants.ids import uuid7
from tenants.models import TenantOwnedModel, TimeStampedModel


class PaymentTerms(models.TextChoices):
    DUE_ON_RECEIPT = "due_on_receipt", "Due on receipt"
    NET_7 = "net_7", "Net 7"
    NET_15 = "net_15", "Net 15"
    NET_30 = "net_30", "Net 30"
    NET_45 = "net_45", "Net 45"
    NET_60 = "net_60", "Net 60"
    NET_90 = "net_90", "Net 90"


#: the parts of an address the b2b dialect reads and writes (of customers.models.Address)
ADDRESS_PARTS = ("line1", "line2", "city", "state", "postal_code", "country")
#: the fields of an account the b2b dialect reads and writes
ACCOUNT_FIELDS = frozenset(
    {
        "website",
        "fax",
        "tax_id",
        "payment_terms",
        "currency",
        "credit_limit",
        "discount_rate",
        "preferred_shipping",
        "customer_since",
        "price_list",
    }
)

PAYMENT_TERM_DAYS = {
    "due_on_receipt": 0,
    "net_7": 7,
    "net_15": 15,
    "net_30": 30,
    "net_45": 45,
    "net_60": 60,
    "net_90": 90,
}


class Account(TimeStampedModel):
    """The B2B side of a customer (1:1)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, primary_key=True, related_name="account"
    )
    website = models.CharField(max_length=255, blank=True, default="")
    fax = models.CharField(max_length=32, blank=True, default="")
    tax_id = models.CharField(max_length=64, blank=True, default="")
    payment_terms = models.CharField(
        max_length=16, choices=PaymentTerms.choices, default=PaymentTerms.NET_30
    )
    currency = models.CharField(max_length=3, default="USD")
    credit_limit = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    discount_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    preferred_shipping = models.CharField(max_length=64, blank=True, default="")
    customer_since = models.DateTimeField(null=True, blank=True)
    billing_address = models.ForeignKey(
        "customers.Address", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    shipping_address = models.ForeignKey(
        "customers.Address", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    price_list = models.ForeignKey(
        "pricelists.PriceList",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Prices for orders of this customer; the product's base price otherwise.",
    )

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(payment_terms__in=list(PAYMENT_TERM_DAYS)),
                name="account_payment_terms_valid",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="account_currency_iso"
            ),
            models.CheckConstraint(condition=Q(credit_limit__gte=0), name="account_credit_gte_0"),
            models.CheckConstraint(
                condition=Q(discount_rate__gte=0) & Q(discount_rate__lte=100),
                name="account_discount_0_100",
            ),
        ]

    def __str__(self):
        return f"Account of {self.customer}"

    @classmethod
    def default_of(cls, field: str):
        """A field's default: the terms of a customer without an account (one place for them),
        as a plain value (a choice's value, not its enum member)."""
        value = cls._meta.get_field(field).get_default()
        return value.value if isinstance(value, models.Choices) else value


class Contact(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    is_primary = models.BooleanField(default=False)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-is_primary", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(is_primary=True),
                name="contact_one_primary_per_customer",
            ),
        ]

    def __str__(self):
        return self.name


class OrderStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CONFIRMED = "confirmed", "Confirmed"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


ORDER_TRANSITIONS = {
    "draft": {"confirmed", "cancelled"},
    "confirmed": {"shipped", "cancelled"},
    "shipped": {"delivered", "cancelled"},
    "delivered": set(),
    "cancelled": set(),
}

#: statuses of orders that count for balances, revenue and analytics (not draft, not cancelled)
NOT_COUNTED = (OrderStatus.DRAFT, OrderStatus.CANCELLED)
COUNTED = tuple(status for status in OrderStatus if status not in NOT_COUNTED)


class OrderNumberSequence(models.Model):
    """Per-tenant, per-year counter behind unique order numbers (locked row per allocation)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "year"], name="ordersequence_unique"),
        ]

    def __str__(self):
        return f"{self.tenant_id} {self.year}: {self.last_value}"


class SalesOrder(TenantOwnedModel):
    # Database trigger on this table: ``hub_order_copies_to_lines`` copies the customer, date
    # and status onto the order's lines (b2b/migrations/0005, both databases;
    # docs/decisions/kept-counts-and-copies.md).
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,  # the indexes below lead with it
    )
    order_number = models.CharField(max_length=32)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.CONFIRMED
    )
    order_date = models.DateTimeField()
    ship_date = models.DateTimeField(null=True, blank=True)
    delivery_date = models.DateTimeField(null=True, blank=True)
    due_date = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    total_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    items_count = models.PositiveIntegerField(default=0)
    shipping_address = models.JSONField(default=dict, blank=True)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "order_number"], name="salesorder_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(status__in=list(ORDER_TRANSITIONS)), name="salesorder_status_valid"
            ),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="salesorder_total_gte_0"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="salesorder_currency_iso"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "order_date"], name="salesorder_customer_date"),
            # Covering (PostgreSQL): a customer's figures and analytics are aggregates over
            # its counted orders (and their ids, which count them and find their lines),
            # read from the index alone (docs/performance.md).
            models.Index(
                fields=["customer", "status"],
                include=["order_date", "due_date", "paid_at", "total_amount", "id"],
                name="salesorder_customer_figures",
            ),
        ]

    def __str__(self):
        return self.order_number


class OrderLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    order = models.ForeignKey(
        SalesOrder,
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,  # orderline_order, named in Meta
    )
    product = models.ForeignKey(
        "pricelists.Product",
        on_delete=models.PROTECT,
        related_name="order_lines",
        db_index=False,  # orderline_product
    )
    position = models.PositiveIntegerField(
        default=0, help_text="The line's place in the order, from 0, as the client sent it."
    )
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    line_total = models.DecimalField(max_digits=14, decimal_places=2)
    # Copies of the order's customer, date and status, kept by the database (trigger
    # ``hub_line_order_copies`` of b2b/migrations/0005): a customer's top products read its counted lines from one index
    # range, without joining every order (docs/performance.md). Null only between an insert
    # and its trigger on SQLite.
    order_customer_id = models.BigIntegerField(
        null=True, editable=False, help_text="A copy of the order's customer, kept by the database."
    )
    order_date = models.DateTimeField(
        null=True, editable=False, help_text="A copy of the order's date, kept by the database."
    )
    # text, not varchar: the partial index's predicate then reads back from PostgreSQL
    # (pg_get_indexdef) as it was made, so the generator rebuilds the very same index
    order_status = models.TextField(
        null=True, editable=False, help_text="A copy of the order's status, kept by the database."
    )

    class Meta:
        ordering = ["order", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_gte_0"),
        ]
        indexes = [
            models.Index(fields=["product"], name="orderline_product"),
            # an order's lines (and the foreign key's cascade); it carried the top products'
            # columns until orderline_customer_counted took that over
            models.Index(fields=["order"], name="orderline_order"),
            # Covering (PostgreSQL) and partial: a customer's counted lines by order date,
            # what its top products of a period add up.
            models.Index(
                fields=["order_customer_id", "order_date"],
                include=["product", "quantity", "line_total"],
                condition=Q(order_status__in=COUNTED),
                name="orderline_customer_counted",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product.name}"


class CreditCheck(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="credit_checks"
    )
    inputs = models.JSONField(default=dict)
    factors = models.JSONField(default=list)
    credit_score = models.PositiveSmallIntegerField()
    credit_rating = models.CharField(max_length=16)
    recommended_credit_limit = models.DecimalField(max_digits=14, decimal_places=2)
    current_credit_limit = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    risk_assessment = models.CharField(max_length=16)
    checked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_score__gte=300) & Q(credit_score__lte=850),
                name="creditcheck_score_300_850",
            ),
        ]
        indexes = [models.Index(fields=["customer", "checked_at"], name="creditcheck_customer")]

    def __str__(self):
        return f"{self.customer_id}: {self.credit_score} ({self.credit_rating})"
