"""gunicorn settings for production, behind deploy/nginx/customer-hub.conf (README, "Running
in production"): ``gunicorn -c deploy/gunicorn.conf.py config.wsgi``.

Every value can be changed by its environment variable below, or on the command line (which
wins over this file). nginx buffers slow clients and request bodies, so a worker thread is
only ever busy with a complete request: without nginx, a few clients that send their headers
slowly hold every thread (tests/test_deploy_front.py proves both).
"""

import multiprocessing
import os
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

# Logs to stdout/stderr (journald under systemd); the response's request id ties an access
# line to the application's log lines.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'


def on_starting(server):
    """Refuse to start several workers whose rate limits and lockouts would count alone."""
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
