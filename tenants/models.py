import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from tenants.ids import uuid7

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    "Use lowercase letters, digits and hyphens (not at either end).",
)


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=False)

    class Meta:
        abstract = True


class TenantOwnedModel(TimeStampedModel):
    """A row that belongs to exactly one tenant; selectors always filter on it."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"
    VIEWER = "viewer", "Viewer"


region_validator = RegexValidator(
    r"^[A-Z]{2}$", "Use a two-letter region code in capitals, such as US or NL."
)


class Tenant(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=255)
    is_active = models.BooleanField(default=True)
    default_region = models.CharField(
        max_length=2,
        blank=True,
        default="",
        validators=[region_validator],
        help_text=(
            "Region of phone numbers written without a country code (e.g. NL: 0612345678 is "
            "+31612345678). Empty: every phone number needs its country code (tenants/phones.py)."
        ),
    )
    match_by_email = models.BooleanField(
        "match customers by email",
        default=True,
        help_text=(
            "Find-or-create (POST /api/data/customer) finds an existing customer by its email "
            "when no customer has the request's Discord id or user (docs/identity.md). Off: "
            "only a Discord id or a user finds a customer; a taken email is refused."
        ),
    )

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slug__regex=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"),
                name="tenant_slug_format",
            ),
            models.CheckConstraint(
                condition=Q(default_region__regex=r"^([A-Z]{2})?$"),
                name="tenant_default_region_format",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.slug})"


class Membership(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["tenant__slug", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "tenant"], name="membership_unique_user_tenant"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["admin", "agent", "viewer"]), name="membership_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.user} in {self.tenant.slug} as {self.role}"


def hash_secret(secret: str) -> str:
    # API keys are 256-bit random strings: a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    class KeyRole(models.TextChoices):
        AGENT = "agent", "Agent"
        VIEWER = "viewer", "Viewer"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="First characters, to recognise a key.")
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    role = models.CharField(max_length=16, choices=KeyRole.choices, default=KeyRole.AGENT)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tenant__slug", "name"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["agent", "viewer"]), name="apikey_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` of one caller (tenants/idempotency.py).

    ``scope`` is a hash of the tenant reference as sent (x-tenant-id, x-store-id or the
    path's client name), the credential, the method and the path: the same key sent by
    another credential, for another tenant or to another route is another record. A record
    is ``started`` while the first request runs and ``completed`` once its response (2xx or
    4xx) is stored; 5xx responses delete it (the key may be retried). Records expire after
    ``HUB_IDEMPOTENCY_TTL_HOURS`` (24 h) and are purged lazily and by ``purge_idempotency_keys``.
    """

    class State(models.TextChoices):
        STARTED = "started", "Started"
        COMPLETED = "completed", "Completed"

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.TextField()
    request_fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.STARTED)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)
    request_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_scope_key"),
            models.CheckConstraint(
                condition=Q(state__in=["started", "completed"]), name="idempotency_state_valid"
            ),
        ]

    def __str__(self):
        return f"{self.method} {self.path} [{self.key}] {self.state}"


class RowCount(models.Model):
    """Exact numbers of rows, kept by PostgreSQL as signed deltas (tenants/counts.py).

    Statement-level triggers on the counted tables append one row per (scope, owner) that a
    statement changed (``+n`` inserted, ``-n`` deleted); a count is the sum of its owner's
    deltas, read in the reader's own snapshot, so it is exactly ``COUNT(*)``. Writers only
    append (no hot row to lock), and now and then a trigger merges an owner's deltas into
    one (``hub_rowcount_compact``, which skips rows other transactions hold). Empty on
    SQLite, where counts are plain ``COUNT(*)``.
    """

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=32, help_text="What is counted, e.g. customers.")
    owner = models.UUIDField(help_text="Whose rows: a tenant's or a store's id.")
    delta = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["scope", "owner"], include=["delta"], name="rowcount_owner"),
        ]

    def __str__(self):
        return f"{self.scope} {self.owner} {self.delta:+d}"


class LimitCounter(models.Model):
    """A rate-limit counter or a mark (a login lock, a known address) of tenants/throttling.py
    when ``HUB_LIMITS_STORE`` is ``database``: shared by every process without Redis.

    ``name`` is a scope and a hash (no user name or address in clear); ``hits`` counts within
    the window that ends at ``expires_at`` (seconds since the epoch). Written only by
    ``tenants.throttling.DatabaseStore``'s upserts; UNLOGGED on PostgreSQL."""

    name = models.CharField(max_length=100, primary_key=True)
    hits = models.BigIntegerField(default=0)
    expires_at = models.FloatField(db_index=True)

    def __str__(self):
        return f"{self.name} {self.hits}"


class Event(models.Model):
    """One change of a tenant's data, written in the same transaction as the change: the
    transactional outbox (DESIGN §7). A rolled-back write leaves no event; a committed one
    always has its event, which the events API lists and the webhook worker delivers.

    ``id`` orders events as they were written (the outbox position; cursors and "in order per
    customer" use it), ``uuid`` is the event's public id (and the Standard Webhooks
    ``webhook-id``). ``customer_uuid`` is the public id of the customer the event is about
    (none for events about something else); it is a plain column, not a foreign key, since
    the shared kernel does not depend on customers and an event outlives its customer.
    ``actor`` says who made the change (``{"type": "user"|"api_key"|"system", "id", "name",
    "origin"}``, as tenants.history records it); ``data`` is the record after the change and
    ``previous_attributes`` the changed fields' earlier values (updates only), as Stripe does.
    """

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid7, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    customer_uuid = models.UUIDField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    actor = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    previous_attributes = models.JSONField(null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["tenant", "id"], name="event_tenant"),
            models.Index(fields=["tenant", "type", "id"], name="event_tenant_type"),
            models.Index(fields=["tenant", "customer_uuid", "id"], name="event_tenant_customer"),
            models.Index(fields=["occurred_at"], name="event_occurred"),
        ]

    def __str__(self):
        return f"{self.type} {self.uuid}"


class WebhookEndpoint(TenantOwnedModel):
    """A tenant's subscriber: the URL its events are delivered to (tenants/delivery.py).

    The signing secret is needed in clear to sign (Standard Webhooks' HMAC), so it is stored
    encrypted (Fernet, key derived from ``HUB_WEBHOOKS_ENCRYPTION_KEY`` or ``SECRET_KEY``:
    tenants/webhooks.py), never hashed. After a rotation the previous secret also signs until
    ``previous_secret_expires_at`` (the receiver accepts either signature meanwhile)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=255, blank=True, default="")
    event_types = models.JSONField(
        default=list,
        blank=True,
        help_text='Event types delivered, e.g. ["customer.updated", "address.*"]; empty: all.',
    )
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True, default="")
    #: the start of the current run of failed attempts (none since the last success);
    #: written by tenants.delivery, which disables the endpoint when it is too old
    failing_since = models.DateTimeField(null=True, blank=True)
    secret_encrypted = models.TextField(editable=False)
    previous_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["tenant", "id"]
        verbose_name = "webhook endpoint"
        constraints = [
            models.CheckConstraint(
                condition=Q(enabled=True, disabled_at__isnull=True)
                | Q(enabled=False, disabled_at__isnull=False),
                name="webhookendpoint_disabled_at_iff_disabled",
            ),
            models.CheckConstraint(
                condition=Q(previous_secret_encrypted="", previous_secret_expires_at__isnull=True)
                | (~Q(previous_secret_encrypted="") & Q(previous_secret_expires_at__isnull=False)),
                name="webhookendpoint_previous_secret_expires",
            ),
            models.CheckConstraint(
                condition=~Q(secret_encrypted=""), name="webhookendpoint_secret_present"
            ),
        ]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: delivered at least once, in order per (endpoint, customer).

    ``pending`` until a 2xx answer (``delivered``) or until it is given up (``failed``: its
    retry window passed, or the endpoint answered 410). A worker claims a due delivery by
    setting ``locked_until`` and ``lease``; a claim that is not settled by ``locked_until``
    (its worker died) is claimed again. ``customer_uuid`` is the event's, copied here as the
    ordering key: a delivery waits while an earlier one of the same customer is pending."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    customer_uuid = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    retry_until = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhookdelivery_unique"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed"]),
                name="webhookdelivery_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="delivered", delivered_at__isnull=False)
                | (~Q(status="delivered") & Q(delivered_at__isnull=True)),
                name="webhookdelivery_delivered_at",
            ),
        ]
        indexes = [
            # the claim's scan: due pending deliveries
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhookdelivery_due",
            ),
            # "an earlier delivery of this customer is still pending"
            models.Index(
                fields=["endpoint", "customer_uuid", "event"],
                condition=Q(status="pending"),
                name="webhookdelivery_customer",
            ),
        ]

    def __str__(self):
        return f"{self.event_id} -> {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: what the receiver answered (or the error), how fast."""

    EXCERPT_CHARS = 1000

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField(default=timezone.now)
    succeeded = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.TextField(blank=True, default="")
    error = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("response_excerpt"), 1000),
                name="webhookattempt_excerpt_capped",
            ),
        ]

    def __str__(self):
        return f"{self.delivery_id} {self.status_code or self.error}"


class WebhookFanout(models.Model):
    """The fan-out's position in the outbox (one row): events up to ``position`` have their
    deliveries, except the ids in ``gaps`` (``[[first, last, first_seen_epoch], ...]``),
    which were not committed when the fan-out passed them (a transaction still running, or
    rolled back) and are looked for again until ``HUB_WEBHOOKS_GAP_SECONDS`` old."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    position = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="webhookfanout_single")]

    def __str__(self):
        return f"fan-out at {self.position}"
