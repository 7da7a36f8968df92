"""Limits keyed on who is calling (issue 17 item 6, issue 18 item 3): the API rate per
authenticated principal, client addresses through trusted proxies only, the lockout of
(user name, address) shared by the API and the admin login, and the database store."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from tenants import throttling
from tenants.models import LimitCounter
from tenants.proxies import client_ip
from tenants.services import user_token_issue
from tests.conftest import HubClient, api_key_client, json_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def _rates(settings, **rates):
    current = dict(django_settings.REST_FRAMEWORK)
    current["DEFAULT_THROTTLE_RATES"] = {**current["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = current


def _login(client, username, password, path="/api/auth/login", **extra):
    return client.post(path, {"username": username, "password": password}, format="json", **extra)


@pytest.fixture(params=["cache", "database"])
def limits_store(request, settings):
    """Each policy test runs on both stores: the cache (local memory here, Redis in
    production) and the database table that shares limits without Redis."""
    settings.HUB_LIMITS_STORE = request.param
    yield request.param
    if request.param == "database":
        assert LimitCounter.objects.exists(), "the database store was not used"


# --- the API rate per authenticated principal ------------------------------------------------


def _spellings(world) -> dict[str, list[str]]:
    _, token = user_token_issue(user=world.agent)
    key = world.api_key.secret

    def basic(password: str) -> str:
        return "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()

    return {
        "token": [f"Bearer {token}", f"bearer {token}", f"BEARER {token}", f"Bearer  {token}"],
        "api_key": [key, f"Bearer {key}", basic(""), basic("anything"), basic("else")],
    }


@pytest.mark.parametrize("credential", ["token", "api_key"])
def test_api_rate_counts_the_principal_however_its_credential_is_spelled(
    world, settings, limits_store, credential
):
    """One knox token, or one API key, is one budget: the case of ``Bearer``, the spaces, the
    form (bare, Bearer, Basic) and a Basic password do not make a new one."""
    spellings = _spellings(world)[credential]
    _rates(settings, api=f"{len(spellings) - 1}/min")
    client = HubClient()
    answers = [
        client.get("/api/auth/me", HTTP_AUTHORIZATION=value).status_code for value in spellings
    ]
    assert answers == [200] * (len(spellings) - 1) + [429]


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer " + "x" * 64,
        "Bearer chk_not-a-key",
        "chk_not-a-key",
        "Basic " + base64.b64encode(b"chk_not-a-key:").decode(),
    ],
)
def test_refused_credentials_count_on_the_client_address(
    world, settings, limits_store, authorization
):
    """Guessing tokens or keys is rate limited: DRF's throttles run only after a successful
    authentication, so a refused credential is counted on the client's address."""
    _rates(settings, api="3/min")
    client = HubClient()
    path = f"/v1/{world.tenant.slug}/peppered/export/clienttypes"
    for _ in range(3):
        response = client.get(path, HTTP_AUTHORIZATION=authorization, REMOTE_ADDR="10.1.0.1")
        assert response.status_code == 401
    throttled = client.get(path, HTTP_AUTHORIZATION=authorization, REMOTE_ADDR="10.1.0.1")
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    # Another address has its own budget; a valid key is its own principal.
    other = client.get(path, HTTP_AUTHORIZATION=authorization, REMOTE_ADDR="10.1.0.2")
    assert other.status_code == 401
    assert (
        api_key_client(world.api_key, "bare").get(path, REMOTE_ADDR="10.1.0.1").status_code == 200
    )


# --- client addresses through trusted proxies only -------------------------------------------


def _meta(remote: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return SimpleNamespace(META=meta)


def test_client_ip_trusts_forwarded_for_only_through_the_configured_proxies(settings):
    settings.HUB_TRUSTED_PROXIES = 0
    assert client_ip(_meta("10.0.0.1", "198.51.100.7")) == "10.0.0.1"
    settings.HUB_TRUSTED_PROXIES = 1
    assert client_ip(_meta("10.0.0.1", "198.51.100.7")) == "198.51.100.7"
    # What the client wrote itself is left of what the proxy appended.
    assert client_ip(_meta("10.0.0.1", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_meta("10.0.0.1", "1.2.3.4,198.51.100.7 , ")) == "198.51.100.7"
    assert client_ip(_meta("10.0.0.1")) == "10.0.0.1"  # not through the proxy
    assert client_ip(_meta("10.0.0.1", "1.2.3.4, not-an-address")) == "10.0.0.1"
    assert client_ip(_meta("10.0.0.1", "2001:db8::1")) == "2001:db8::1"
    settings.HUB_TRUSTED_PROXIES = 2  # a load balancer, then nginx
    assert client_ip(_meta("10.0.0.1", "1.2.3.4, 198.51.100.7, 10.0.0.9")) == "198.51.100.7"


def test_a_forged_forwarded_for_gets_no_fresh_login_budget(world, password, settings, limits_store):
    """No trusted proxy (the default): the header is ignored, whatever it says."""
    _rates(settings, login="3/min")
    client = HubClient()
    answers = [
        _login(
            client,
            f"nobody-{i}",
            "wrong",
            REMOTE_ADDR="10.2.0.1",
            HTTP_X_FORWARDED_FOR=f"10.9.9.{i}",
        ).status_code
        for i in range(5)
    ]
    assert answers == [401, 401, 401, 429, 429]


def test_behind_one_trusted_proxy_the_appended_address_is_the_client(
    world, password, settings, limits_store
):
    """Behind nginx (HUB_TRUSTED_PROXIES=1): every client comes from the proxy's address, the
    rate counts the address the proxy appended, and what a client prepends is ignored."""
    settings.HUB_TRUSTED_PROXIES = 1
    _rates(settings, login="3/min")
    client = HubClient()

    def attempt(i: int, client_address: str) -> int:
        forwarded = f"10.9.9.{i}, {client_address}"
        return _login(
            client, f"nobody-{i}", "wrong", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        ).status_code

    assert [attempt(i, "198.51.100.7") for i in range(4)] == [401, 401, 401, 429]
    assert attempt(9, "198.51.100.8") == 401


# --- one login policy: lockout of (user name, address), shared by the API and the admin ------


def test_a_lockout_from_one_address_does_not_lock_the_user_out_elsewhere(
    world, password, limits_store
):
    """An anonymous caller who fails five times locks only its own (name, address) pair."""
    client = HubClient()
    for _ in range(django_settings.HUB_LOGIN_LOCKOUT_ATTEMPTS):
        assert _login(client, "acme-agent", "wrong", REMOTE_ADDR="10.3.0.1").status_code == 401
    locked = _login(client, "acme-agent", password, REMOTE_ADDR="10.3.0.1")
    assert locked.status_code == 429
    assert "locked" in json_of(locked)["message"]
    assert _login(client, "acme-agent", password, REMOTE_ADDR="10.3.0.2").status_code == 200


def test_a_spent_user_name_budget_does_not_keep_its_owner_out_of_a_known_address(
    world, password, settings, limits_store
):
    """The per-name rate slows a guess spread over many addresses; an address that logged in
    as that user before is not subject to it, so spending the budget keeps nobody out."""
    _rates(settings, login_username="4/min")
    client = HubClient()
    # The owner's first login from this address counts; it makes the address known.
    assert _login(client, "acme-agent", password, REMOTE_ADDR="10.4.0.100").status_code == 200
    for i in range(3):
        assert _login(client, "acme-agent", "wrong", REMOTE_ADDR=f"10.4.0.{i}").status_code == 401
    assert _login(client, "acme-agent", "wrong", REMOTE_ADDR="10.4.0.50").status_code == 429
    assert _login(client, "acme-agent", password, REMOTE_ADDR="10.4.0.51").status_code == 429
    assert _login(client, "acme-agent", password, REMOTE_ADDR="10.4.0.100").status_code == 200


@pytest.fixture
def staff(db):
    return UserFactory(username="backoffice", is_staff=True, is_superuser=True)


def _admin_login(client, username, password, **extra):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}, **extra
    )


def test_admin_login_locks_out_with_a_clear_message(staff, password, limits_store):
    client = Client()
    for _ in range(django_settings.HUB_LOGIN_LOCKOUT_ATTEMPTS):
        refused = _admin_login(client, "backoffice", "wrong")
        assert refused.status_code == 200
        assert b"Please enter the correct username and password" in refused.content
    locked = _admin_login(client, "backoffice", password)
    assert locked.status_code == 200
    assert b"Too many failed logins for this user name from your address" in locked.content
    assert b"locked for 15 minutes" in locked.content
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still the login page
    # The same user from another address logs in.
    assert _admin_login(Client(REMOTE_ADDR="10.5.0.2"), "backoffice", password).status_code == 302


def test_admin_and_api_logins_count_failures_together(staff, password, limits_store):
    """One policy: failures in the admin and on the API lock the same (name, address)."""
    client = Client()
    api = HubClient()
    attempts = django_settings.HUB_LOGIN_LOCKOUT_ATTEMPTS
    for index in range(attempts):
        if index % 2:
            assert _login(api, "backoffice", "wrong").status_code == 401
        else:
            assert _admin_login(client, "backoffice", "wrong").status_code == 200
    assert _login(api, "backoffice", password, "/api/auth/token").status_code == 429
    assert b"locked for" in _admin_login(client, "backoffice", password).content


def test_admin_login_is_rate_limited_per_address(staff, password, settings, limits_store):
    _rates(settings, login="3/min")
    client = Client()
    for i in range(3):
        assert b"Please enter the correct" in _admin_login(client, f"guess-{i}", "wrong").content
    throttled = _admin_login(client, "backoffice", password)
    assert b"Too many login attempts. Try again in" in throttled.content
    assert "_auth_user_id" not in client.session


# --- the database store -----------------------------------------------------------------------


def test_database_store_counts_in_windows_and_keeps_marks(settings, monkeypatch):
    store = throttling.DatabaseStore()
    now = [1_000_000.0]
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    assert [store.incr("t:a", 60)[0] for _ in range(3)] == [1, 2, 3]
    assert store.incr("t:b", 60) == (1, now[0] + 60)
    assert store.incr("t:a", 60) == (4, now[0] + 60)
    now[0] += 59
    assert store.incr("t:a", 60)[0] == 5
    now[0] += 1  # the window of "t:a" has ended: a new one starts
    assert store.incr("t:a", 60) == (1, now[0] + 60)
    store.mark("lock", 30)
    assert store.marked_for("lock") == 30
    now[0] += 10
    assert store.marked_for("lock") == 20
    store.delete("lock")
    assert store.marked_for("lock") == 0
    assert LimitCounter.objects.count() == 2
    now[0] += 120
    assert store.purge() == 2
    assert not LimitCounter.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_database_store_counts_every_concurrent_hit_once(postgres_only):
    """Concurrent counts from real threads, each with its own connection: the upsert is
    atomic, so the counts are 1..N with no duplicate and no loss (a get-then-set would lose
    some). PostgreSQL only: SQLite's in-memory test database is one shared cache whose table
    locks fail instead of waiting; tests/test_limits_processes.py covers a SQLite file."""
    store = throttling.DatabaseStore()
    name = f"race:{uuid.uuid4().hex}"
    threads_count = 20
    barrier = threading.Barrier(threads_count)
    results: list = [None] * threads_count

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = store.incr(name, 60)[0]
        except BaseException as exc:  # reported below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r for r in results if not isinstance(r, int)] == []
    assert sorted(results) == list(range(1, threads_count + 1))


# --- configuration: production shares its limits, the deploy check warns when not ------------


def _settings_env(tmp_path, **extra) -> dict:
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "HUB_", "REDIS_"))
        },
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 20 + "production-secret-key-with-enough-entropy-0123456789",
        "DJANGO_ALLOWED_HOSTS": "hub.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path}/deploy.sqlite3",
    }
    env.update(extra)
    return env


def _setting(env, name):
    code = (
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.check_output(
        [sys.executable, "-c", code], env=env, cwd=ROOT, text=True
    ).strip()


def test_production_without_redis_shares_limits_through_the_database(tmp_path):
    assert _setting(_settings_env(tmp_path), "HUB_LIMITS_STORE") == "database"
    with_redis = _settings_env(tmp_path, REDIS_URL="redis://cache.internal:6379/0")
    assert _setting(with_redis, "HUB_LIMITS_STORE") == "cache"
    assert _setting(_settings_env(tmp_path, DJANGO_DEBUG="1"), "HUB_LIMITS_STORE") == "cache"


def test_check_deploy_refuses_limits_counted_per_process(tmp_path):
    """Several gunicorn workers (deploy/gunicorn.conf.py's default) counting alone: an error;
    one worker: a warning (another machine would still count alone); a shared store: quiet."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_settings_env(tmp_path, HUB_LIMITS_STORE="cache", GUNICORN_WORKERS="4"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "tenants.E002" in result.stdout + result.stderr
    assert "4 gunicorn workers would each count alone" in result.stdout + result.stderr
    single = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_settings_env(tmp_path, HUB_LIMITS_STORE="cache", GUNICORN_WORKERS="1"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert single.returncode == 0, single.stdout + single.stderr
    assert "tenants.W001" in single.stdout + single.stderr
    assert "counted per process" in single.stdout + single.stderr
    shared = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=_settings_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "tenants.W001" not in shared.stdout + shared.stderr
    assert "tenants.E002" not in shared.stdout + shared.stderr
