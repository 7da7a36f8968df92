"""Limits that hold across processes without Redis (issue 17 item 6): two gunicorn servers,
one process each, with the production settings of deploy/customer-hub.env (DEBUG off, no
REDIS_URL: HUB_LIMITS_STORE defaults to the database) on one database (a file SQLite
database, or PostgreSQL's test database). Requests alternate between the two: a limit or a
lockout counted per process would let twice as many through."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tenants.services import user_token_issue
from tests.factories import PASSWORD, UserFactory
from tests.live_servers import free_port, gunicorn, live_database_url, production_env, request
from tests.reliability_support import record_figure

pytestmark = pytest.mark.django_db(transaction=True)

#: the API rate of the servers; the login endpoints count against it per client address, so
#: it stays above the lockout phase's 9 logins
API_LIMIT = 10


@pytest.fixture
def alice_token(transactional_db) -> str:
    """Made before the servers start (on SQLite they serve a copy of the test database).

    The password is hashed with PBKDF2, which the servers' production settings verify (the
    test process itself hashes with MD5 for speed; tests/conftest.py)."""
    user = UserFactory(username="alice")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "live-servers-salt", iterations=1000)
    user.save(update_fields=["password"])
    _, token = user_token_issue(user=user)
    return token


@pytest.fixture
def two_servers(tmp_path, alice_token):
    env = production_env(
        live_database_url(tmp_path),
        HUB_TRUSTED_PROXIES="0",  # no proxy in front: the peer is the client
        DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on 127.0.0.1
        HUB_API_RATE=f"{API_LIMIT}/min",
        HUB_LOGIN_RATE="100/min",
        HUB_LOGIN_USERNAME_RATE="100/min",
    )
    ports = [free_port(), free_port()]
    servers = [
        gunicorn(f"gunicorn-{i}", port, env, tmp_path, "--workers", "1")
        for i, port in enumerate(ports)
    ]
    try:
        for server in servers:
            server.start()
        for server, port in zip(servers, ports, strict=True):
            server.wait_ready(port)
        yield ports
    finally:
        for server in servers:
            server.stop()


def _login(port: int, username: str, password: str) -> int:
    """A password attempt at the token endpoint (the session login also wants a CSRF token;
    both go through the same policy)."""
    body = json.dumps({"username": username, "password": password}).encode()
    status, _, content = request(
        port, "POST", "/api/auth/token", body, {"Content-Type": "application/json"}
    )
    if status == 429:
        assert "locked" in json.loads(content)["message"]  # the lockout, not a rate
    return status


def test_api_rate_and_lockout_hold_across_two_processes(two_servers, alice_token):
    token = alice_token
    spellings = [f"Bearer {token}", f"bearer {token}", f"BEARER {token}"]

    # The API rate of one token, alternating between the processes and the spellings.
    answers = [
        request(
            two_servers[i % 2],
            "GET",
            "/api/auth/me",
            headers={"Authorization": spellings[i % 3]},
        )[0]
        for i in range(2 * API_LIMIT)
    ]
    assert answers == [200] * API_LIMIT + [429] * API_LIMIT

    # The lockout: the right password works on both; failures alternate between the
    # processes; then the right password is refused by both.
    assert [_login(port, "alice", PASSWORD) for port in two_servers] == [201, 201]
    attempts = 5
    failures = [_login(two_servers[i % 2], "alice", "wrong") for i in range(attempts)]
    assert failures == [401] * attempts
    after = [_login(port, "alice", PASSWORD) for port in two_servers]
    assert after == [429, 429]
    record_figure(
        "limits_processes",
        processes=2,
        api_limit=API_LIMIT,
        api_through=answers.count(200),
        api_requests=len(answers),
        lockout_attempts=attempts,
        right_password_accepted_after_lockout=after.count(200),
    )
