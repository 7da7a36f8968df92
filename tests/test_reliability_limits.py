"""Limits (OWASP API4): rate limits per credential and per IP/user name on the password
endpoints, login lockout in the shared cache (Redis when REDIS_URL is set), body size, page
sizes, bulk sizes, string lengths."""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings as django_settings

from tenants import throttling
from tests.conftest import HubClient, api_key_client, bearer_client, json_of
from tests.reliability_support import DIALECTS, create_case, request_id_in, route_exists

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _rates(settings, **rates):
    current = dict(django_settings.REST_FRAMEWORK)
    current["DEFAULT_THROTTLE_RATES"] = {**current["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = current


def _login(client, username, password, path="/api/auth/login", **extra):
    return client.post(path, {"username": username, "password": password}, format="json", **extra)


# --- lockout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/token"])
def test_lockout_after_repeated_failures_refuses_even_the_right_password(world, password, path):
    client = HubClient()
    attempts = django_settings.HUB_LOGIN_LOCKOUT_ATTEMPTS
    for _ in range(attempts):
        assert _login(client, "acme-agent", "wrong", path).status_code == 401
    locked = _login(client, "acme-agent", password, path)
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= django_settings.HUB_LOGIN_LOCKOUT_MINUTES * 60
    body = json_of(locked)
    assert body["code"] == "throttled"
    assert body["requestId"] == locked["X-Request-ID"]
    # Another user name is not affected (per user name, not global).
    assert _login(client, "acme-viewer", password, path).status_code in (200, 201)


def test_lockout_is_shared_by_login_and_token_and_ignores_case(world, password):
    client = HubClient()
    for index in range(django_settings.HUB_LOGIN_LOCKOUT_ATTEMPTS):
        path = "/api/auth/login" if index % 2 else "/api/auth/token"
        assert _login(client, "ACME-agent", "wrong", path).status_code == 401
    assert _login(client, "acme-agent", password, "/api/auth/token").status_code == 429


def test_lockout_applies_to_unknown_user_names_too(db):
    client = HubClient()
    for _ in range(django_settings.HUB_LOGIN_LOCKOUT_ATTEMPTS):
        assert _login(client, "nobody", "wrong").status_code == 401
    assert _login(client, "nobody", "wrong").status_code == 429


def test_success_clears_the_failure_count(world, password):
    client = HubClient()
    for _ in range(2):
        for _ in range(django_settings.HUB_LOGIN_LOCKOUT_ATTEMPTS - 1):
            assert _login(client, "acme-agent", "wrong").status_code == 401
        assert _login(client, "acme-agent", password).status_code == 200


def test_lock_expires(world, password, settings):
    settings.HUB_LOGIN_LOCKOUT_MINUTES = 2 / 60  # 2 seconds
    settings.HUB_LOGIN_LOCKOUT_ATTEMPTS = 2
    client = HubClient()
    for _ in range(2):
        _login(client, "acme-agent", "wrong")
    assert _login(client, "acme-agent", password).status_code == 429
    time.sleep(2.2)
    assert _login(client, "acme-agent", password).status_code == 200


# --- rates on the password endpoints ----------------------------------------------------------


def test_login_rate_per_ip(world, password, settings):
    _rates(settings, login="3/min")
    client = HubClient()
    for _ in range(3):
        assert _login(client, "acme-agent", password, REMOTE_ADDR="10.0.0.1").status_code == 200
    throttled = _login(client, "acme-agent", password, REMOTE_ADDR="10.0.0.1")
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert json_of(throttled)["requestId"] == throttled["X-Request-ID"]
    # Another IP has its own budget.
    assert _login(client, "acme-viewer", password, REMOTE_ADDR="10.0.0.2").status_code == 200


def test_token_rate_per_user_name_across_ips(world, password, settings):
    _rates(settings, login_username="2/min")
    client = HubClient()
    for index in range(2):
        ip = f"10.0.1.{index}"
        assert (
            _login(client, "acme-agent", password, "/api/auth/token", REMOTE_ADDR=ip).status_code
            == 201
        )
    throttled = _login(client, "acme-agent", password, "/api/auth/token", REMOTE_ADDR="10.0.1.9")
    assert throttled.status_code == 429
    assert throttled.has_header("Retry-After")
    assert _login(client, "acme-viewer", password, "/api/auth/token").status_code == 201


# --- API rate per credential ----------------------------------------------------------------


def _read_request(dialect, world):
    slug = world.tenant.slug
    return {
        "data": (bearer_client(world.agent, **{"x-tenant-id": slug}), "/api/data/customer?limit=1"),
        "store": (bearer_client(world.agent, **{"x-store-id": str(world.store.id)}), "/customers"),
        "peppered": (
            api_key_client(world.api_key, "bare"),
            f"/v1/{slug}/peppered/export/clienttypes",
        ),
        "b2b": (bearer_client(world.agent), "/api/customers"),
    }[dialect]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_api_rate_per_credential_is_429_with_retry_after_in_the_dialect_format(
    world, settings, dialect
):
    client, path = _read_request(dialect, world)
    if not route_exists(path.split("?")[0]):
        pytest.skip(f"{path} does not exist yet")
    _rates(settings, api="3/min")
    for _ in range(3):
        assert client.get(path).status_code == 200
    throttled = client.get(path)
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert request_id_in(dialect, json_of(throttled)) == throttled["X-Request-ID"]
    # Another credential is not affected.
    if dialect == "peppered":
        other_client = api_key_client(world.viewer_key, "bare")
    else:
        other_client, _ = _read_request(dialect, world)  # a fresh token
    assert other_client.get(path).status_code == 200


def test_default_api_rate_is_generous():
    assert (
        throttling.parse_rate(django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api"])[0]
        >= 10_000
    )
    assert throttling.parse_rate("20/min") == (20, 60)
    assert throttling.parse_rate("5/10s") == (5, 10)
    assert throttling.parse_rate("off") is None


# --- the cache: Redis when REDIS_URL is set ---------------------------------------------------


def test_settings_use_redis_when_redis_url_is_set():
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CACHES['default']))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["REDIS_URL"] = "redis://cache.internal:6379/0"
    with_redis = json.loads(subprocess.check_output([sys.executable, "-c", code], env=env))
    assert with_redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert with_redis["LOCATION"] == "redis://cache.internal:6379/0"
    env.pop("REDIS_URL")
    without = json.loads(subprocess.check_output([sys.executable, "-c", code], env=env))
    assert without["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.fixture
def redis_cache(settings):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("HUB_REQUIRE_REDIS"):  # .ci/run sets it when it has a Redis server
            raise
        pytest.skip(f"no Redis server at {REDIS_URL}")
    prefix = f"hub-test-{uuid.uuid4().hex[:8]}"
    config = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": prefix,
    }
    settings.CACHES = {"default": config}
    yield config
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_lockout_lives_in_redis_and_holds_for_another_worker(world, password, redis_cache):
    from django.core.cache.backends.redis import RedisCache

    client = HubClient()
    for _ in range(django_settings.HUB_LOGIN_LOCKOUT_ATTEMPTS):
        assert _login(client, "acme-agent", "wrong").status_code == 401
    # "Another worker": a separate Redis client with the same configuration sees the lock.
    other_worker = RedisCache(redis_cache["LOCATION"], {"KEY_PREFIX": redis_cache["KEY_PREFIX"]})
    _, lock_key = throttling._keys("acme-agent", "127.0.0.1")
    assert other_worker.get(throttling.PREFIX + lock_key) is not None
    assert _login(client, "acme-agent", password).status_code == 429


def test_api_rate_counts_in_redis(world, settings, redis_cache):
    _rates(settings, api="2/min")
    client = bearer_client(world.agent)
    assert client.get("/api/auth/me").status_code == 200
    assert client.get("/api/auth/me").status_code == 200
    assert client.get("/api/auth/me").status_code == 429


# --- body size, page sizes, bulk sizes, string lengths ----------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_oversized_body_is_413_in_the_dialect_format(world, dialect):
    case = create_case(dialect, world)
    if not route_exists(case.path, "POST"):
        pytest.skip(f"POST {case.path} does not exist yet")
    body = json.dumps({"notes": "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = case.client.post(case.path, body, content_type="application/json")
    assert response.status_code == 413
    assert request_id_in(dialect, json_of(response)) == response["X-Request-ID"]


PAGE_LIMITS = [
    ("data", "/api/data/customer?limit=1001"),
    ("data", "/api/data/customer?limit=0"),
    ("store", "/customers?limit=101"),
    ("store", "/customers?page=0"),
    ("b2b", "/api/customers?limit=101"),
    ("b2b", "/api/customers?page=0"),
]


@pytest.mark.parametrize(("dialect", "path"), PAGE_LIMITS)
def test_page_size_out_of_range_is_400(world, dialect, path):
    client, _ = _read_request(dialect, world)
    if not route_exists(path.split("?")[0]):
        pytest.skip(f"{path} does not exist yet")
    response = client.get(path)
    assert response.status_code == 400
    assert request_id_in(dialect, json_of(response)) == response["X-Request-ID"]


def test_bulk_size_is_bounded(world):
    if not route_exists("/customers/bulk", "DELETE"):
        pytest.skip("DELETE /customers/bulk does not exist yet")
    client = bearer_client(world.agent, **{"x-store-id": str(world.store.id)})
    ids = [str(uuid.uuid4()) for _ in range(1001)]
    response = client.delete("/customers/bulk", {"ids": ids}, format="json")
    assert response.status_code == 400


LONG_STRINGS = [
    ("data", "discordUsername", 101),
    ("store", "localName", 256),
    ("peppered", "customerFirstName", 256),
    ("b2b", "name", 256),
]


@pytest.mark.parametrize(("dialect", "field", "length"), LONG_STRINGS)
def test_oversized_strings_are_refused(world, dialect, field, length):
    case = create_case(dialect, world)
    if not route_exists(case.path, "POST"):
        pytest.skip(f"POST {case.path} does not exist yet")
    body = {**case.body(1), field: "x" * length}
    response = case.client.post(case.path, body, format="json")
    assert response.status_code == (422 if dialect == "peppered" else 400)
    assert field in json.dumps(json_of(response))
