"""The CSV export at scale (docs/performance.md, "CSV export"): a one-off measurement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench python -m tests.bench.export \
        [--customers 1000000] [--port 8766]

Uses (and, when missing, generates) the benchmark's data (bench/run.py: tenant ``bench``
with N customers, ``bench-10k`` and ``bench-100k``), serves the hub with one gunicorn
worker, logs in to the admin as a superuser and downloads:

- the whole change list of tenant ``bench`` (filtered on the tenant), then of the smaller
  tenants: the time to the first byte, the total time and size, and the serving worker's peak
  memory growth (VmHWM after, against VmRSS before, with the peak reset first);
- a searched list (``q=mensah``);
- and runs ``manage.py export_customers`` for each tenant in a child process, reading its
  peak memory (its own ru_maxrss, from wait4).

Flat memory means the same growth at 10,000 and at 1,000,000 customers. Prints one JSON
object. Loopback only; nothing runs unbounded (every read has a timeout).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from tests.bench.run import (
    DEFAULT_URL,
    HOST,
    ROOT,
    Server,
    configure_environment,
    ensure_data,
    ensure_database,
    log,
    machine,
    memory_kib,
)

USERNAME, PASSWORD = "bench-export", "bench-export-password"


def admin_session(port: int) -> str:
    """A logged-in admin session: the ``Cookie`` header value."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("GET", "/admin/login/")
    response = conn.getresponse()
    page = response.read().decode()
    cookies = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"csrfmiddlewaretoken": csrf, "username": USERNAME, "password": PASSWORD})
    cookie = f"csrftoken={cookies['csrftoken'].value}"
    conn.request(
        "POST",
        "/admin/login/?next=/admin/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Referer": f"http://{HOST}:{port}/admin/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    conn.close()
    if response.status != 302 or "sessionid" not in cookies:
        raise RuntimeError(f"admin login failed: HTTP {response.status}")
    return f"{cookie}; sessionid={cookies['sessionid'].value}"


def count_records(previous: bytes, chunk: bytes) -> int:
    """CSV records ending in ``chunk``: csv.writer ends each with CRLF, while a line break
    inside a quoted cell (a note) is written as it is."""
    return (previous + chunk).count(b"\r\n") - previous.count(b"\r\n")


def download(server: Server, cookie: str, query: dict) -> dict:
    pids = server.workers()
    before = {pid: memory_kib(pid) for pid in pids}
    for pid in pids:  # reset the peak (VmHWM) to the current RSS
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    conn = http.client.HTTPConnection(HOST, server.port, timeout=900)
    started = time.perf_counter()
    conn.request(
        "GET", "/admin/customers/customer/export/?" + urlencode(query), headers={"Cookie": cookie}
    )
    response = conn.getresponse()
    first_byte = time.perf_counter() - started
    size = lines = 0
    last = b""
    while chunk := response.read(1 << 16):
        size += len(chunk)
        lines += count_records(last, chunk)
        last = chunk[-1:]
    elapsed = time.perf_counter() - started
    conn.close()
    after = {pid: memory_kib(pid) for pid in pids}
    growth = max(
        (after[p].get("VmHWM", 0) - before[p].get("VmRSS", 0) for p in pids if after[p]),
        default=0,
    )
    return {
        "query": query,
        "status": response.status,
        "rows": max(lines - 1, 0),  # the header
        "mib": round(size / 2**20, 1),
        "first_byte_ms": round(first_byte * 1000, 1),
        "seconds": round(elapsed, 2),
        "rows_per_second": round(max(lines - 1, 0) / elapsed) if elapsed else None,
        "peak_worker_rss_mib": round(max(a.get("VmHWM", 0) for a in after.values()) / 1024, 1),
        "peak_growth_mib": round(growth / 1024, 1),
    }


def command_export(slug: str) -> dict:
    """``manage.py export_customers`` in a child process: time, size and its peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "export_customers", "--tenant", slug, "--no-progress"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    size = lines = 0
    first_byte = None
    last = b""
    while chunk := process.stdout.read(1 << 16):
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
        lines += count_records(last, chunk)
        last = chunk[-1:]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = status
    elapsed = time.perf_counter() - started
    return {
        "tenant": slug,
        "exit_status": status,
        "rows": max(lines - 1, 0),
        "mib": round(size / 2**20, 1),
        "first_byte_ms": round((first_byte or 0) * 1000, 1),  # includes Django's start-up
        "seconds": round(elapsed, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Measure the CSV export (docs/performance.md).")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        database_url = DEFAULT_URL
    configure_environment(database_url)
    sys.path.insert(0, str(ROOT))
    ensure_database(database_url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    from tenants.models import Tenant

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the admin's pages need it
    ensure_data(args.customers)
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.is_staff = user.is_superuser = True
    user.set_password(PASSWORD)
    user.save()
    tenants = {t.slug: str(t.pk) for t in Tenant.objects.filter(slug__startswith="bench")}
    connections.close_all()

    results = {"machine": machine(), "customers": args.customers, "admin": [], "command": []}
    server = Server(args.port, workers=1, threads=2)
    try:
        server.start()
        cookie = admin_session(args.port)
        download(server, cookie, {"tenant__id__exact": tenants["bench-10k"]})  # warm-up
        for slug in ("bench-10k", "bench-100k", "bench"):
            log(f"admin export of tenant {slug}")
            results["admin"].append(download(server, cookie, {"tenant__id__exact": tenants[slug]}))
            log(f"  {results['admin'][-1]}")
        log("admin export of a searched list (q=mensah)")
        query = {"tenant__id__exact": tenants["bench"], "q": "mensah"}
        results["admin"].append(download(server, cookie, query))
        log(f"  {results['admin'][-1]}")
    finally:
        server.stop()
    for slug in ("bench-10k", "bench"):
        log(f"manage.py export_customers --tenant {slug}")
        results["command"].append(command_export(slug))
        log(f"  {results['command'][-1]}")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
