import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
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
