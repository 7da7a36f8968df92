"""A database outage is a 503 with ``Retry-After`` in the dialect's own format, logged; any
other database error stays a generic 500 (issue 17, item 7)."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError, connection

from config.middleware import RequestIdLogFilter
from tenants.db import database_unreachable
from tests.conftest import api_key_client, bearer_client, session_client
from tests.openapi import openapi
from tests.reliability_support import request_id_in

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def _driver_outage() -> Exception:
    """The error the configured database's driver raises when the server cannot be reached."""
    if connection.vendor == "postgresql":
        import psycopg

        try:
            psycopg.connect("host=127.0.0.1 port=1 dbname=hub user=hub connect_timeout=2")
        except psycopg.OperationalError as exc:
            return exc
    try:
        sqlite3.connect("/nonexistent-hub-directory/db.sqlite3")
    except sqlite3.OperationalError as exc:
        return exc
    raise AssertionError("the driver connected to nothing")  # pragma: no cover


def _calls(world):
    slug = world.tenant.slug
    data = {"x-tenant-id": slug}
    store = {"x-store-id": str(world.store.id)}
    return {
        "data read": (bearer_client(world.agent, **data), "get", "/api/data/customer", None),
        "data write with a key": (
            bearer_client(world.agent, **data),
            "post",
            "/api/data/customer",
            {"discordId": "1", "discordUsername": "a", "discordDisplayName": "A"},
        ),
        "data write (session)": (
            session_client(world.agent, **data),
            "post",
            "/api/data/customer",
            {"discordId": "1", "discordUsername": "a", "discordDisplayName": "A"},
        ),
        "store read": (bearer_client(world.agent, **store), "get", "/customers", None),
        "store write": (bearer_client(world.agent, **store), "post", "/customers", {}),
        "peppered read": (
            api_key_client(world.api_key, "bare"),
            "get",
            f"/v1/{slug}/peppered/export/clienttypes",
            None,
        ),
        "peppered write": (
            api_key_client(world.api_key, "basic"),
            "post",
            f"/v1/{slug}/peppered/customer",
            {"email": "a@example.com"},
        ),
        "b2b read": (bearer_client(world.agent), "get", "/api/customers", None),
        "b2b write": (bearer_client(world.agent), "post", "/api/customers", {"name": "A"}),
        "hub me": (bearer_client(world.agent), "get", "/api/auth/me", None),
        "hub token": (
            bearer_client(world.agent),
            "post",
            "/api/auth/token",
            {"username": "acme-agent", "password": "x"},
        ),
    }


def test_a_database_outage_is_a_503_with_retry_after_in_the_dialect_format(world, caplog):
    caplog.handler.addFilter(RequestIdLogFilter())
    outage = _driver_outage()
    for name, (client, method, path, payload) in _calls(world).items():
        client.raise_request_exception = False
        extra = {"HTTP_IDEMPOTENCY_KEY": name.replace(" ", "-")} if "key" in name else {}
        caplog.clear()
        with (
            caplog.at_level(logging.ERROR),
            mock.patch.object(connection, "create_cursor", side_effect=outage),
        ):
            kwargs = {"format": "json", "data": payload} if payload is not None else {}
            response = getattr(client, method)(path, **kwargs, **extra)
        assert response.status_code == 503, (name, response.status_code, response.content)
        assert int(response["Retry-After"]) >= 1, name
        assert "no-store" in response["Cache-Control"], name
        body = json.loads(response.content)
        dialect = "b2b" if path.startswith("/api/customers") else "other"
        assert request_id_in(dialect, body) == response["X-Request-ID"], (name, body)
        assert str(outage).split("\n")[0] not in response.content.decode(), name
        logged = [r for r in caplog.records if r.exc_info and r.exc_info[1].__cause__ is outage]
        assert logged and logged[0].request_id == response["X-Request-ID"], name


def _wrapped(django_error, driver_error):
    """A driver error as Django raises it (DatabaseErrorWrapper chains the driver's error)."""
    try:
        raise django_error from driver_error
    except django_error.__class__ as exc:
        return exc


def _sqlite(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("sqlite")
    error.sqlite_errorcode = code
    return error


def test_only_connection_level_driver_errors_count_as_an_outage():
    import psycopg
    from psycopg import errors as pg

    outage, not_outage = OperationalError("db"), OperationalError("db")
    cases = {
        "psycopg: refused or lost connection": (psycopg.OperationalError("refused"), True),
        "psycopg: connection closed": (psycopg.InterfaceError("closed"), True),
        "PostgreSQL shutting down": (pg.AdminShutdown("57P01"), True),
        "PostgreSQL starting up": (pg.CannotConnectNow("57P03"), True),
        "PostgreSQL out of connections": (pg.TooManyConnections("53300"), True),
        "PostgreSQL connection failure": (pg.ConnectionFailure("08006"), True),
        "statement timeout": (pg.QueryCanceled("57014"), False),
        "deadlock": (pg.DeadlockDetected("40P01"), False),
        "SQLite cannot open the file": (_sqlite(14), True),
        "SQLite busy past the timeout": (_sqlite(5), True),
        "SQLite disk I/O error": (_sqlite(10 | (3 << 8)), True),
        "SQLite no such table": (_sqlite(1), False),
    }
    wrong = []
    for name, (driver_error, expected) in cases.items():
        error = _wrapped(outage if expected else not_outage, driver_error)
        if database_unreachable(error) is not expected:
            wrong.append(name)
    assert not wrong, wrong
    assert not database_unreachable(OperationalError("raised by our code: no driver error"))
    assert not database_unreachable(_wrapped(IntegrityError("dup"), psycopg.IntegrityError("x")))


def test_every_operation_documents_503_with_retry_after():
    document = openapi()
    operations = [
        (path, method, operation)
        for path, ops in document["paths"].items()
        for method, operation in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 40
    for path, method, operation in operations:
        answer = operation["responses"].get("503")
        assert answer, f"{method.upper()} {path}"
        assert answer["headers"]["Retry-After"]["required"] is True


@pytest.mark.parametrize(
    "database_url",
    [
        "postgres://postgres@127.0.0.1:1/hub_unreachable",
        "sqlite:////nonexistent-hub-directory/db.sqlite3",
    ],
    ids=["postgresql refused", "sqlite cannot open"],
)
def test_a_server_whose_database_is_unreachable_answers_503(database_url):
    """The whole stack with production settings, against a database that is not there."""
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "client = Client(raise_request_exception=False)\n"
        "calls = {\n"
        "  'data': ('/api/data/customer', {'HTTP_X_TENANT_ID': 'acme'}),\n"
        "  'b2b': ('/api/customers', {}),\n"
        "  'healthz': ('/healthz', {}),\n"
        "}\n"
        "out = {}\n"
        "for name, (path, headers) in calls.items():\n"
        "    r = client.get(path, secure=True, HTTP_AUTHORIZATION='Bearer ' + 'a' * 64, **headers)\n"
        "    out[name] = [r.status_code, r.get('Retry-After'), r.content.decode()]\n"
        "print(json.dumps(out))\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "outage-test-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    env.pop("DATABASE_REPLICA_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for name in ("data", "b2b"):
        status, retry_after, raw = out[name]
        assert status == 503, (name, status, raw)
        assert int(retry_after) >= 1
        body = json.loads(raw)
        assert (body.get("error") or body)["message"]
        assert "127.0.0.1" not in raw and "nonexistent" not in raw
    assert out["healthz"][0] == 503
    assert "answered 503" in done.stderr  # logged
