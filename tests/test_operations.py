"""Operating the hub (issue 23): the request log line, the metrics, readiness, the project's
deploy checks. The personal-data scan of the logs is tests/test_operations_privacy.py; the
metrics of several gunicorn workers are tests/test_operations_processes.py."""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
import uuid
from unittest import mock

import pytest
from django.core.cache import cache
from django.db import DatabaseError
from django.test import Client
from django.urls import Resolver404, clear_url_caches, resolve
from prometheus_client import REGISTRY

from tenants import checks, metrics, readiness
from tenants.context import carried, current_request_id, request_id_bound, runs_with_request_id
from tenants.logs import JsonFormatter
from tests.conftest import api_key_client, bearer_client
from tests.factories import CustomerFactory
from tests.live_servers import ROOT

pytestmark = pytest.mark.django_db

DATA_ROUTE = "api/data/customer/<str:id>"


def _request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "hub.request"]


def _as_json(record: logging.LogRecord) -> dict:
    return json.loads(JsonFormatter().format(record))


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- the request line ---------------------------------------------------------------------------


def test_request_line_names_the_route_template_tenant_actor_and_request_id(world, caplog):
    customer = CustomerFactory(tenant=world.tenant)
    client = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})
    caplog.set_level(logging.INFO, logger="hub.request")
    response = client.get(f"/api/data/customer/{customer.uuid}", HTTP_X_REQUEST_ID="trace-42")
    assert response.status_code == 200
    [record] = _request_lines(caplog)
    line = _as_json(record)
    assert line["route"] == DATA_ROUTE  # the pattern, not the path with its id
    assert str(customer.uuid) not in json.dumps(line)
    assert line["method"] == "GET" and line["status"] == 200
    assert line["dialect"] == "data" and line["tenant"] == world.tenant.slug
    assert line["actor_kind"] == "user" and line["actor_id"] == str(world.agent.pk)
    assert line["request_id"] == "trace-42" == response["X-Request-ID"]
    assert line["bytes"] == len(response.content)
    assert line["queries"] >= 1 and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["logger"] == "hub.request" and line["timestamp"]


def test_request_line_of_an_api_key_names_the_key_not_its_secret(world, caplog):
    caplog.set_level(logging.INFO, logger="hub.request")
    response = api_key_client(world.api_key, "bare").get(
        f"/v1/{world.tenant.slug}/peppered/customer/999999"
    )
    assert response.status_code == 404
    line = _as_json(_request_lines(caplog)[-1])
    assert line["actor_kind"] == "api_key" and line["actor_id"] == str(world.api_key.pk)
    assert line["route"] == "v1/<str:client_name>/peppered/customer/<str:customerId>"
    assert line["dialect"] == "peppered" and line["status"] == 404
    assert world.api_key.secret not in json.dumps(line)


def test_request_line_of_an_anonymous_unmatched_request(caplog):
    caplog.set_level(logging.INFO, logger="hub.request")
    Client().get("/no/such/page/someone@example.com")
    line = _as_json(_request_lines(caplog)[-1])
    assert line["route"] == "<unmatched>" and line["status"] == 404
    assert line["actor_kind"] == "anonymous" and line["actor_id"] is None
    assert line["tenant"] is None and line["dialect"] == "none"
    assert "someone" not in json.dumps(line)
    Client().get("/static/admin/css/no-such-file.css")
    assert _as_json(_request_lines(caplog)[-1])["route"] == "<static>"


def test_a_streamed_answer_is_logged_after_its_last_byte(world, caplog):
    CustomerFactory.create_batch(3, tenant=world.tenant)
    client = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})
    caplog.set_level(logging.INFO, logger="hub.request")
    response = client.get("/api/data/customer")
    assert response.streaming
    content = b"".join(response.streaming_content)  # (the test client has read it already)
    response.close()
    [record] = _request_lines(caplog)
    line = _as_json(record)
    assert line["bytes"] == len(content) and len(json.loads(content)) >= 3
    assert line["route"] == "api/data/customer" and line["tenant"] == world.tenant.slug
    assert line["queries"] >= 2  # the stream's batches are counted too


def test_request_id_is_carried_into_background_work(caplog):
    caplog.set_level(logging.INFO)
    assert current_request_id() == "-"
    with request_id_bound("req-from-the-api") as bound:
        assert bound == "req-from-the-api"
        logging.getLogger("hub.tasks").info("delivering")
    with request_id_bound("not a sane id!") as fresh:
        assert fresh != "not a sane id!" and len(fresh) == 32
    assert current_request_id() == "-"
    record = next(r for r in caplog.records if r.name == "hub.tasks")
    assert _as_json(record)["request_id"] == "req-from-the-api"


@runs_with_request_id
def _task(*, seen: list):
    seen.append(current_request_id())
    logging.getLogger("hub.tasks").info("task ran")


def test_a_task_runs_under_the_request_id_it_was_given(caplog):
    caplog.set_level(logging.INFO)
    seen = []
    with request_id_bound("req-7"):
        arguments = carried()
    assert arguments == {"request_id": "req-7"}
    _task(seen=seen, **arguments)
    _task(seen=seen)  # enqueued outside a request: a fresh id
    assert seen[0] == "req-7" and seen[1] not in {"req-7", "-"}
    lines = [_as_json(r) for r in caplog.records if r.name == "hub.tasks"]
    assert [line["request_id"] for line in lines] == seen
    assert current_request_id() == "-"


def test_every_log_line_is_json_in_production(tmp_path):
    """DEBUG off: the request line, Django's own and the project's lines are JSON objects."""
    script = (
        "import logging, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "Client().get('/healthz', secure=True)\n"
        "logging.getLogger('hub.limits').warning('Login locked for %d s', 900)\n"
        "logging.getLogger('django.security.DisallowedHost').error('Invalid host')\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HUB_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "logs-test-" + "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path}/logs.sqlite3",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert {line["logger"] for line in lines} >= {
        "hub.request",
        "hub.limits",
        "django.security.DisallowedHost",
    }
    assert next(line for line in lines if line["logger"] == "hub.request")["route"] == "healthz"


# --- metrics --------------------------------------------------------------------------------------


def test_requests_are_counted_by_dialect_route_and_status_class(world):
    customer = CustomerFactory(tenant=world.tenant)
    client = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})
    labels = {"dialect": "data", "route": DATA_ROUTE, "method": "GET", "status_class": "2xx"}
    before = _sample("hub_http_requests_total", **labels)
    queries = _sample("hub_db_queries_per_request_count", dialect="data", route=DATA_ROUTE)
    duration = _sample(
        "hub_http_request_duration_seconds_count",
        dialect="data",
        route=DATA_ROUTE,
        status_class="2xx",
    )
    tenant = _sample("hub_tenant_requests_total", tenant=world.tenant.slug)
    for _ in range(3):
        assert client.get(f"/api/data/customer/{customer.uuid}").status_code == 200
    assert client.get(f"/api/data/customer/{uuid.uuid4()}").status_code == 404
    assert _sample("hub_http_requests_total", **labels) == before + 3
    assert _sample("hub_http_requests_total", **{**labels, "status_class": "4xx"}) >= 1
    assert (
        _sample("hub_db_queries_per_request_count", dialect="data", route=DATA_ROUTE) == queries + 4
    )
    assert (
        _sample(
            "hub_http_request_duration_seconds_count",
            dialect="data",
            route=DATA_ROUTE,
            status_class="2xx",
        )
        == duration + 3
    )
    assert _sample("hub_tenant_requests_total", tenant=world.tenant.slug) == tenant + 4
    assert _sample("hub_http_requests_in_flight") == 0  # every answer sent


def test_a_request_in_flight_is_counted_until_its_stream_ends(world):
    CustomerFactory(tenant=world.tenant)
    client = bearer_client(world.agent, **{"x-tenant-id": world.tenant.slug})
    client.check_schema = False  # keep the stream unread
    before = _sample("hub_http_requests_in_flight")
    response = client.get("/api/data/customer")
    assert response.streaming
    assert _sample("hub_http_requests_in_flight") == before + 1
    b"".join(response.streaming_content)
    response.close()
    assert _sample("hub_http_requests_in_flight") == before


def test_labels_stay_bounded(world, settings, monkeypatch):
    monkeypatch.setattr(metrics, "_tenants_seen", set())
    settings.HUB_METRICS_MAX_TENANTS = 1
    assert metrics.tenant_label("acme") == "acme"
    assert metrics.tenant_label("globex") == "other"
    assert metrics.tenant_label("acme") == "acme"
    assert metrics.method_label("BREW") == "other"
    assert metrics.status_class(503) == "5xx"
    # a tenant a caller named but was not granted is never a label
    client = bearer_client(world.agent, **{"x-tenant-id": "made-up-tenant"})
    assert client.get("/api/data/customer?limit=1").status_code == 403
    assert (
        REGISTRY.get_sample_value("hub_tenant_requests_total", {"tenant": "made-up-tenant"}) is None
    )


def test_rate_limit_and_lockout_refusals_are_counted(world, settings):
    settings.HUB_LOGIN_LOCKOUT_ATTEMPTS = 2
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login": "100/min",
            "login_username": "100/min",
            "api": "3/min",
        },
    }
    refused = {k: _sample("hub_limit_refusals_total", limit=k) for k in ("api", "lockout")}
    lockouts = _sample("hub_login_lockouts_total")
    client = Client()
    body = {"username": world.agent.username, "password": "wrong"}
    statuses = [
        client.post("/api/auth/token", body, content_type="application/json").status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 429]
    assert _sample("hub_login_lockouts_total") == lockouts + 1
    assert _sample("hub_limit_refusals_total", limit="lockout") == refused["lockout"] + 1
    token_client = bearer_client(world.agent)
    assert [token_client.get("/api/auth/me").status_code for _ in range(4)][-1] == 429
    assert _sample("hub_limit_refusals_total", limit="api") == refused["api"] + 1


def test_idempotent_replays_are_counted(world):
    client = bearer_client(world.agent)
    body = {"name": "Replay Corp", "email": "orders@replay.example"}
    before = _sample("hub_idempotency_replays_total", dialect="b2b")
    first = client.post("/api/customers", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/customers", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert _sample("hub_idempotency_replays_total", dialect="b2b") == before + 1
    reused = _sample("hub_idempotency_refusals_total", dialect="b2b", reason="key_reused")
    other = client.post(
        "/api/customers", {**body, "name": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422
    assert (
        _sample("hub_idempotency_refusals_total", dialect="b2b", reason="key_reused") == reused + 1
    )


@pytest.fixture
def metrics_routed(settings):
    """config/urls.py evaluated with HUB_METRICS on (and again with it off afterwards)."""
    import config.urls

    settings.HUB_METRICS = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.HUB_METRICS = False
    importlib.reload(config.urls)
    clear_url_caches()


def test_metrics_url_is_absent_unless_enabled():
    with pytest.raises(Resolver404):
        resolve("/metrics")
    assert Client().get("/metrics").status_code == 404


def test_metrics_need_the_token_and_an_allowed_address(metrics_routed, settings):
    settings.DEBUG = False
    settings.HUB_METRICS_TOKEN = ""
    settings.HUB_METRICS_ALLOW = []
    client = Client()
    assert client.get("/metrics").status_code == 403  # unprotected: answers nobody
    token = "t" * 40
    settings.HUB_METRICS_TOKEN = token
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"hub_http_requests_total" in response.content
    settings.HUB_METRICS_ALLOW = ["10.0.0.0/8"]
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403
    settings.HUB_METRICS_ALLOW = ["127.0.0.0/8"]
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    settings.HUB_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200  # the allow-list alone
    # through one trusted proxy, the forwarded address is the one checked
    settings.HUB_TRUSTED_PROXIES = 1
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403


def test_scrape_time_gauges(metrics_routed, settings):
    settings.DEBUG = True  # unprotected, for the test
    metrics.register_gauge("hub_test_backlog", "Events waiting.", lambda: 7)
    metrics.register_gauge(
        "hub_test_per_kind", "By kind.", lambda: [(("a",), 1), (("b",), 2)], labels=["kind"]
    )
    metrics.register_gauge("hub_test_broken", "Fails.", lambda: 1 / 0)
    try:
        text = Client().get("/metrics").content.decode()
    finally:
        for name in ("hub_test_backlog", "hub_test_per_kind", "hub_test_broken"):
            metrics.unregister_gauge(name)
    assert "hub_test_backlog 7.0" in text
    assert 'hub_test_per_kind{kind="b"} 2.0' in text
    assert 'hub_scrape_gauge_up{gauge="hub_test_backlog"} 1.0' in text
    assert 'hub_scrape_gauge_up{gauge="hub_test_broken"} 0.0' in text
    assert "hub_test_broken " not in text


# --- readiness ------------------------------------------------------------------------------------

#: /readyz asks every database alias (a replica too, which tests/test_perf_router.py declares);
#: transactional, so that no test transaction holds the mirror's SQLite file
every_database = pytest.mark.django_db(transaction=True, databases="__all__")


@every_database
def test_readyz_checks_the_database_and_the_cache():
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) >= {"database", "cache"}


@every_database
def test_readyz_names_a_failing_cache():
    with mock.patch.object(cache, "get", side_effect=ConnectionError("redis is down")):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache"]
    assert body["checks"]["cache"] == {
        "status": "failing",
        "detail": "ConnectionError",
        "ms": body["checks"]["cache"]["ms"],
    }
    assert body["checks"]["database"]["status"] == "ok"


@every_database
def test_readyz_names_a_failing_database_while_healthz_is_liveness_only():
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=DatabaseError("down")
    ):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


@every_database
def test_readyz_runs_registered_checks():
    readiness.register_check("worker", lambda: "no worker seen for 75 s")
    readiness.register_check("queue", lambda: None)
    try:
        response = Client().get("/readyz")
    finally:
        readiness.unregister_check("worker")
        readiness.unregister_check("queue")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    assert body["checks"]["worker"]["detail"] == "no worker seen for 75 s"
    assert body["checks"]["queue"]["status"] == "ok"
    assert Client().get("/readyz").status_code == 200


# --- deploy checks --------------------------------------------------------------------------------


def _ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_check_limits_store(settings, monkeypatch):
    settings.HUB_LIMITS_STORE = "cache"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    assert _ids(checks.limits_shared_across_processes(None)) == ["tenants.E002"]
    monkeypatch.setenv("GUNICORN_WORKERS", "1")
    assert _ids(checks.limits_shared_across_processes(None)) == ["tenants.W001"]
    settings.HUB_LIMITS_STORE = "database"
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    assert checks.limits_shared_across_processes(None) == []
    settings.HUB_LIMITS_STORE = "carrier-pigeon"
    assert _ids(checks.limits_shared_across_processes(None)) == ["tenants.E001"]


def test_check_webhooks_loopback(settings):
    assert checks.webhooks_loopback_off(None) == []
    settings.HUB_WEBHOOKS_ALLOW_LOOPBACK = True
    assert _ids(checks.webhooks_loopback_off(None)) == ["tenants.E003"]


def test_check_metrics_protected(settings):
    settings.HUB_METRICS = False
    settings.HUB_METRICS_TOKEN = ""
    settings.HUB_METRICS_ALLOW = []
    assert checks.metrics_protected(None) == []
    settings.HUB_METRICS = True
    assert _ids(checks.metrics_protected(None)) == ["tenants.E004"]
    settings.HUB_METRICS_TOKEN = "short"
    assert _ids(checks.metrics_protected(None)) == ["tenants.W005"]
    settings.HUB_METRICS_TOKEN = "change-me-to-40-random-characters"
    assert _ids(checks.metrics_protected(None)) == ["tenants.E008"]
    settings.HUB_METRICS_TOKEN = "x" * 32
    assert checks.metrics_protected(None) == []
    settings.HUB_METRICS_ALLOW = ["10.0.0.0/8", "not-a-network"]
    assert _ids(checks.metrics_protected(None)) == ["tenants.E005"]


def test_check_secret_key_and_hosts(settings):
    settings.SECRET_KEY = "x" * 60
    settings.ALLOWED_HOSTS = ["hub.example.com"]
    assert checks.secret_key_and_hosts_set(None) == []
    settings.SECRET_KEY = "change-me-to-50-random-characters"
    assert _ids(checks.secret_key_and_hosts_set(None)) == ["tenants.E006"]
    settings.SECRET_KEY = "x" * 60
    for hosts in ([], ["*"], ["localhost", "127.0.0.1"]):
        settings.ALLOWED_HOSTS = hosts
        assert _ids(checks.secret_key_and_hosts_set(None)) == ["tenants.E007"], hosts
