"""Writes of the shared kernel: tenants, memberships, API keys, user tokens."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone
from knox.models import AuthToken

from tenants import delivery, errors, roles, webhooks
from tenants.models import (
    ApiKey,
    Event,
    Membership,
    Role,
    Tenant,
    WebhookDelivery,
    WebhookEndpoint,
    hash_secret,
)
from tenants.phones import region_is_known
from tenants.transactions import service_atomic


def _check_region(region: str) -> str:
    region = (region or "").strip().upper()
    if not region_is_known(region):
        message = "Not a region phonenumbers knows: use a code such as US or NL, or nothing."
        raise errors.ValidationError(
            f"default_region: {message}", fields={"default_region": [message]}
        )
    return region


UNSET = object()


def _validation_error(exc: DjangoValidationError) -> errors.ValidationError:
    fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    name, messages = next(iter(fields.items()), ("", ["Invalid input."]))
    return errors.ValidationError(f"{name}: {messages[0]}", fields=fields)


def _changed(instance, values: dict) -> list[str]:
    """Set the ``values`` that differ on ``instance``; the names of those fields."""
    changed = []
    for name, value in values.items():
        if value is not UNSET and getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


@service_atomic()
def tenant_create(
    *,
    slug: str,
    name: str,
    is_active: bool = True,
    default_region: str = "",
    match_by_email: bool = True,
) -> Tenant:
    """A tenant; ``default_region`` is the region of its phone numbers written without a
    country code (tenants/phones.py); ``match_by_email``, whether find-or-create finds a
    customer by its email (docs/identity.md)."""
    tenant = Tenant(
        slug=slug,
        name=name,
        is_active=is_active,
        default_region=_check_region(default_region),
        match_by_email=match_by_email,
    )
    tenant.full_clean()
    tenant.save()
    return tenant


@service_atomic()
def tenant_update(
    *,
    tenant: Tenant,
    slug=UNSET,
    name=UNSET,
    is_active=UNSET,
    default_region=UNSET,
    match_by_email=UNSET,
) -> Tenant:
    """Change only the given fields. Switching a tenant off or on moves its members' back-office
    access with it (``user_roles_sync``)."""
    if default_region is not UNSET:
        default_region = _check_region(default_region)
    locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
    changed = _changed(
        locked,
        {
            "slug": slug,
            "name": name,
            "is_active": is_active,
            "default_region": default_region,
            "match_by_email": match_by_email,
        },
    )
    if not changed:
        return locked
    try:
        locked.full_clean(exclude=[f.name for f in Tenant._meta.fields if f.name not in changed])
    except DjangoValidationError as exc:
        raise _validation_error(exc) from exc
    locked.save(update_fields=[*changed, "updated_at"])
    if "is_active" in changed:
        for user in get_user_model().objects.filter(memberships__tenant=locked).distinct():
            user_roles_sync(user=user)
    return locked


@service_atomic()
def membership_grant(*, user, tenant: Tenant, role: str = Role.AGENT) -> Membership:
    """Give ``user`` ``role`` in ``tenant`` (creating or updating the membership)."""
    if role not in Role.values:
        raise errors.ValidationError(f"Unknown role {role!r}.", fields={"role": ["Invalid."]})
    membership, _ = Membership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"role": role, "is_active": True}
    )
    user_roles_sync(user=user)
    return membership


@service_atomic()
def membership_update(*, membership: Membership, role=UNSET, is_active=UNSET) -> Membership:
    """Change a membership's role or switch it off or on (the user's access follows)."""
    if role is not UNSET and role not in Role.values:
        raise errors.ValidationError(f"Unknown role {role!r}.", fields={"role": ["Invalid."]})
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    changed = _changed(locked, {"role": role, "is_active": is_active})
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
        user_roles_sync(user=locked.user)
    return locked


@service_atomic()
def membership_remove(*, membership: Membership) -> None:
    """Remove a membership (the user's access follows)."""
    user = membership.user
    Membership.objects.filter(pk=membership.pk).delete()
    user_roles_sync(user=user)


@service_atomic()
def user_roles_sync(*, user) -> None:
    """Derive the user's back-office access from its memberships (tenants/roles.py): staff
    when it has an active membership of an active tenant, and in exactly the permission
    groups of those memberships' roles (other groups are left alone). A superuser's staff
    flag is its own. The groups are made, and their permissions corrected, on the way."""
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    roles = set(
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True).values_list(
            "role", flat=True
        )
    )
    if not user.is_superuser and user.is_staff != bool(roles):
        user.is_staff = bool(roles)
        user.save(update_fields=["is_staff"])
    current = {group.name: group for group in user.groups.filter(name__in=Role.values)}
    stale = [group for name, group in current.items() if name not in roles]
    if stale:
        user.groups.remove(*stale)
    missing = [role_group(role=role) for role in sorted(roles) if role not in current]
    if missing:
        user.groups.add(*missing)


def role_group(*, role: str) -> Group:
    """The permission group of ``role``, made or corrected to hold exactly the role's
    permissions (idempotent: ``set`` writes only the difference)."""
    group, _ = Group.objects.get_or_create(name=role)
    group.permissions.set(roles.group_permissions(role))
    return group


@service_atomic()
def user_ensure(
    *, username: str, password: str | None = None, email=UNSET, first_name=UNSET, last_name=UNSET
):
    """The user ``username``, created when missing, with the given details (only what
    differs is written). Back-office access is not set here: it follows the memberships."""
    User = get_user_model()
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        user = User(username=username)
        _changed(user, {"email": email, "first_name": first_name, "last_name": last_name})
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        return user
    changed = _changed(user, {"email": email, "first_name": first_name, "last_name": last_name})
    if password is not None and not user.check_password(password):
        user.set_password(password)
        changed.append("password")
    if changed:
        user.save(update_fields=changed)
    return user


@service_atomic()
def api_key_issue(*, tenant: Tenant, name: str, role: str = "agent") -> tuple[ApiKey, str]:
    """A new API key; the secret is returned once and only its hash is stored."""
    if role not in ApiKey.KeyRole.values:
        raise errors.ValidationError("API keys are agent or viewer.", fields={"role": ["Invalid."]})
    secret = settings.HUB_API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        tenant=tenant,
        name=name,
        role=role,
        prefix=secret[:12],
        secret_hash=hash_secret(secret),
    )
    return key, secret


@service_atomic()
def api_key_update(*, api_key: ApiKey, name=UNSET) -> ApiKey:
    """Rename a key (its tenant, role and secret never change)."""
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    changed = _changed(locked, {"name": name})
    if changed:
        try:
            locked.full_clean(exclude=["tenant", "secret_hash"], validate_constraints=False)
        except DjangoValidationError as exc:
            raise _validation_error(exc) from exc
        locked.save(update_fields=changed)
    return locked


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


@service_atomic()
def user_token_issue(*, user) -> tuple[AuthToken, str]:
    """A Bearer token for ``user`` (hashed at rest, expires after REST_KNOX.TOKEN_TTL). The
    user's expired tokens are deleted on the way, in one statement (authentication only
    looks at the token it is given: tenants.authentication.BearerAuthentication)."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user)


def user_token_revoke(*, token: AuthToken) -> None:
    token.delete()


def user_tokens_revoke_all(*, user) -> int:
    """Revoke every Bearer token of ``user`` (their password changed); returns how many."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted


# --- webhook endpoints (tenants/webhooks.py, tenants/delivery.py) ------------------------------

EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)*(\.\*)?$")
MAX_EVENT_TYPES = 100
REPLAY_CHUNK = 2000


def _webhook_url(url) -> str:
    if not isinstance(url, str) or not url or len(url) > 2000:
        message = "Give the receiver's https:// URL (at most 2000 characters)."
        raise errors.ValidationError(f"url: {message}", fields={"url": [message]})
    webhooks.check_url(url)
    return url


def _event_types(event_types) -> list[str]:
    message = (
        'A list of event types, such as "customer.updated" or "address.*"; empty for every type.'
    )
    if not isinstance(event_types, list | tuple) or len(event_types) > MAX_EVENT_TYPES:
        raise errors.ValidationError(f"event_types: {message}", fields={"event_types": [message]})
    for value in event_types:
        if not isinstance(value, str) or len(value) > 64 or not EVENT_TYPE_PATTERN.match(value):
            raise errors.ValidationError(
                f"event_types: {message}", fields={"event_types": [message]}
            )
    return list(dict.fromkeys(event_types))


@service_atomic()
def webhook_endpoint_create(
    *, tenant: Tenant, url: str, event_types=(), description: str = "", enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    """An endpoint and its signing secret, which is returned here only (stored encrypted)."""
    secret = webhooks.new_secret()
    now = timezone.now()
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant,
        url=_webhook_url(url),
        event_types=_event_types(event_types),
        description=(description or "")[:255],
        enabled=enabled,
        disabled_at=None if enabled else now,
        disabled_reason="" if enabled else "Created disabled.",
        secret_encrypted=webhooks.encrypt_secret(secret),
    )
    return endpoint, secret


@service_atomic()
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url=UNSET, event_types=UNSET, description=UNSET, enabled=UNSET
) -> WebhookEndpoint:
    """Change only the given fields. Disabling keeps the pending deliveries (they wait);
    enabling clears the disabled notice and the failure run, and they resume."""
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    values = {
        "url": url if url is UNSET else _webhook_url(url),
        "event_types": event_types if event_types is UNSET else _event_types(event_types),
        "description": description if description is UNSET else (description or "")[:255],
        "enabled": enabled,
    }
    changed = _changed(locked, values)
    if "enabled" in changed:
        if locked.enabled:
            locked.disabled_at, locked.disabled_reason, locked.failing_since = None, "", None
        else:
            locked.disabled_at, locked.disabled_reason = timezone.now(), "Disabled by an admin."
        changed += ["disabled_at", "disabled_reason", "failing_since"]
    if changed:
        locked.save(update_fields=[*changed, "updated_at"])
    return locked


@service_atomic()
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """The endpoint, its deliveries and their attempts."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


@service_atomic()
def webhook_secret_rotate(
    *, endpoint: WebhookEndpoint, overlap_hours: float | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret (returned here only); the current one keeps signing beside it for
    ``overlap_hours`` (HUB_WEBHOOKS_ROTATION_OVERLAP_HOURS), 0 to drop it at once."""
    if overlap_hours is None:
        overlap_hours = settings.HUB_WEBHOOKS_ROTATION_OVERLAP_HOURS
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = webhooks.new_secret()
    if overlap_hours > 0:
        locked.previous_secret_encrypted = locked.secret_encrypted
        locked.previous_secret_expires_at = timezone.now() + timedelta(hours=overlap_hours)
    else:
        locked.previous_secret_encrypted, locked.previous_secret_expires_at = "", None
    locked.secret_encrypted = webhooks.encrypt_secret(secret)
    locked.save(
        update_fields=[
            "secret_encrypted",
            "previous_secret_encrypted",
            "previous_secret_expires_at",
            "updated_at",
        ]
    )
    return locked, secret


def _pending_again(queryset, now) -> int:
    return queryset.update(
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at=now,
        retry_until=now + timedelta(hours=settings.HUB_WEBHOOKS_RETRY_HOURS),
        delivered_at=None,
        locked_until=None,
        lease="",
    )


@service_atomic()
def webhook_endpoint_replay(*, endpoint: WebhookEndpoint, since) -> int:
    """Deliver again every event of the endpoint's types since ``since`` (still in the
    outbox), in their order; the number of deliveries queued."""
    now = timezone.now()
    events = Event.objects.filter(tenant_id=endpoint.tenant_id, occurred_at__gte=since)
    count = _pending_again(WebhookDelivery.objects.filter(endpoint=endpoint, event__in=events), now)
    missing = events.exclude(
        Exists(WebhookDelivery.objects.filter(endpoint=endpoint, event=OuterRef("pk")))
    ).values_list("id", "type", "customer_uuid")
    until = now + timedelta(hours=settings.HUB_WEBHOOKS_RETRY_HOURS)
    fresh: list[WebhookDelivery] = []
    # in chunks: a replay of a month of a busy tenant's events is not one list in memory
    for pk, type_, customer_uuid in missing.order_by("id").iterator(chunk_size=REPLAY_CHUNK):
        if delivery.matches(endpoint, type_):
            fresh.append(
                WebhookDelivery(
                    endpoint=endpoint,
                    event_id=pk,
                    customer_uuid=customer_uuid,
                    next_attempt_at=now,
                    retry_until=until,
                    created_at=now,
                )
            )
        if len(fresh) >= REPLAY_CHUNK:
            WebhookDelivery.objects.bulk_create(fresh, ignore_conflicts=True)
            count, fresh = count + len(fresh), []
    WebhookDelivery.objects.bulk_create(fresh, ignore_conflicts=True)
    return count + len(fresh)


@service_atomic()
def webhook_delivery_resend(*, delivery_obj: WebhookDelivery) -> WebhookDelivery:
    """Queue the delivery again (delivered or given up: once more; pending: now)."""
    _pending_again(WebhookDelivery.objects.filter(pk=delivery_obj.pk), timezone.now())
    return WebhookDelivery.objects.get(pk=delivery_obj.pk)


@service_atomic()
def webhook_event_resend(*, event: Event) -> int:
    """Queue ``event`` again for every enabled endpoint of its tenant that takes its type
    (``POST /api/hub/events/{id}/resend``); the number of deliveries queued."""
    now = timezone.now()
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(tenant_id=event.tenant_id, enabled=True)
        if delivery.matches(e, event.type)
    ]
    existing = WebhookDelivery.objects.filter(event=event, endpoint__in=endpoints)
    count = _pending_again(existing, now)
    known = set(existing.values_list("endpoint_id", flat=True))
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=endpoint,
                event=event,
                customer_uuid=event.customer_uuid,
                next_attempt_at=now,
                retry_until=now + timedelta(hours=settings.HUB_WEBHOOKS_RETRY_HOURS),
                created_at=now,
            )
            for endpoint in endpoints
            if endpoint.pk not in known
        ],
        ignore_conflicts=True,
    )
    return count + len(endpoints) - len(known)
