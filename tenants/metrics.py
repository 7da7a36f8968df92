"""Prometheus metrics (prometheus-client), served at ``/metrics`` when ``HUB_METRICS`` is on.

Every process records into prometheus-client's metrics. Under gunicorn each worker is a
process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory, writable by
the service, emptied at each start: deploy/gunicorn.conf.py) they write their values there
and a scrape, whichever worker answers it, adds up every worker's. Without it (``runserver``,
one process) a scrape shows the answering process only.

Labels are bounded: ``dialect`` (the registered dialects, or ``none``), ``route`` (the URL
pattern that matched, never the path; ``<unmatched>`` otherwise), ``method`` (the HTTP
methods, or ``other``), ``status_class`` (``2xx``..``5xx``). Tenants appear on one counter
only (``hub_tenant_requests_total``), and only tenants a caller was granted, at most
``HUB_METRICS_MAX_TENANTS`` of them per process (the rest count as ``other``).

Other apps add gauges computed when the metrics are scraped (``register_gauge``): the
outbox backlog, the age of the oldest undelivered event. They run in the process that
answers the scrape, once per scrape.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from tenants.proxies import client_ip

logger = logging.getLogger("hub.metrics")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
QUERY_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"

requests_total = Counter(
    "hub_http_requests",
    "HTTP requests answered, by dialect, route template, method and status class.",
    ["dialect", "route", "method", "status_class"],
)
request_duration = Histogram(
    "hub_http_request_duration_seconds",
    "Time to answer a request (to its last byte for streamed answers).",
    ["dialect", "route", "status_class"],
    buckets=LATENCY_BUCKETS,
)
in_flight = Gauge(
    "hub_http_requests_in_flight",
    "Requests being answered now (summed over the live workers; compare with workers x threads).",
    multiprocess_mode="livesum",
)
db_queries = Histogram(
    "hub_db_queries_per_request",
    "Database statements run to answer one request.",
    ["dialect", "route"],
    buckets=QUERY_BUCKETS,
)
tenant_requests = Counter(
    "hub_tenant_requests",
    "Requests of callers granted a tenant, by tenant slug (bounded: HUB_METRICS_MAX_TENANTS).",
    ["tenant"],
)
limit_refusals = Counter(
    "hub_limit_refusals",
    "Requests refused with a 429 by a rate (api, login, login_username) or the login lockout.",
    ["limit"],
)
login_lockouts = Counter(
    "hub_login_lockouts",
    "Locks set on a (user name, client address) after repeated failed logins.",
)
idempotency_replays = Counter(
    "hub_idempotency_replays",
    "POSTs answered from a stored Idempotency-Key response instead of running again.",
    ["dialect"],
)
idempotency_refusals = Counter(
    "hub_idempotency_refusals",
    "Idempotency-Key conflicts found: the key reused with another body (422), or its first "
    "request still running (409).",
    ["dialect", "reason"],
)


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else OTHER


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER


_tenants_seen: set[str] = set()
_tenants_lock = threading.Lock()


def tenant_label(slug: str) -> str:
    """``slug``, unless this process already labels ``HUB_METRICS_MAX_TENANTS`` others."""
    if slug in _tenants_seen:
        return slug
    with _tenants_lock:
        if len(_tenants_seen) >= int(getattr(settings, "HUB_METRICS_MAX_TENANTS", 200)):
            return OTHER
        _tenants_seen.add(slug)
        return slug


def observe_request(
    *,
    dialect: str,
    route: str,
    method: str,
    status: int,
    seconds: float,
    queries: int,
    tenant: str | None,
    replayed: bool = False,
) -> None:
    klass = status_class(status)
    if replayed:
        idempotency_replays.labels(dialect).inc()
    requests_total.labels(dialect, route, method_label(method), klass).inc()
    request_duration.labels(dialect, route, klass).observe(seconds)
    db_queries.labels(dialect, route).observe(queries)
    if tenant:
        tenant_requests.labels(tenant_label(tenant)).inc()


def limit_refused(limit: str) -> None:
    limit_refusals.labels(limit).inc()


# --- gauges computed at scrape time -------------------------------------------------------------


@dataclass(frozen=True)
class ScrapeGauge:
    name: str
    documentation: str
    collect: Callable[[], float | Iterable[tuple[Iterable[str], float]]]
    labels: tuple[str, ...] = ()


_GAUGES: dict[str, ScrapeGauge] = {}


def register_gauge(
    name: str,
    documentation: str,
    collect: Callable[[], float | Iterable[tuple[Iterable[str], float]]],
    *,
    labels: Iterable[str] = (),
) -> None:
    """Add a gauge whose value ``collect()`` computes at each scrape (call it from an
    ``AppConfig.ready``). Without ``labels`` it returns a number; with them, pairs of
    (label values, number). Keep it to a query or two: it runs inside the scrape. A gauge
    whose collect raises is left out of that scrape and ``hub_scrape_gauge_up`` shows 0."""
    _GAUGES[name] = ScrapeGauge(name, documentation, collect, tuple(labels))


def registered_gauges() -> list[ScrapeGauge]:
    return list(_GAUGES.values())


def unregister_gauge(name: str) -> None:
    _GAUGES.pop(name, None)


class _ScrapeCollector:
    def collect(self):
        up = GaugeMetricFamily(
            "hub_scrape_gauge_up",
            "1 when the scrape-time gauge was computed, 0 when its computation failed.",
            labels=["gauge"],
        )
        for gauge in registered_gauges():
            try:
                value = gauge.collect()
                if gauge.labels:
                    family = GaugeMetricFamily(
                        gauge.name, gauge.documentation, labels=list(gauge.labels)
                    )
                    for label_values, number in value:
                        family.add_metric([str(v) for v in label_values], float(number))
                else:
                    family = GaugeMetricFamily(gauge.name, gauge.documentation, value=float(value))
            except Exception:
                logger.exception("The scrape-time gauge %s failed", gauge.name)
                up.add_metric([gauge.name], 0)
                continue
            up.add_metric([gauge.name], 1)
            yield family
        yield up


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets, and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_ScrapeCollector())
    return generate_latest(registry) + generate_latest(scrape), CONTENT_TYPE_LATEST


# --- who may scrape -----------------------------------------------------------------------------


def _networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(entry, strict=False)
        for entry in getattr(settings, "HUB_METRICS_ALLOW", [])
    ]


def protected() -> bool:
    """Whether a scrape must present the token or come from an allowed address."""
    return bool(getattr(settings, "HUB_METRICS_TOKEN", "")) or bool(
        getattr(settings, "HUB_METRICS_ALLOW", [])
    )


def scrape_allowed(request) -> bool:
    """Every protection that is configured must pass: the bearer token
    (``HUB_METRICS_TOKEN``) and the client address (``HUB_METRICS_ALLOW``, read through
    ``HUB_TRUSTED_PROXIES``). With neither, only a DEBUG server answers."""
    token = getattr(settings, "HUB_METRICS_TOKEN", "")
    try:
        networks = _networks()
    except ValueError:  # a malformed HUB_METRICS_ALLOW (check --deploy names it): refuse
        return False
    if not token and not networks:
        return bool(settings.DEBUG)
    if token:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            sent.strip().encode(), token.encode()
        ):
            return False
    if networks:
        try:
            address = ipaddress.ip_address(client_ip(request))
        except ValueError:
            return False
        if not any(address in network for network in networks):
            return False
    return True
