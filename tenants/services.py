"""Writes of the shared kernel: tenants, memberships, API keys, user tokens."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from tenants import errors
from tenants.models import ApiKey, Membership, Role, Tenant, hash_secret
from tenants.phones import region_is_known


def _check_region(region: str) -> str:
    region = (region or "").strip().upper()
    if not region_is_known(region):
        message = "Not a region phonenumbers knows: use a code such as US or NL, or nothing."
        raise errors.ValidationError(
            f"default_region: {message}", fields={"default_region": [message]}
        )
    return region


@transaction.atomic
def tenant_create(
    *, slug: str, name: str, is_active: bool = True, default_region: str = ""
) -> Tenant:
    """A tenant; ``default_region`` is the region of its phone numbers written without a
    country code (tenants/phones.py)."""
    tenant = Tenant(
        slug=slug, name=name, is_active=is_active, default_region=_check_region(default_region)
    )
    tenant.full_clean()
    tenant.save()
    return tenant


@transaction.atomic
def membership_grant(*, user, tenant: Tenant, role: str = Role.AGENT) -> Membership:
    """Give ``user`` ``role`` in ``tenant`` (creating or updating the membership)."""
    if role not in Role.values:
        raise errors.ValidationError(f"Unknown role {role!r}.", fields={"role": ["Invalid."]})
    membership, _ = Membership.objects.update_or_create(
        user=user, tenant=tenant, defaults={"role": role, "is_active": True}
    )
    return membership


@transaction.atomic
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


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


@transaction.atomic
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
