"""Tenant, store and role resolution: once per request, one module for every dialect.

Semantics (DESIGN.md §3):
- no credentials: 401 (DRF's authentication, before this module runs);
- a missing required header: 400;
- an unknown or inactive tenant or store, or one the caller may not use: 403;
- a write by a viewer: 403.

Roles: ``admin`` does everything in its tenant and reaches every store; ``agent`` reads and
writes, and reaches a store only through an active ``StoreMembership``; ``viewer`` only
reads. A superuser is ``admin`` everywhere. An API key has its own role (agent or viewer)
and reaches every store of its tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenants import errors
from tenants.authentication import ApiKeyUser
from tenants.context import note_tenant
from tenants.error_codes import ErrorCode
from tenants.ids import parse_uuid
from tenants.models import ApiKey, Membership, Role, Tenant

WRITE_ROLES = frozenset({Role.ADMIN, Role.AGENT})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Access:
    """Who is calling, for which tenant (and store), with which role."""

    tenant: Tenant
    role: str
    user: Any = None  # a User, or None for an API key
    api_key: ApiKey | None = None
    store: Any = None  # stores.Store when resolved from x-store-id

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    def require_write(self) -> None:
        if not self.can_write:
            raise errors.PermissionDenied("Your role may only read in this tenant.")

    @property
    def actor(self):
        """The user to record as the author of a change (None for API keys)."""
        return self.user


def principal(request):
    """``(user, None)`` or ``(None, api_key)`` of an authenticated request; 401 otherwise."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise errors.AuthenticationRequired()
    if isinstance(user, ApiKeyUser):
        return None, user.api_key
    return user, None


def find_tenant(ref: str) -> Tenant | None:
    """A tenant by slug or UUID, or None."""
    if not ref or len(ref) > 64:
        return None
    uid = parse_uuid(ref)
    qs = Tenant.objects.filter(pk=uid) if uid else Tenant.objects.filter(slug=ref)
    return qs.first()


def role_in_tenant(user, api_key: ApiKey | None, tenant: Tenant) -> str | None:
    """The caller's role in ``tenant``, or None when it has none."""
    if api_key is not None:
        return api_key.role if api_key.tenant_id == tenant.pk else None
    if user.is_superuser:
        return Role.ADMIN
    membership = (
        Membership.objects.filter(user=user, tenant=tenant, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    return membership


TENANT_DENIED = "Unknown tenant, or you do not have access to it."


def tenant_access(
    request, tenant: Tenant | None, *, write: bool | None, denied: str = TENANT_DENIED
) -> Access:
    """The caller's access to ``tenant`` (403 ``denied`` without one; 403 for a write by a
    reader); ``write`` defaults to the request method's."""
    user, api_key = principal(request)
    if tenant is None or not tenant.is_active:
        raise errors.PermissionDenied(denied)
    role = role_in_tenant(user, api_key, tenant)
    if role is None:
        raise errors.PermissionDenied(denied)
    access = Access(tenant=tenant, role=role, user=user, api_key=api_key)
    note_tenant(tenant.slug)  # the request's log line and metrics name it
    if write is None:
        write = request.method not in SAFE_METHODS
    if write:
        access.require_write()
    return access


def header_value(request, name: str) -> str:
    """The header's value without surrounding blanks (``""`` when absent)."""
    value = request.headers.get(name, "")
    return value.strip()


def tenant_from_header(request, header: str = "x-tenant-id", *, write: bool | None = None):
    """The data dialect: ``x-tenant-id`` (slug or UUID) is required."""
    principal(request)
    ref = header_value(request, header)
    if not ref:
        raise errors.BadRequest(f"The {header} header is required.", code=ErrorCode.MISSING_TENANT)
    return tenant_access(request, find_tenant(ref), write=write)


def tenant_from_path(request, slug: str, *, write: bool | None = None) -> Access:
    """The peppered dialect: the tenant slug is the ``:client_name`` path segment."""
    principal(request)
    tenant = Tenant.objects.filter(slug=slug).first() if slug and len(slug) <= 64 else None
    return tenant_access(request, tenant, write=write)


def tenant_from_header_or_credential(
    request, header: str = "x-tenant-id", *, write: bool | None = None
) -> Access:
    """The b2b dialect: ``x-tenant-id`` when sent, otherwise the credential's only tenant."""
    user, api_key = principal(request)
    ref = header_value(request, header)
    if ref:
        return tenant_access(request, find_tenant(ref), write=write)
    if api_key is not None:
        return tenant_access(request, api_key.tenant, write=write)
    tenant_ids = list(
        Membership.objects.filter(user=user, is_active=True, tenant__is_active=True).values_list(
            "tenant_id", flat=True
        )[:2]
    )
    if len(tenant_ids) == 1:
        return tenant_access(request, Tenant.objects.get(pk=tenant_ids[0]), write=write)
    if not tenant_ids and not user.is_superuser:
        raise errors.PermissionDenied("You are not a member of any tenant.")
    raise errors.BadRequest(
        f"You belong to several tenants: send the {header} header.", code=ErrorCode.MISSING_TENANT
    )
