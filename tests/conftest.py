"""Shared fixtures: a two-tenant world, and API clients for every kind of credential.

Every response received by these clients for a path in the OpenAPI document is checked
against the document (tests/openapi.py); pass ``check_schema=False`` to a client only for a
request that deliberately leaves the documented surface.
"""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.services import member_join
from stores.services import store_membership_grant
from tenants.models import Role
from tenants.services import user_token_issue
from tests.factories import (
    PASSWORD,
    ApiKeyFactory,
    PriceListFactory,
    ProductFactory,
    StoreFactory,
    TenantFactory,
    UserFactory,
)
from tests.openapi import check_response


class HubClient(APIClient):
    """APIClient that validates every response against the OpenAPI document."""

    def __init__(self, *args, check_schema: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.check_schema = check_schema

    def request(self, **kwargs):
        response = super().request(**kwargs)
        if self.check_schema:
            check_response(response)
        return response


def json_of(response):
    """The JSON body of a response, streamed or not."""
    import json

    from tests.openapi import body_of

    body = getattr(response, "_consumed_body", None)
    return json.loads(body if body is not None else body_of(response))


def bearer_client(user_or_token, **headers) -> HubClient:
    """A client sending ``Authorization: Bearer <token>`` (a user, a token string or an API key)."""
    if isinstance(user_or_token, str):
        token = user_or_token
    elif hasattr(user_or_token, "secret"):
        token = user_or_token.secret
    else:
        _, token = user_token_issue(user=user_or_token)
    client = HubClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", **_meta(headers))
    return client


def api_key_client(key, form: str = "bearer", **headers) -> HubClient:
    """A client sending the API key ``key`` as ``bearer``, ``bare`` or ``basic``."""
    secret = key.secret
    value = {
        "bearer": f"Bearer {secret}",
        "bare": secret,
        "basic": "Basic " + base64.b64encode(f"{secret}:".encode()).decode(),
    }[form]
    client = HubClient()
    client.credentials(HTTP_AUTHORIZATION=value, **_meta(headers))
    return client


def session_client(user, **headers) -> HubClient:
    """A logged-in session client that enforces CSRF like a browser would."""
    client = HubClient(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/api/auth/csrf")  # the csrftoken cookie, as a browser gets it before login
    if headers:
        client.credentials(**_meta(headers))
    return client


def session_login(client, username: str, password: str):
    """``POST /api/auth/login`` as a browser does it: the CSRF token first, then the login."""
    token = client.get("/api/auth/csrf").json()["csrfToken"]
    return client.post(
        "/api/auth/login",
        {"username": username, "password": password},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )


def csrf_headers(client) -> dict:
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return {"HTTP_X_CSRFTOKEN": token}


def _meta(headers: dict) -> dict:
    out = {}
    for key, value in headers.items():
        if key.startswith("HTTP_"):
            out[key] = value
        else:
            out["HTTP_" + key.upper().replace("-", "_")] = value
    return out


def make_tenant_world(slug: str) -> SimpleNamespace:
    """A tenant with one user of each role, two stores, price lists, products and keys.

    The agent and the viewer have an active relation with the first store only.
    """
    tenant = TenantFactory(slug=slug, name=slug.title())
    users = {}
    for role in (Role.ADMIN, Role.AGENT, Role.VIEWER):
        user = UserFactory(username=f"{slug}-{role}")
        member_join(tenant=tenant, user=user, role=role)
        users[role] = user
    store, store2 = StoreFactory(tenant=tenant), StoreFactory(tenant=tenant)
    store_membership_grant(user=users[Role.AGENT], store=store)
    store_membership_grant(user=users[Role.VIEWER], store=store)
    return SimpleNamespace(
        tenant=tenant,
        admin=users[Role.ADMIN],
        agent=users[Role.AGENT],
        viewer=users[Role.VIEWER],
        store=store,
        store2=store2,
        price_list=PriceListFactory(tenant=tenant, name=f"{slug} retail"),
        inactive_price_list=PriceListFactory(tenant=tenant, name=f"{slug} old", is_active=False),
        products=[ProductFactory(tenant=tenant), ProductFactory(tenant=tenant)],
        api_key=ApiKeyFactory(tenant=tenant, role="agent"),
        viewer_key=ApiKeyFactory(tenant=tenant, role="viewer"),
    )


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """PBKDF2 costs ~0.3 s per user; tests do not need a slow hash (production keeps it)."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture
def world(db):
    """Tenant ``acme`` (the caller's) and tenant ``globex`` (someone else's)."""
    return make_tenant_world("acme")


@pytest.fixture
def other(db):
    return make_tenant_world("globex")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and login lockouts live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with DATABASE_URL=postgres://...)")


@pytest.fixture(autouse=True)
def _webhook_dns(monkeypatch):
    """Webhook URLs resolve through the tests' fake DNS (tests/webhook_support.py)."""
    from tenants import webhooks
    from tests.webhook_support import fake_resolve_host

    monkeypatch.setattr(webhooks, "resolve_host", fake_resolve_host)
