"""The store dialect's access: ``x-store-id`` names the store, whose tenant is the caller's
(tenants/access.py resolves tenants and roles for every dialect; the stores live here)."""

from __future__ import annotations

from stores.error_codes import StoreErrorCode
from stores.models import Store, StoreMembership
from tenants import errors
from tenants.access import Access, header_value, principal, tenant_access
from tenants.ids import parse_uuid
from tenants.models import Role

STORE_DENIED = "You do not have access to this store"


def store_from_header(request, header: str = "x-store-id", *, write: bool | None = None):
    """The store dialect: ``x-store-id`` is required; the tenant is the store's."""
    user, api_key = principal(request)
    ref = header_value(request, header)
    if not ref:
        raise errors.BadRequest(
            f"The {header} header is required.", code=StoreErrorCode.MISSING_STORE
        )
    store_id = parse_uuid(ref)
    if store_id is None:
        raise errors.BadRequest(
            f"The {header} header must be a UUID.", code=StoreErrorCode.INVALID_STORE
        )
    store = Store.objects.select_related("tenant").filter(pk=store_id, is_active=True).first()
    if store is None:
        raise errors.PermissionDenied(STORE_DENIED)
    access = tenant_access(request, store.tenant, write=write, denied=STORE_DENIED)
    if (
        access.role != Role.ADMIN
        and api_key is None
        and not StoreMembership.objects.filter(user=user, store=store, is_active=True).exists()
    ):
        raise errors.PermissionDenied(STORE_DENIED)
    return Access(tenant=access.tenant, role=access.role, user=user, api_key=api_key, store=store)
