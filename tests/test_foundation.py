"""Contracts of the foundation: demo JSON, commands, healthz, deploy checks, migrations."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.test import Client

from customers.models import Customer
from stores.models import Store, StoreMembership
from tenants.models import ApiKey, Membership, hash_secret
from tests.conftest import HubClient, api_key_client, bearer_client
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def run_demo() -> dict:
    out = StringIO()
    call_command("demo", "--json", stdout=out)
    text = out.getvalue()
    assert text.count("\n") <= 1, "demo --json prints exactly one JSON object"
    return json.loads(text)


def test_demo_json_contract():
    world = run_demo()
    assert set(world) == {"password", "tenants"}
    assert len(world["tenants"]) >= 2
    for tenant in world["tenants"]:
        assert {
            "id",
            "slug",
            "name",
            "api_key",
            "client_types",
            "users",
            "stores",
            "products",
        } <= set(tenant)
        assert {"friend", "donor", "vip"} <= set(tenant["client_types"])
        roles = {u["role"]: u for u in tenant["users"]}
        assert set(roles) == {"admin", "agent", "viewer"}
        stores = [s["id"] for s in tenant["stores"]]
        assert len(stores) >= 2
        assert roles["admin"]["store_ids"] == stores
        assert roles["agent"]["store_ids"] == stores[:1]
        first = tenant["stores"][0]["price_lists"]
        assert {pl["is_active"] for pl in first} == {True, False}
        assert len(tenant["products"]) >= 2
        assert all({"id", "sku", "name", "price"} <= set(p) for p in tenant["products"])
        for user in tenant["users"]:
            assert Membership.objects.filter(user__username=user["username"]).count() == 1


def test_demo_credentials_work_and_are_fresh_each_run():
    first, second = run_demo(), run_demo()
    acme1, acme2 = first["tenants"][0], second["tenants"][0]
    assert acme1["id"] == acme2["id"] and acme1["stores"] == acme2["stores"]
    assert acme1["api_key"] != acme2["api_key"]
    assert acme1["users"][0]["token"] != acme2["users"][0]["token"]
    assert bearer_client(acme2["users"][1]["token"]).get("/api/auth/me").status_code == 200
    assert bearer_client(acme2["api_key"]).get("/api/auth/me").status_code == 200
    # idempotent: no duplicated rows
    assert Store.objects.filter(tenant_id=acme1["id"]).count() == len(acme1["stores"])
    counts = Customer.objects.filter(tenant_id=acme1["id"]).count()
    run_demo()
    assert Customer.objects.filter(tenant_id=acme1["id"]).count() == counts


def test_demo_admin_can_log_in_to_the_back_office():
    world = run_demo()
    client = Client()
    assert client.login(username="acme-admin", password=world["password"])
    assert client.get("/admin/").status_code == 200


def test_store_creation_creates_its_customer_and_joining_creates_the_users_customer():
    tenant = TenantFactory()
    out = StringIO()
    call_command("create_store", tenant.slug, "Corner shop", stdout=out)
    store = Store.objects.get(pk=out.getvalue().strip())
    assert store.customer.tenant == tenant and store.customer.source == "STORE"
    user = UserFactory(first_name="Ada", last_name="Lovelace")
    call_command(
        "grant_membership", user.username, tenant.slug, "--role", "agent", stdout=StringIO()
    )
    customer = Customer.objects.get(tenant=tenant, user=user)
    assert customer.source == "USER" and customer.name == "Ada Lovelace"
    call_command("grant_store", user.username, str(store.id), stdout=StringIO())
    assert StoreMembership.objects.filter(user=user, store=store, is_active=True).exists()


def test_create_tenant_and_issue_api_key_commands():
    out = StringIO()
    call_command("create_tenant", "initech", "Initech", stdout=out)
    assert "initech" in out.getvalue()
    out = StringIO()
    call_command(
        "issue_api_key", "initech", "crm", "--role", "viewer", stdout=out, stderr=StringIO()
    )
    secret = out.getvalue().strip()
    key = ApiKey.objects.get(secret_hash=hash_secret(secret))
    assert key.role == "viewer" and key.prefix == secret[:12]
    assert not ApiKey.objects.filter(secret_hash=secret).exists()  # only the hash is stored
    key.secret = secret
    assert api_key_client(key, "bare").get("/api/auth/me").status_code == 200
    call_command("revoke_api_key", key.prefix, stdout=StringIO())
    assert api_key_client(key, "bare").get("/api/auth/me").status_code == 401


def test_grant_membership_for_unknown_tenant_fails_cleanly():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("grant_membership", "nobody", "nope", stdout=StringIO())


def test_healthz_ok_and_503_when_database_is_down():
    client = Client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["database"] == "ok"
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=DatabaseError("down")
    ):
        response = client.get("/healthz")
    assert response.status_code == 503


def test_every_response_has_a_request_id():
    for path in ("/healthz", "/api/schema/", "/admin/login/", "/nope"):
        assert Client().get(path).has_header("X-Request-ID"), path


def test_schema_docs_and_redoc_are_served_without_cdn():
    client = Client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.1")
    for path in ("/api/docs/", "/api/redoc/"):
        html = client.get(path).content.decode()
        assert "cdn" not in html.lower() and "unpkg" not in html.lower(), path
        assert "/static/drf_spectacular_sidecar/" in html
    assert client.get("/api/schema/?format=yaml").status_code == 200


def test_unknown_url_under_api_prefix_answers_json_in_the_hub_format():
    response = HubClient().get("/api/auth/nope")
    assert response.status_code == 404
    assert response.json()["requestId"] == response["X-Request-ID"]


def test_oversized_body_is_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = HubClient().post(
        "/api/auth/login",
        json.dumps({"username": "x" * 2000, "password": "y"}),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_unexpected_exception_is_a_generic_500_in_the_dialect_format(world):
    client = bearer_client(world.agent)
    client.raise_request_exception = False
    with mock.patch("tenants.api.views.me_payload", side_effect=RuntimeError("secret SQL detail")):
        response = client.get("/api/auth/me")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and "secret" not in json.dumps(body)
    assert body["requestId"] == response["X-Request-ID"]


def test_migrations_are_up_to_date():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


#: what a migration may import from the project: the callables its fields name as defaults
#: (Django writes their paths into the migration; they must keep their behaviour for ever)
MIGRATION_IMPORTS_ALLOWED = {"tenants.ids"}


def test_migrations_import_no_app_code():
    """A migration runs the SQL it was written with: one that imports app code changes what
    it does whenever that code changes (issue 19)."""
    import ast

    root = Path(__file__).resolve().parent.parent
    apps = {"b2b", "config", "customers", "pricelists", "stores", "tenants"}
    offending = []
    for path in sorted(root.glob("*/migrations/*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.split(".")[0] in apps and not any(
                    name == allowed or name.startswith(allowed + ".")
                    for allowed in MIGRATION_IMPORTS_ALLOWED
                ):
                    offending.append(f"{path.relative_to(root)}: {name}")
    assert not offending, offending


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 20 + "production-secret-key-with-enough-entropy-0123456789",
        "DJANGO_ALLOWED_HOSTS": "hub.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path}/deploy.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
