from django.conf import settings
from django.db import models
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Coalesce, Concat, Lower, LTrim, NullIf

from tenants.history import tracked
from tenants.ids import uuid7
from tenants.models import TenantOwnedModel, TimeStampedModel


class Source(models.TextChoices):
    DISCORD = "DISCORD", "Discord"
    EMAIL = "EMAIL", "Email"
    MANUAL = "MANUAL", "Manual"
    STORE = "STORE", "Store"
    USER = "USER", "User"
    API = "API", "API"


class ClientType(TenantOwnedModel):
    """A tenant's tag for customers (the peppered dialect's "client types")."""

    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="clienttype_unique_name"),
        ]

    def __str__(self):
        return self.name


#: the fields a customer's shown name is made of, in ``display_name``'s order
DISPLAY_NAME_FIELDS = (
    "name",
    "local_name",
    "first_name",
    "preposition",
    "last_name",
    "discord_display_name",
    "discord_username",
    "email",
)


def display_name(
    name,
    local_name,
    first_name,
    preposition,
    last_name,
    discord_display_name,
    discord_username,
    email,
) -> str:
    """The best name a customer has (``Customer.display_name``; also for rows read with
    ``values()``): its name, local name, full name, Discord names, or email."""
    full = " ".join(p for p in (first_name, preposition, last_name) if p)
    return name or local_name or full or discord_display_name or discord_username or email


def display_name_sql(path: str = ""):
    """``display_name`` as a SQL expression over the customer at ``path`` (e.g.
    ``"customer__"`` from a store link), for sorting by the name shown; the same rule, kept
    beside it (tests/test_store_api.py compares them)."""
    blank = Value("")

    def then_spaced(field):  # " " + field, or nothing for a blank field
        return Case(
            When(**{path + field: ""}, then=blank), default=Concat(Value(" "), path + field)
        )

    full_name = LTrim(
        Concat(
            path + "first_name",
            then_spaced("preposition"),
            then_spaced("last_name"),
            output_field=CharField(),
        )
    )
    return Coalesce(
        NullIf(path + "name", blank),
        NullIf(path + "local_name", blank),
        NullIf(full_name, blank),
        NullIf(path + "discord_display_name", blank),
        NullIf(path + "discord_username", blank),
        path + "email",
        output_field=CharField(),
    )


#: the customers the dialects, lists and exports show: neither merged away nor erased
LIVE = Q(merged_into__isnull=True, erased_at__isnull=True)


class Customer(TenantOwnedModel):
    """One person or company of one tenant; every dialect reads and writes this record.

    The integer ``id`` is the peppered dialect's ``customerId``; ``uuid`` (time-ordered) is
    the ``id`` of every other dialect.

    Database triggers on this table (docs/decisions/kept-counts-and-copies.md):
    ``hub_count_customers`` keeps the tenant's customer counts (customers/migrations/0003,
    PostgreSQL), ``hub_customer_names_to_links`` copies the names onto the store links
    (stores/migrations/0004, both databases).
    """

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid7, unique=True, editable=False)
    name = models.CharField(max_length=255, blank=True, default="")
    local_name = models.CharField(max_length=255, blank=True, default="")
    first_name = models.CharField(max_length=255, blank=True, default="")
    last_name = models.CharField(max_length=255, blank=True, default="")
    salutation = models.CharField(max_length=16, blank=True, default="")
    preposition = models.CharField(max_length=255, blank=True, default="")
    email = models.EmailField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")
    discord_id = models.CharField(max_length=64, blank=True, default="")
    discord_username = models.CharField(max_length=100, blank=True, default="")
    discord_display_name = models.CharField(max_length=100, blank=True, default="")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    notes = models.TextField(blank=True, default="")
    external_id = models.CharField(max_length=255, blank=True, default="")
    credit = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    default_address = models.ForeignKey(
        "customers.Address",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tags = models.ManyToManyField(ClientType, blank=True, related_name="customers")
    is_active = models.BooleanField(default=True)
    # A merged-away customer is a tombstone that resolves to its survivor in every dialect
    # (issue 20); it keeps its own columns, so that an unmerge can put it back as it was.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        editable=False,
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    # An erased customer (issue 22) keeps its row, without anything personal, as a tombstone
    # that every dialect answers as missing.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        # The columns of a live customer are unique in its tenant; a tombstone's are not (its
        # identifiers now belong to its survivor, which may show the same value).
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "discord_id"],
                condition=~Q(discord_id="") & Q(merged_into__isnull=True),
                name="customer_unique_discord_id",
            ),
            models.UniqueConstraint(
                Lower("email"),
                F("tenant"),
                condition=~Q(email="") & Q(merged_into__isnull=True),
                name="customer_unique_email_ci",
            ),
            models.UniqueConstraint(
                fields=["tenant", "user"],
                condition=Q(user__isnull=False) & Q(merged_into__isnull=True),
                name="customer_unique_user",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")),
                name="customer_not_merged_into_itself",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["DISCORD", "EMAIL", "MANUAL", "STORE", "USER", "API"]),
                name="customer_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(credit__gte=-100_000_000) & Q(credit__lte=100_000_000),
                name="customer_credit_range",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="customer_tenant_created"),
            models.Index(fields=["tenant", "updated_at", "id"], name="customer_tenant_updated"),
            models.Index(fields=["tenant", "id"], name="customer_tenant_id"),
            models.Index(fields=["tenant", "name"], name="customer_tenant_name"),
        ]

    def __str__(self):
        return self.display_name or f"Customer {self.pk}"

    @property
    def display_name(self) -> str:
        return display_name(*(getattr(self, field) for field in DISPLAY_NAME_FIELDS))


class Address(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    key = models.CharField(max_length=64, help_text="The client-supplied addressId.")
    name = models.CharField(max_length=255, blank=True, default="")
    line1 = models.CharField(max_length=255, blank=True, default="")
    line2 = models.CharField(max_length=255, blank=True, default="")
    house_number = models.CharField(max_length=20, blank=True, default="")
    city = models.CharField(max_length=255, blank=True, default="")
    state = models.CharField(max_length=255, blank=True, default="")
    postal_code = models.CharField(max_length=20, blank=True, default="")
    country = models.CharField(max_length=255, blank=True, default="")
    phone = models.CharField(max_length=32, blank=True, default="")

    history = tracked(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(fields=["customer", "key"], name="address_unique_key"),
        ]

    def __str__(self):
        parts = [self.line1, self.house_number, self.postal_code, self.city, self.country]
        return ", ".join(p for p in parts if p) or self.key


class IdentifierKind(models.TextChoices):
    EMAIL = "email", "Email"
    DISCORD = "discord", "Discord id"
    USER = "user", "Platform user"
    EXTERNAL = "external", "External id"
    PHONE = "phone", "Phone"


class Identifier(TenantOwnedModel):
    """The identity graph: one normalized value of one kind names one customer of a tenant.

    A customer may have several of each kind (after a merge, or a second email); the
    customer's own column of that kind shows its primary one. Lookups (find-or-create, find
    by email) and uniqueness go through this table (customers/identity.py).

    ``value`` is normalized: an email case-folded, a phone in E.164, a user its primary key,
    a Discord or external id as given (trimmed).
    """

    # no single-column indexes: (tenant, kind, value) and (customer, kind) lead with them, and
    # every find-or-create inserts a row here (docs/performance.md, identity)
    tenant = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="identifiers", db_index=False
    )
    kind = models.CharField(max_length=16, choices=IdentifierKind.choices)
    value = models.CharField(max_length=255)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "value"], name="identifier_unique_value"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["email", "discord", "user", "external", "phone"]),
                name="identifier_kind_valid",
            ),
            models.CheckConstraint(condition=~Q(value=""), name="identifier_value_not_blank"),
        ]
        indexes = [models.Index(fields=["customer", "kind"], name="identifier_customer_kind")]

    def __str__(self):
        return f"{self.kind}:{self.value}"


# --- privacy (issue 22; customers/privacy.py, docs/privacy.md) ---------------------------------


class CustomerExport(models.Model):
    """One export of one customer's data: who asked, when, and how it went; never the data.

    A bundle built by the worker (a large customer) waits in ``bundle`` until its first
    download or ``expires_at``, whichever comes first; then it is deleted and only this
    record stays. ``customer_pk``/``customer_uuid`` are plain columns: the record outlives
    an erasure of its customer."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        READY = "ready", "Ready to download"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    customer_pk = models.BigIntegerField()
    customer_uuid = models.UUIDField()
    actor = models.JSONField(default=dict, blank=True, help_text="Who asked (tenants.events).")
    via = models.CharField(max_length=16, help_text="api, admin or command.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0, help_text="Rows the bundle describes.")
    size = models.PositiveIntegerField(default=0, help_text="Bytes of the zip.")
    bundle = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "ready", "delivered", "failed", "expired"]),
                name="customerexport_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(bundle__isnull=True) | Q(status="ready"),
                name="customerexport_bundle_only_when_ready",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "customer_uuid"], name="customerexport_customer"),
            models.Index(fields=["expires_at"], name="customerexport_expires"),
        ]

    def __str__(self):
        return f"Export of customer {self.customer_pk} ({self.status})"


class ErasureReceipt(models.Model):
    """Proof that a customer was erased: who, which customer (ids only), when, and how many
    rows of each kind were erased. No personal data (docs/privacy.md)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    customer_pk = models.BigIntegerField()
    customer_uuid = models.UUIDField()
    actor = models.JSONField(default=dict, blank=True, help_text="Who erased (tenants.events).")
    erased_at = models.DateTimeField()
    include_user = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-erased_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer_pk"], name="erasurereceipt_one_per_customer"
            ),
        ]

    def __str__(self):
        return f"Erasure of customer {self.customer_pk}"


class Merge(TenantOwnedModel):
    """One merge of ``merged`` into ``survivor`` (issue 20): who, when, the field choices,
    and in ``record`` everything it moved and every value it overwrote, so that
    ``customers.merging.merge_undo`` can put both records back. The merged record is never
    deleted: it stays as a tombstone (``merged_into``) until the merge is undone."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_away")
    #: who merged: tenants.events.current_actor() (a user, an API key by its name, the system)
    actor = models.JSONField(default=dict)
    merged_at = models.DateTimeField()
    #: the per-field choices asked for ({"field": "survivor"|"merged"})
    fields = models.JSONField(default=dict, blank=True)
    record = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.JSONField(null=True, blank=True)
    #: what the undo could not restore cleanly (each a sentence), never dropped silently
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [
            # a customer is merged away at most once at a time: two merges of it at once
            # cannot both commit
            models.UniqueConstraint(
                fields=["merged"],
                condition=Q(undone_at__isnull=True),
                name="merge_one_open_per_merged",
            ),
            models.CheckConstraint(
                condition=~Q(survivor=F("merged")), name="merge_not_with_itself"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "id"], name="merge_tenant_id")]

    def __str__(self):
        return f"Merge {self.id}"


class DuplicateStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    MERGED = "merged", "Merged"


class DuplicatePair(TenantOwnedModel):
    """Two customers of a tenant that may be one person: the review queue
    (customers/duplicates.py, docs/duplicates.md).

    The pair is ordered (``customer_a`` has the lower primary key), so each pair has one row
    per tenant whichever side found it. A dismissed pair is never opened again: the finder
    records only the pairs that have no row yet, or refreshes the score of an open one.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    customer_a = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", editable=False
    )
    customer_b = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", editable=False
    )
    score = models.PositiveSmallIntegerField(editable=False)
    reasons = models.JSONField(default=list, editable=False)
    status = models.CharField(
        max_length=16,
        choices=DuplicateStatus.choices,
        default=DuplicateStatus.OPEN,
        editable=False,
    )
    found_at = models.DateTimeField(editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = "possible duplicate"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "customer_a", "customer_b"], name="duplicatepair_unique"
            ),
            models.CheckConstraint(
                condition=Q(customer_a__lt=F("customer_b")), name="duplicatepair_ordered"
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="duplicatepair_score_range"),
            models.CheckConstraint(
                condition=Q(status__in=["open", "dismissed", "merged"]),
                name="duplicatepair_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-score", "id"], name="duplicatepair_queue"),
        ]

    def __str__(self):
        return f"{self.customer_a} ~ {self.customer_b} ({self.score})"


class DuplicateScan(models.Model):
    """Where ``manage.py find_duplicates`` is in a tenant's customers: the last primary key
    it has done, so that ``--resume`` continues after it (customers/duplicates.py)."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_customer_id = models.BigIntegerField(default=0)
    customers_done = models.BigIntegerField(default=0)
    pairs_recorded = models.BigIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"duplicate scan of {self.tenant_id}"
