"""The project's own ``manage.py check`` messages (``--deploy`` ones run only with it).

| id | level | when |
|---|---|---|
| tenants.E001 | error | ``HUB_LIMITS_STORE`` is not a known store |
| tenants.E002 | error | limits counted per process while several gunicorn workers serve |
| tenants.W001 | warning | limits counted per process with one worker (other machines count apart) |
| tenants.E003 | error | ``HUB_WEBHOOKS_ALLOW_LOOPBACK`` is on |
| tenants.E004 | error | ``HUB_METRICS`` is on without ``HUB_METRICS_TOKEN`` or ``HUB_METRICS_ALLOW`` |
| tenants.E005 | error | ``HUB_METRICS_ALLOW`` holds something that is not an address or network |
| tenants.W005 | warning | ``HUB_METRICS_TOKEN`` is shorter than 32 characters |
| tenants.E008 | error | ``HUB_METRICS_TOKEN`` is deploy/customer-hub.env's placeholder |
| tenants.E006 | error | the secret key is the development key or deploy/customer-hub.env's placeholder |
| tenants.E007 | error | ``ALLOWED_HOSTS`` is empty, a wildcard, or only the development defaults |
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import os

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

#: what a secret key must never be in production: config/settings.py's development key and
#: the placeholder of deploy/customer-hub.env
KNOWN_SECRET_KEYS = frozenset(
    {
        "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef",
        "change-me-to-50-random-characters",
    }
)
#: config/settings.py's ALLOWED_HOSTS when DJANGO_ALLOWED_HOSTS is not set
DEVELOPMENT_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "testserver"})
MIN_METRICS_TOKEN = 32
#: deploy/customer-hub.env's placeholder of HUB_METRICS_TOKEN
METRICS_TOKEN_PLACEHOLDER = "change-me-to-40-random-characters"


def gunicorn_workers() -> int:
    """The number of gunicorn workers deploy/gunicorn.conf.py starts (its own default)."""
    value = os.environ.get("GUNICORN_WORKERS", "")
    return int(value) if value.strip().isdigit() else max(2, multiprocessing.cpu_count())


@register(Tags.security, deploy=True)
def limits_shared_across_processes(app_configs, **kwargs):
    """Rate limits and lockouts counted per process let N workers through N times over."""
    from tenants import throttling

    try:
        shared = throttling.limits_are_shared()
    except ValueError as exc:
        return [Error(str(exc), id="tenants.E001")]
    if shared:
        return []
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    hint = (
        "Set REDIS_URL, or HUB_LIMITS_STORE=database to share them through the database, or "
        "run exactly one process (GUNICORN_WORKERS=1)."
    )
    workers = gunicorn_workers()
    if workers > 1:
        return [
            Error(
                f"Rate limits and login lockouts are counted per process, and {workers} "
                f"gunicorn workers would each count alone (HUB_LIMITS_STORE=cache on a {backend}).",
                hint=hint,
                id="tenants.E002",
            )
        ]
    return [
        Warning(
            "Rate limits and login lockouts are counted per process: another machine would "
            f"count alone (HUB_LIMITS_STORE=cache on a {backend}).",
            hint=hint,
            id="tenants.W001",
        )
    ]


@register(Tags.security, deploy=True)
def webhooks_loopback_off(app_configs, **kwargs):
    """Webhook deliveries to the loopback (tests, local development) would let a tenant's
    endpoint reach the services of the machine itself."""
    if getattr(settings, "HUB_WEBHOOKS_ALLOW_LOOPBACK", False):
        return [
            Error(
                "HUB_WEBHOOKS_ALLOW_LOOPBACK is on: webhook deliveries may reach this "
                "machine's own services.",
                hint="Unset HUB_WEBHOOKS_ALLOW_LOOPBACK in production.",
                id="tenants.E003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def metrics_protected(app_configs, **kwargs):
    """/metrics names every route, tenant and error rate: only the scraper may read it."""
    if not getattr(settings, "HUB_METRICS", False):
        return []
    messages = []
    token = getattr(settings, "HUB_METRICS_TOKEN", "")
    allowed = getattr(settings, "HUB_METRICS_ALLOW", [])
    if not token and not allowed:
        messages.append(
            Error(
                "HUB_METRICS is on, and /metrics has neither a bearer secret nor an "
                "address allow-list (it answers nobody without DEBUG).",
                hint="Set HUB_METRICS_TOKEN (32 random characters or more) and/or "
                "HUB_METRICS_ALLOW (the scraper's addresses or networks).",
                id="tenants.E004",
            )
        )
    for entry in allowed:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            messages.append(
                Error(
                    f"HUB_METRICS_ALLOW: {entry!r} is not an address or a network.",
                    hint="Comma-separated addresses or networks, e.g. 10.0.0.5,10.1.0.0/16.",
                    id="tenants.E005",
                )
            )
    if token == METRICS_TOKEN_PLACEHOLDER:
        messages.append(
            Error(
                "HUB_METRICS_TOKEN is deploy/customer-hub.env's placeholder.",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(32))'",
                id="tenants.E008",
            )
        )
    elif token and len(token) < MIN_METRICS_TOKEN:
        messages.append(
            Warning(
                f"HUB_METRICS_TOKEN is shorter than {MIN_METRICS_TOKEN} characters.",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(32))'",
                id="tenants.W005",
            )
        )
    return messages


@register(Tags.security, deploy=True)
def secret_key_and_hosts_set(app_configs, **kwargs):
    messages = []
    if settings.SECRET_KEY in KNOWN_SECRET_KEYS:
        messages.append(
            Error(
                "The secret key is a published one (the development key or "
                "deploy/customer-hub.env's placeholder).",
                hint="Set DJANGO_SECRET_KEY to 50 random characters or more.",
                id="tenants.E006",
            )
        )
    hosts = set(settings.ALLOWED_HOSTS)
    if not hosts or "*" in hosts or hosts <= DEVELOPMENT_HOSTS:
        messages.append(
            Error(
                "ALLOWED_HOSTS does not name this server: it is empty, a wildcard, or only "
                "the development defaults.",
                hint="Set DJANGO_ALLOWED_HOSTS to the host names clients use (hub.example.com).",
                id="tenants.E007",
            )
        )
    return messages
