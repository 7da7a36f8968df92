"""The production front of deploy/ (issue 17 item 7, issue 23 item 4): nginx from Debian's
package with deploy/nginx/customer-hub.conf (TLS with a throwaway certificate, the ports,
static path and upstream replaced) in front of gunicorn started as
deploy/systemd/customer-hub.service starts it, with deploy/customer-hub.env.

Skipped when nginx or openssl is missing, unless ``HUB_REQUIRE_NGINX`` is set (.ci/run
installs nginx and sets it, so CI never skips these)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from tests.live_servers import (
    DEPLOY,
    ROOT,
    SlowClients,
    free_port,
    get,
    gunicorn,
    live_database_url,
    nginx,
    production_env,
    request,
    unit_exec_start,
)
from tests.reliability_support import record_figure

SLOW_CLIENTS = 50
METRICS_TOKEN = "front-scrape-" + "m" * 40


@pytest.fixture
def nginx_installed():
    missing = [tool for tool in ("nginx", "openssl") if not shutil.which(tool, path=_path())]
    if missing:
        reason = f"{' and '.join(missing)} not installed (Debian: apt-get install nginx openssl)"
        if os.environ.get("HUB_REQUIRE_NGINX"):
            pytest.fail(reason + "; HUB_REQUIRE_NGINX is set")
        pytest.skip(reason)


def _path() -> str:
    return os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """collectstatic's output, as an operator makes it (production settings)."""
    root = tmp_path_factory.mktemp("static")
    env = production_env("sqlite:///unused.sqlite3", DJANGO_STATIC_ROOT=str(root))
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return root


class Front:
    def __init__(self, https: int, http: int, upstream: int):
        self.https, self.http, self.upstream = https, http, upstream

    def get(self, path: str, **kwargs):
        return get(self.https, path, tls=True, **kwargs)

    def request(self, method: str, path: str, **kwargs):
        return request(self.https, method, path, tls=True, **kwargs)


@pytest.fixture
def front(nginx_installed, transactional_db, tmp_path, static_root):
    """gunicorn (2 workers x 4 threads, the production environment: DEBUG off, TLS redirect
    on, one trusted proxy) behind nginx; yields the ports."""
    env = production_env(
        live_database_url(tmp_path),
        HUB_LOGIN_RATE="3/min",
        # the scraper is 127.0.0.2 with the token (README, "Running in production")
        HUB_METRICS="1",
        HUB_METRICS_TOKEN=METRICS_TOKEN,
        HUB_METRICS_ALLOW="127.0.0.2/32",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    assert env["HUB_TRUSTED_PROXIES"] == "1"  # deploy/customer-hub.env, as nginx needs
    ports = Front(https=free_port(), http=free_port(), upstream=free_port())
    app = gunicorn("gunicorn", ports.upstream, env, tmp_path, "--workers", "2", "--threads", "4")
    proxy = nginx(
        tmp_path,
        http_port=ports.http,
        https_port=ports.https,
        upstream_port=ports.upstream,
        static_root=static_root,
    )
    try:
        app.start()
        app.wait_ready(ports.upstream)
        proxy.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                if ports.get("/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if proxy.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx did not start:\n" + proxy.log())
            time.sleep(0.2)
        yield ports
    finally:
        proxy.stop()
        app.stop()


def _starved(port: int, *, tls: bool, timeout: float) -> tuple[bool, float]:
    """Whether a normal request to ``port`` gets no answer within ``timeout``; its duration."""
    started = time.monotonic()
    try:
        status, _, _ = get(port, "/healthz", tls=tls, timeout=timeout)
    except TimeoutError:
        return True, time.monotonic() - started
    assert status == 200
    return False, time.monotonic() - started


def test_slow_clients_do_not_starve_a_request_through_nginx_but_do_starve_gunicorn(front):
    """50 clients that send a header line every 2 s: through nginx every normal request is
    answered at once; straight to gunicorn they hold all 8 threads and a normal request
    waits for as long as they last (the measurement that shows this test can fail)."""
    # Connections 20 ms apart: gunicorn's two workers share them (a burst may all go to the
    # worker that wins the accept race, leaving the other free).
    with SlowClients(front.https, SLOW_CLIENTS, interval=2.0, tls=True, stagger=0.02):
        time.sleep(2.5)  # every slow client has sent a second line
        through_nginx = [_starved(front.https, tls=True, timeout=5) for _ in range(10)]
    assert [starved for starved, _ in through_nginx] == [False] * 10

    with SlowClients(front.upstream, SLOW_CLIENTS, interval=2.0, stagger=0.02):
        time.sleep(2.5)
        direct, waited = _starved(front.upstream, tls=False, timeout=5)
    assert direct, "gunicorn alone answered despite the slow clients: the test proves nothing"
    # Once the slow clients are gone, gunicorn answers again.
    assert not _starved(front.upstream, tls=False, timeout=10)[0]
    record_figure(
        "slow_clients",
        slow_clients=SLOW_CLIENTS,
        server="gunicorn gthread 2 workers x 4 threads",
        through_nginx_max_seconds=round(max(seconds for _, seconds in through_nginx), 3),
        direct_starved_for_seconds=round(waited, 1),
    )


def _login(front: Front, index: int, source: str, forwarded: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    body = json.dumps({"username": f"nobody-{index}", "password": "wrong"}).encode()
    return front.request("POST", "/api/auth/token", body=body, headers=headers, source=source)[0]


def test_the_forwarded_address_reaches_the_limits_through_exactly_one_proxy(front):
    """Every client reaches gunicorn from nginx's address: the login rate (3/min per address)
    counts the address nginx appended to X-Forwarded-For, and what a client wrote there
    itself gets it no fresh budget."""
    spoofed = [_login(front, i, "127.0.0.2", forwarded=f"203.0.113.{i}") for i in range(5)]
    assert spoofed == [401, 401, 401, 429, 429]
    # Another client (another source address) has its own budget: the limit is not keyed on
    # nginx's address either.
    assert _login(front, 9, "127.0.0.3") == 401
    # X-Forwarded-Proto: over TLS nothing was redirected; plain HTTP is sent to HTTPS.
    status, headers, _ = get(front.http, "/api/auth/me")
    assert status == 301
    assert headers["location"].startswith("https://")


def test_readiness_and_metrics_through_the_front(front):
    """The probe and the scrape of the README's steps, through nginx: /readyz answers; the
    metrics need the token and the scraper's own address, which nginx forwarded (a client
    that writes the scraper's address into X-Forwarded-For is still itself)."""
    status, _, content = front.get("/readyz")
    assert status == 200, content
    assert json.loads(content)["checks"]["database"]["status"] == "ok"
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    status, _, content = front.get("/metrics", headers=bearer, source="127.0.0.2")
    assert status == 200, content
    assert b'hub_http_requests_total{dialect="none",method="GET",route="readyz"' in content
    assert front.get("/metrics", source="127.0.0.2")[0] == 403
    assert front.get("/metrics", headers=bearer, source="127.0.0.3")[0] == 403
    spoofed = {**bearer, "X-Forwarded-For": "127.0.0.2"}
    assert front.get("/metrics", headers=spoofed, source="127.0.0.3")[0] == 403


def test_bodies_and_static_files_at_the_front(front, static_root):
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    headers = {"Content-Type": "application/json"}
    # Up to the limit a body reaches Django (which then asks for credentials)...
    body = b'{"name": "' + b"x" * (limit - 12) + b'"}'
    assert len(body) == limit
    assert front.request("POST", "/api/customers", body=body, headers=headers)[0] == 401
    # ...one byte more is refused by nginx, and answered by Django in the dialect's format.
    status, response_headers, content = front.request(
        "POST", "/api/customers", body=body + b" ", headers=headers
    )
    assert status == 413, content
    assert response_headers["content-type"] == "application/json", content
    error = json.loads(content)["error"]
    assert error["code"] == "payload_too_large"
    assert error["request_id"] == response_headers["x-request-id"]

    # Static files come from collectstatic's output, hashed names cached for good.
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["admin/css/base.css"]
    status, headers, content = front.get(f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    assert "max-age=315360000" in headers["cache-control"]
    status, headers, _ = front.get("/static/admin/css/base.css")
    assert status == 200
    assert headers["cache-control"] == "max-age=3600"


def test_nginx_body_limit_matches_django_and_the_environment_file():
    site = (DEPLOY / "nginx" / "customer-hub.conf").read_text()
    size = re.search(r"^\s*client_max_body_size (\d+)([km]?);", site, re.M)
    nginx_bytes = int(size.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[size.group(2)]
    env = (DEPLOY / "customer-hub.env").read_text()
    env_bytes = int(re.search(r"^DJANGO_MAX_BODY_BYTES=(\d+)$", env, re.M).group(1))
    assert nginx_bytes == env_bytes == django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def test_gunicorn_refuses_several_workers_that_would_count_limits_alone(tmp_path):
    env = production_env(f"sqlite:///{tmp_path}/unused.sqlite3", HUB_LIMITS_STORE="cache")
    result = subprocess.run(
        [*unit_exec_start(), "--bind", f"127.0.0.1:{free_port()}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "would each count rate limits and login lockouts alone" in result.stderr


@pytest.mark.parametrize("name", ["customer-hub.service", "customer-hub-worker.service"])
def test_systemd_unit_is_valid(tmp_path, name):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = (DEPLOY / "systemd" / name).read_text()
    # Point it at this checkout, so that the paths it names exist.
    unit = unit.replace("/srv/customer-hub/venv/bin/gunicorn", unit_exec_start()[0])
    unit = unit.replace("/srv/customer-hub/venv/bin/python", sys.executable)
    unit = unit.replace("/srv/customer-hub/app", str(ROOT))
    unit = unit.replace(
        "EnvironmentFile=/etc/customer-hub/env", f"EnvironmentFile={DEPLOY}/customer-hub.env"
    )
    unit = re.sub(r"^(User|Group)=.*$", r"\1=root", unit, flags=re.M)
    path = tmp_path / name
    path.write_text(unit)
    result = subprocess.run(
        [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in (result.stdout + result.stderr).splitlines() if name in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr
