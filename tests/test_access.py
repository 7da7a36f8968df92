"""tenants/access.py: every header/path case and role (DESIGN.md §3)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from stores.access import store_from_header
from tenants import access, errors
from tenants.authentication import ApiKeyUser
from tenants.models import Membership
from tests.factories import StoreFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
rf = RequestFactory()


def req(principal, method="GET", **headers):
    request = rf.generic(
        method, "/", **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    )
    if principal is None:
        request.user = AnonymousUser()
    elif hasattr(principal, "secret"):
        request.user = ApiKeyUser(principal)
    else:
        request.user = principal
    return request


# --- x-tenant-id (data dialect) ---------------------------------------------------------------


def test_tenant_header_by_slug_and_by_uuid(world):
    for ref in ("acme", str(world.tenant.id)):
        result = access.tenant_from_header(req(world.agent, **{"x-tenant-id": ref}))
        assert result.tenant == world.tenant and result.role == "agent"


def test_tenant_header_missing_is_400(world):
    with pytest.raises(errors.BadRequest):
        access.tenant_from_header(req(world.agent))


def test_anonymous_is_401_before_anything_else(world):
    with pytest.raises(errors.AuthenticationRequired):
        access.tenant_from_header(req(None))


@pytest.mark.parametrize("ref", ["nope", "00000000-0000-0000-0000-000000000000", "x" * 300])
def test_unknown_tenant_is_403(world, ref):
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header(req(world.agent, **{"x-tenant-id": ref}))


def test_other_tenant_is_403_for_user_and_api_key(world, other):
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header(req(world.agent, **{"x-tenant-id": "globex"}))
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header(req(world.api_key, **{"x-tenant-id": "globex"}))


def test_inactive_tenant_or_membership_is_403(world):
    Membership.objects.filter(user=world.agent).update(is_active=False)
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header(req(world.agent, **{"x-tenant-id": "acme"}))
    world.tenant.is_active = False
    world.tenant.save()
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header(req(world.admin, **{"x-tenant-id": "acme"}))


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_viewer_may_read_but_not_write(world, method):
    assert access.tenant_from_header(req(world.viewer, **{"x-tenant-id": "acme"})).role == "viewer"
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header(req(world.viewer, method, **{"x-tenant-id": "acme"}))
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header(req(world.viewer_key, method, **{"x-tenant-id": "acme"}))


def test_agent_and_admin_and_agent_key_may_write(world):
    for principal, role in (
        (world.agent, "agent"),
        (world.admin, "admin"),
        (world.api_key, "agent"),
    ):
        result = access.tenant_from_header(req(principal, "POST", **{"x-tenant-id": "acme"}))
        assert result.role == role and result.can_write


def test_superuser_is_admin_everywhere(world, other):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    assert access.tenant_from_header(req(root, "POST", **{"x-tenant-id": "globex"})).role == "admin"


def test_actor_is_user_or_none_for_api_key(world):
    assert (
        access.tenant_from_header(req(world.agent, **{"x-tenant-id": "acme"})).actor == world.agent
    )
    assert access.tenant_from_header(req(world.api_key, **{"x-tenant-id": "acme"})).actor is None


# --- :client_name (peppered) ------------------------------------------------------------------


def test_tenant_from_path(world, other):
    assert access.tenant_from_path(req(world.api_key), "acme").tenant == world.tenant
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_path(req(world.api_key), "globex")
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_path(req(world.api_key), "unknown")


# --- b2b: header or credential ------------------------------------------------------------------


def test_b2b_header_wins_when_sent(world, other):
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header_or_credential(req(world.agent, **{"x-tenant-id": "globex"}))
    assert (
        access.tenant_from_header_or_credential(req(world.agent, **{"x-tenant-id": "acme"})).tenant
        == world.tenant
    )


def test_b2b_api_key_and_single_tenant_user_need_no_header(world, other):
    assert access.tenant_from_header_or_credential(req(world.api_key)).tenant == world.tenant
    assert access.tenant_from_header_or_credential(req(world.agent)).tenant == world.tenant


def test_b2b_user_of_several_tenants_without_header_is_400(world, other):
    Membership.objects.create(user=world.agent, tenant=other.tenant, role="viewer")
    with pytest.raises(errors.BadRequest):
        access.tenant_from_header_or_credential(req(world.agent))
    result = access.tenant_from_header_or_credential(req(world.agent, **{"x-tenant-id": "globex"}))
    assert result.role == "viewer"


def test_b2b_user_without_tenant_is_403(db):
    with pytest.raises(errors.PermissionDenied):
        access.tenant_from_header_or_credential(req(UserFactory()))


# --- x-store-id (store dialect) ------------------------------------------------------------------


def test_store_header_missing_or_malformed_is_400(world):
    with pytest.raises(errors.BadRequest):
        store_from_header(req(world.agent))
    with pytest.raises(errors.BadRequest):
        store_from_header(req(world.agent, **{"x-store-id": "store_1"}))


def test_store_agent_needs_store_membership(world):
    result = store_from_header(req(world.agent, "POST", **{"x-store-id": str(world.store.id)}))
    assert result.store == world.store and result.tenant == world.tenant
    with pytest.raises(errors.PermissionDenied):
        store_from_header(req(world.agent, **{"x-store-id": str(world.store2.id)}))


def test_store_admin_and_api_key_reach_every_store_of_their_tenant(world, other):
    for principal in (world.admin, world.api_key):
        assert (
            store_from_header(req(principal, **{"x-store-id": str(world.store2.id)})).store
            == world.store2
        )
        with pytest.raises(errors.PermissionDenied):
            store_from_header(req(principal, **{"x-store-id": str(other.store.id)}))


def test_store_viewer_reads_but_cannot_write(world):
    assert (
        store_from_header(req(world.viewer, **{"x-store-id": str(world.store.id)})).role == "viewer"
    )
    with pytest.raises(errors.PermissionDenied):
        store_from_header(req(world.viewer, "DELETE", **{"x-store-id": str(world.store.id)}))


def test_unknown_or_inactive_store_is_403(world):
    with pytest.raises(errors.PermissionDenied):
        store_from_header(
            req(world.admin, **{"x-store-id": "00000000-0000-0000-0000-000000000000"})
        )
    inactive = StoreFactory(tenant=world.tenant, is_active=False)
    with pytest.raises(errors.PermissionDenied):
        store_from_header(req(world.admin, **{"x-store-id": str(inactive.id)}))


def test_store_of_inactive_tenant_is_403(world):
    world.tenant.is_active = False
    world.tenant.save()
    with pytest.raises(errors.PermissionDenied):
        store_from_header(req(world.admin, **{"x-store-id": str(world.store.id)}))


def test_find_tenant(world):
    assert access.find_tenant("acme") == world.tenant
    assert access.find_tenant(str(world.tenant.id)) == world.tenant
    assert access.find_tenant("") is None
    assert access.find_tenant(str(TenantFactory().id)) is not None
