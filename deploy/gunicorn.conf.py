"""gunicorn settings for production, behind deploy/nginx/customer-hub.conf (README, "Running
in production"): ``gunicorn -c deploy/gunicorn.conf.py config.wsgi``.

Every value can be changed by its environment variable below, or on the command line (which
wins over this file). nginx buffers slow clients and request bodies, so a worker thread is
only ever busy with a complete request: without nginx, a few clients that send their headers
slowly hold every thread (tests/test_deploy_front.py proves both).
"""

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

# The project root, whatever the directory gunicorn was started from (systemd, a shell).
chdir = str(Path(__file__).resolve().parent.parent)
wsgi_app = "config.wsgi:application"

# Only nginx, on the same machine, talks to gunicorn.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# The addresses whose X-Forwarded-Proto gunicorn believes (nginx's); Django's own trust is
# SECURE_PROXY_SSL_HEADER and HUB_TRUSTED_PROXIES (tenants/proxies.py).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Threads: a request mostly waits for PostgreSQL, so a few threads per process keep a core
# busy; processes: one per core.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", str(max(2, multiprocessing.cpu_count()))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A request that runs longer than this is killed with its worker (nginx answers 502/504);
# graceful_timeout: how long a restart waits for the requests in flight.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# nginx opens one connection per request (deploy/nginx/customer-hub.conf): keep-alive only
# matters to clients that reach gunicorn directly (health checks).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "2"))
# Recycle workers now and then (a slow leak in any library stays bounded).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "500"))

# Logs to stdout/stderr (journald under systemd), one JSON object per line like the
# application's (HUB_LOG_FORMAT, tenants/logs.py). No access log: the application writes one
# line per request with its route template, status, duration, tenant and request id
# (tenants/logs.py), while gunicorn's would hold the raw request line, query string included
# (an email searched for is personal data). GUNICORN_ACCESSLOG=- brings it back.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
if os.environ.get("HUB_LOG_FORMAT", "json") == "json":
    # gunicorn's own defaults, with the JSON formatter (and its access logger quiet unless
    # GUNICORN_ACCESSLOG asks for it: with a logging configuration it would log regardless).
    logconfig_dict = {
        "formatters": {"generic": {"()": "tenants.logs.JsonFormatter"}},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {
                "level": "INFO" if accesslog else "CRITICAL",
                "handlers": ["console"],
                "propagate": False,
            },
        },
    }

# Metrics (tenants/metrics.py): every worker writes its values into one directory, which a
# scrape reads whole, so /metrics adds up all workers whichever answers. Emptied at each start
# (on_starting); systemd's RuntimeDirectory= gives a fresh /run/customer-hub.
if os.environ.get("HUB_METRICS", "").strip().lower() in {"1", "true", "yes", "on"}:
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR",
        str(Path(os.environ.get("RUNTIME_DIRECTORY") or tempfile.gettempdir()) / "hub-metrics"),
    )


def _reset_metrics_directory() -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """A worker that exits leaves its counters for the scrapes, not its live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_starting(server):
    """Refuse to start several workers whose rate limits and lockouts would count alone."""
    _reset_metrics_directory()
    if server.cfg.workers <= 1:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from tenants.throttling import limits_are_shared

    if not limits_are_shared():
        raise SystemExit(
            f"customer-hub: {server.cfg.workers} workers would each count rate limits and "
            "login lockouts alone (HUB_LIMITS_STORE=cache without a shared cache). Set "
            "REDIS_URL, or HUB_LIMITS_STORE=database, or --workers 1."
        )
