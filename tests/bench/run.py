"""``make bench``: the benchmark (docs/performance.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench python -m tests.bench.run \
        [--customers 1000000] [--duration 10] [--concurrency 1,8,32] [--workers 4]

1. Creates the database when missing, migrates it, and generates the data unless already
   present: tenant ``bench`` with N customers (N/5 linked to one store, N/10 with B2B
   accounts and 3 orders each, one with 1,000 orders), tenant ``bench-10k`` (the same shape
   at 10,000: the baseline of the search scaling target) and tenant ``bench-100k`` (100,000
   customers: the data dialect's full streamed array).
2. Serves the hub with gunicorn on 127.0.0.1 (tests/bench/settings.py: the production settings
   plus the floor endpoints of tests/bench/floor.py).
3. Drives every endpoint, and its floor, from a separate process (wrk, else tests/bench/loadgen.py)
   at each concurrency for a bounded time (the back-office pages, logged in as the tenant's
   admin, have no floor: their target is a server time), counts each endpoint's SQL queries in-process
   (CaptureQueriesContext), measures bulk removal of 1,000 ids a fixed number of times,
   streams the full array and reads the serving worker's peak memory.
4. Prints the table and the targets, writes docs/bench-results.json and
   docs/bench-results.md, and stops the server.

Loopback only; every load loop is bounded in time (``--duration``) and count.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hub_bench"
HOST = "127.0.0.1"
SELECTIVE = "Freya Mensah"  # ~1 in 2,000 customers
BROAD = "mensah"  # ~1 in 40 customers
BULK_IDS = 1_000
ADMIN_MS = 300  # the back-office's pages: server time at one request at a time (issue 18)
BULK_REPEATS = 5


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- environment ------------------------------------------------------------------------------


def configure_environment(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ["DJANGO_SECURE_COOKIES"] = "0"
    os.environ["DJANGO_HSTS_SECONDS"] = "0"
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_CONN_MAX_AGE", "600")
    os.environ.pop("DATABASE_REPLICA_URL", None)


def ensure_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def machine() -> dict:
    info = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


# --- data -------------------------------------------------------------------------------------


def ensure_data(customers: int) -> None:
    from django.core.management import call_command

    from customers.models import Customer
    from tenants.models import Tenant

    plans = [
        ("bench", customers, customers // 5, customers // 10, 1_000),
        ("bench-10k", 10_000, 2_000, 1_000, 0),
        ("bench-100k", 100_000, 0, 0, 0),
    ]
    for slug, count, links, b2b, heavy in plans:
        tenant = Tenant.objects.filter(slug=slug).first()
        have = (
            Customer.objects.filter(tenant=tenant, external_id__startswith="gen-").count()
            if tenant
            else 0
        )
        if have >= count:
            log(f"tenant {slug}: {have:,} generated customers present")
            continue
        missing = count - have
        log(f"tenant {slug}: generating {missing:,} customers")
        call_command(
            "generate",
            customers=missing,
            tenant=slug,
            seed=1,
            store_links=links * missing // count,
            b2b=b2b * missing // count,
            orders=3,
            heavy_orders=heavy if have == 0 else 0,
        )


def credentials() -> dict:
    from django.test import Client

    from customers.services import member_join
    from tenants.models import Role, Tenant
    from tenants.services import api_key_issue, user_ensure, user_token_issue

    user = user_ensure(username="bench-admin")
    tenants = {t.slug: t for t in Tenant.objects.filter(slug__startswith="bench")}
    for tenant in tenants.values():
        member_join(tenant=tenant, user=user, role=Role.ADMIN)
    _, token = user_token_issue(user=user)
    _, key = api_key_issue(tenant=tenants["bench"], name="bench", role="agent")
    # the back-office: the admin of the million-customer tenant (only), logged in by a session
    office = user_ensure(username="bench-office")
    member_join(tenant=tenants["bench"], user=office, role=Role.ADMIN)
    browser = Client()
    browser.force_login(office)
    return {"token": token, "api_key": key, "session": browser.cookies["sessionid"].value}


def samples(customers: int) -> dict:
    from b2b.models import Account, SalesOrder
    from customers.models import Customer
    from stores.models import CustomerStore, Store
    from tenants.models import Tenant

    out = {}
    for slug in ("bench", "bench-10k"):
        tenant = Tenant.objects.get(slug=slug)
        store = Store.objects.get(tenant=tenant, name="Generated store")
        out[slug] = {"tenant": tenant, "store": str(store.id)}
    tenant = out["bench"]["tenant"]
    generated = Customer.objects.filter(tenant=tenant, external_id__startswith="gen-")
    halfway = f"gen-{customers // 2:08d}"
    middle = generated.filter(external_id__gte=halfway).order_by("external_id")
    out["customer"] = str(middle.values_list("uuid", flat=True).first())
    out["discord_id"] = middle.exclude(discord_id="").values_list("discord_id", flat=True)[0]
    out["email"] = middle.exclude(email="").values_list("email", flat=True)[0]
    out["phone"] = middle.exclude(phone="").values_list("phone", flat=True)[0]
    account = (
        Account.objects.filter(customer__tenant=tenant, customer__external_id__gte=halfway)
        .order_by("customer__external_id")
        .values_list("customer__uuid", flat=True)
        .first()
    )
    out["b2b_customer"] = str(account)
    heavy = SalesOrder.objects.filter(tenant=tenant, order_number__endswith="-1000").first()
    out["heavy_customer"] = str(heavy.customer.uuid)
    out["heavy_customer_pk"] = heavy.customer_id
    store = Store.objects.get(pk=out["bench"]["store"])
    links = CustomerStore.objects.filter(store=store).order_by("customer_id")
    start = max(0, min(links.count() // 2, links.count() - BULK_IDS))
    out["bulk_ids"] = [
        str(u) for u in links.values_list("customer__uuid", flat=True)[start : start + BULK_IDS]
    ]
    return out


def relink(store_id: str, uuids: list[str]) -> None:
    """Link the customers back to the store (between measured bulk removals)."""
    from django.db import connection

    from tenants.ids import uuid7

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, created_at FROM customers_customer WHERE uuid = ANY(%s::uuid[])", [uuids]
        )
        rows = cursor.fetchall()
        cursor.executemany(
            "INSERT INTO stores_customerstore"
            " (id, customer_id, store_id, created_at, customer_created_at)"
            " VALUES (%s, %s, %s, now(), %s) ON CONFLICT DO NOTHING",
            [(uuid7(), pk, store_id, created) for pk, created in rows],
        )


# --- endpoints --------------------------------------------------------------------------------


def endpoints(s: dict, creds: dict) -> list[dict]:
    bearer = f"Bearer {creds['token']}"
    store = {"Authorization": bearer, "x-store-id": s["bench"]["store"]}
    store10k = {"Authorization": bearer, "x-store-id": s["bench-10k"]["store"]}
    data = {"Authorization": bearer, "x-tenant-id": "bench"}
    b2b = {"Authorization": bearer, "x-tenant-id": "bench"}
    b2b10k = {"Authorization": bearer, "x-tenant-id": "bench-10k"}
    peppered = {"Authorization": creds["api_key"]}
    existing = json.dumps(
        {"discordId": s["discord_id"], "discordUsername": "bench", "discordDisplayName": "Bench"}
    )
    new = '{"discordId": "bench-{n}", "discordUsername": "bench", "discordDisplayName": "New"}'
    office = {"Cookie": f"sessionid={creds['session']}"}
    customers_admin = "/admin/customers/customer/"

    def q(**params):
        return "?" + urlencode(params)

    def e(name, method, path, headers, floor, body="", kind="read"):
        return {
            "name": name,
            "method": method,
            "path": path,
            "headers": headers,
            "body": body,
            "floor": floor,
            "kind": kind,
        }

    return [
        e("store list p1", "GET", "/customers" + q(page=1, limit=100), store,
          "/bench/floor/store_list" + q(page=1, limit=100)),
        e("store list p1000", "GET", "/customers" + q(page=1000, limit=100), store,
          "/bench/floor/store_list" + q(page=1000, limit=100)),
        e("store search", "GET", "/customers" + q(search=SELECTIVE, limit=100), store,
          "/bench/floor/store_list" + q(search=SELECTIVE, limit=100)),
        e("store search @10k", "GET", "/customers" + q(search=SELECTIVE, limit=100), store10k,
          "/bench/floor/store_list" + q(search=SELECTIVE, limit=100)),
        e("store search broad", "GET", "/customers" + q(search=BROAD, limit=100), store,
          "/bench/floor/store_list" + q(search=BROAD, limit=100)),
        e("store search broad @10k", "GET", "/customers" + q(search=BROAD, limit=100), store10k,
          "/bench/floor/store_list" + q(search=BROAD, limit=100)),
        e("data get", "GET", f"/api/data/customer/{s['customer']}", data,
          f"/bench/floor/data_get/{s['customer']}"),
        e("data find-or-create existing", "POST", "/api/data/customer", data,
          "/bench/floor/data_find", body=existing),
        e("data find-or-create new", "POST", "/api/data/customer", data,
          "/bench/floor/data_find", body=new, kind="write"),
        e("data list (keyset p1)", "GET", "/api/data/customer" + q(limit=100), data,
          "/bench/floor/data_list" + q(limit=100)),
        e("peppered findByEmail", "POST", "/v1/bench/peppered/customer/findByEmail", peppered,
          "/bench/floor/peppered_find/bench", body=json.dumps({"email": s["email"]})),
        e("b2b list p1", "GET", "/api/customers" + q(limit=20), b2b,
          "/bench/floor/b2b_list" + q(limit=20)),
        e("b2b search", "GET", "/api/customers" + q(search=SELECTIVE), b2b,
          "/bench/floor/b2b_search" + q(search=SELECTIVE)),
        e("b2b search @10k", "GET", "/api/customers" + q(search=SELECTIVE), b2b10k,
          "/bench/floor/b2b_search" + q(search=SELECTIVE)),
        e("b2b search broad", "GET", "/api/customers" + q(search=BROAD), b2b,
          "/bench/floor/b2b_search" + q(search=BROAD)),
        e("b2b search broad @10k", "GET", "/api/customers" + q(search=BROAD), b2b10k,
          "/bench/floor/b2b_search" + q(search=BROAD)),
        e("b2b detail", "GET", f"/api/customers/{s['b2b_customer']}", b2b,
          f"/bench/floor/b2b_detail/{s['b2b_customer']}"),
        e("b2b analytics (1,000 orders)", "GET",
          f"/api/customers/{s['heavy_customer']}/analytics" + q(period="all"), b2b,
          f"/bench/floor/analytics/{s['heavy_customer']}"),
        e("admin list", "GET", customers_admin, office, None, kind="admin"),
        e("admin search", "GET", customers_admin + q(q=SELECTIVE), office, None, kind="admin"),
        e("admin search broad", "GET", customers_admin + q(q=BROAD), office, None, kind="admin"),
        e("admin search phone", "GET", customers_admin + q(q=s["phone"]), office, None,
          kind="admin"),
        e("admin 360 (1,000 orders)", "GET",
          f"{customers_admin}{s['heavy_customer_pk']}/360/", office, None, kind="admin"),
    ]  # fmt: skip


# --- measuring --------------------------------------------------------------------------------


def count_queries(
    method: str, path: str, headers: dict, body: str = "", warm: bool = True
) -> tuple[int, int]:
    """(SQL queries, status) of one request, in-process, after a first one (``warm``): an
    API key's first use in a minute also records its last use, which steady traffic does
    not pay."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers=headers)

    def send():
        response = client.generic(
            method, path, body.replace("{n}", str(time.time_ns())), content_type="application/json"
        )
        if getattr(response, "streaming", False):
            for _ in response.streaming_content:
                pass
        response.close()
        return response

    if warm:
        send()
    with CaptureQueriesContext(connection) as ctx:
        response = send()
    return len(ctx.captured_queries), response.status_code


def wait_idle(port: int, limit: float = 30.0) -> None:
    """Wait (at most ``limit`` seconds) until the server answers /healthz quickly twice in a
    row: the requests a previous cell left queued must not be billed to the next one."""
    deadline = time.time() + limit
    quick = 0
    while time.time() < deadline and quick < 2:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=30):
                pass
        except OSError:
            pass
        quick = quick + 1 if time.perf_counter() - started < 0.2 else 0
        time.sleep(0.5)


def load(port: int, endpoint: dict, path: str, concurrency: int, duration: float, tool: str):
    wait_idle(port)
    url = f"http://{HOST}:{port}{path}"
    headers = {**endpoint["headers"]}
    if endpoint["body"]:
        headers["Content-Type"] = "application/json"
    env = {
        **os.environ,
        "BENCH_METHOD": endpoint["method"],
        "BENCH_BODY": endpoint["body"],
        "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in headers.items()),
    }
    if tool == "wrk":
        cmd = [
            "wrk",
            f"-t{min(concurrency, 2)}",
            f"-c{concurrency}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "30s",
            "-s",
            str(ROOT / "tests" / "bench" / "wrk.lua"),
            url,
        ]
    else:
        cmd = [
            sys.executable,
            str(ROOT / "tests" / "bench" / "loadgen.py"),
            "--url",
            url,
            "--concurrency",
            str(concurrency),
            "--duration",
            str(duration),
            "--method",
            endpoint["method"],
            "--body",
            endpoint["body"],
            *[arg for k, v in headers.items() for arg in ("--header", f"{k}: {v}")],
        ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration + 120)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result = json.loads(line[len("BENCH_RESULT ") :])
            result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0
            return result
    raise RuntimeError(f"load generator failed: {done.stdout}\n{done.stderr}")


class Server:
    """gunicorn on 127.0.0.1:port with the bench settings; always stopped by ``stop``."""

    def __init__(self, port: int, workers: int, threads: int):
        self.port = port
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.cmd = [
            str(gunicorn),
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--timeout",
            "300",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ]
        self.process = None

    def start(self) -> None:
        log("starting gunicorn: " + " ".join(self.cmd[1:]))
        self.process = subprocess.Popen(self.cmd, cwd=ROOT, env=os.environ.copy())
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("gunicorn exited") from None
                time.sleep(0.5)
        raise RuntimeError("gunicorn did not become ready in 60 s")

    def workers(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def memory_kib(pid: int) -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def stream_full_array(server: Server, token: str, slug: str) -> dict:
    """GET the data dialect's full array (no limit) and the workers' peak memory."""
    import http.client

    pids = server.workers()
    before = {pid: memory_kib(pid) for pid in pids}
    for pid in pids:  # reset the peak (VmHWM) to the current RSS
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")
    conn = http.client.HTTPConnection(HOST, server.port, timeout=600)
    started = time.perf_counter()
    conn.request(
        "GET",
        "/api/data/customer",
        headers={"Authorization": f"Bearer {token}", "x-tenant-id": slug},
    )
    response = conn.getresponse()
    first_byte = time.perf_counter() - started
    size = 0
    items = 0
    tail = b""
    while chunk := response.read(1 << 16):
        size += len(chunk)
        items += (tail + chunk).count(b'"discordId"') - tail.count(b'"discordId"')
        tail = chunk[-16:]
    elapsed = time.perf_counter() - started
    conn.close()
    after = {pid: memory_kib(pid) for pid in pids}
    growth = max(
        (after[p].get("VmHWM", 0) - before[p].get("VmRSS", 0) for p in pids if after[p]),
        default=0,
    )
    peak = max((after[p].get("VmHWM", 0) for p in pids), default=0)
    return {
        "tenant": slug,
        "status": response.status,
        "customers": items,
        "bytes": size,
        "seconds": round(elapsed, 2),
        "first_byte_ms": round(first_byte * 1000, 1),
        "peak_worker_rss_mib": round(peak / 1024, 1),
        "peak_growth_mib": round(growth / 1024, 1),
    }


def bulk_removal(s: dict, headers: dict, port: int, repeats: int) -> dict:
    """DELETE /customers/bulk with 1,000 ids (and its floor) ``repeats`` times, re-linking
    the customers between calls; statements counted in-process for 10 and 1,000 ids."""
    import http.client

    store_id = s["bench"]["store"]
    ids = s["bulk_ids"]
    out = {}
    for label, path in (("endpoint", "/customers/bulk"), ("floor", "/bench/floor/bulk_remove")):
        timings = []
        removed = []
        for _ in range(repeats):
            relink(store_id, ids)
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
            body = json.dumps({"ids": ids})
            t0 = time.perf_counter()
            conn.request(
                "DELETE", path, body=body, headers={**headers, "Content-Type": "application/json"}
            )
            response = conn.getresponse()
            payload = response.read()
            timings.append(time.perf_counter() - t0)
            conn.close()
            try:
                removed.append(json.loads(payload).get("deletedCount"))
            except ValueError:
                removed.append(None)
        timings.sort()
        out[label] = {
            "calls": repeats,
            "deleted": removed,
            "median_ms": round(timings[len(timings) // 2] * 1000, 1),
            "max_ms": round(timings[-1] * 1000, 1),
        }
    statements = {}
    for n in (10, BULK_IDS):
        relink(store_id, ids)
        body = json.dumps({"ids": ids[:n]})
        statements[n], _ = count_queries("DELETE", "/customers/bulk", headers, body, warm=False)
    relink(store_id, ids)
    out["statements"] = statements
    return out


# --- report -----------------------------------------------------------------------------------


def ms(us: int) -> str:
    return f"{us / 1000:.1f}"


def table(results: list[dict], concurrencies: list[int]) -> str:
    head = "| endpoint | SQL/req | " + " | ".join(
        f"c={c} req/s | c={c} p50 ms | c={c} p99 ms | c={c} vs floor" for c in concurrencies
    )
    lines = [head + " |", "|" + "---|" * (2 + 4 * len(concurrencies))]
    for r in results:
        floored = r["floor_queries"] is not None
        cells = [
            r["name"],
            f"{r['queries']}" + (f" (floor {r['floor_queries']})" if floored else ""),
        ]
        for c in concurrencies:
            cell = r["cells"].get(str(c))
            floor = r["floor_cells"].get(str(c))
            if not cell:
                cells += ["-"] * 4
                continue
            ratio = f"{cell['rps'] / floor['rps']:.2f}" if floor and floor["rps"] else "-"
            errors = sum(cell["errors"].values())
            cells += [
                f"{cell['rps']:.0f}" + (f" ({errors} err)" if errors else ""),
                ms(cell["p50_us"]),
                ms(cell["p99_us"]),
                ratio,
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(results: list[dict], bulk: dict, concurrencies: list[int]) -> list[dict]:
    by = {r["name"]: r for r in results}
    top, one = str(max(concurrencies)), str(min(concurrencies))
    checks = []

    def check(name, value, limit, ok, detail):
        checks.append(
            {"target": name, "value": round(value, 2), "limit": limit, "met": ok, "detail": detail}
        )

    for r in results:
        if r["kind"] != "read":
            continue
        cell, floor = r["cells"].get(top), r["floor_cells"].get(top)
        if cell and floor and floor["rps"]:
            ratio = cell["rps"] / floor["rps"]
            check(f"{r['name']}: throughput vs floor (c={top})", ratio, ">= 0.6", ratio >= 0.6,
                  f"{cell['rps']:.0f} vs {floor['rps']:.0f} req/s")  # fmt: skip

    def slower(a, b, label):
        ca, cb = by.get(a, {}).get("cells", {}).get(one), by.get(b, {}).get("cells", {}).get(one)
        if ca and cb and cb["p50_us"]:
            factor = ca["p50_us"] / cb["p50_us"]
            check(label, factor, "<= 2", factor <= 2,
                  f"p50 {ms(ca['p50_us'])} ms vs {ms(cb['p50_us'])} ms (c={one})")  # fmt: skip

    for r in results:  # the back-office: a server time, one request at a time
        cell = r["cells"].get(one)
        if r["kind"] == "admin" and cell:
            p50 = cell["p50_us"] / 1000
            check(f"{r['name']}: p50 at c={one}", p50, "< 300 ms", p50 < ADMIN_MS,
                  f"p50 {ms(cell['p50_us'])} ms, p99 {ms(cell['p99_us'])} ms, "
                  f"{sum(cell['errors'].values())} errors")  # fmt: skip

    slower("store search", "store search @10k", "store search at 1M vs at 10k")
    slower("store search broad", "store search broad @10k", "broad store search at 1M vs 10k")
    slower("b2b search", "b2b search @10k", "b2b search at 1M vs at 10k")
    slower("b2b search broad", "b2b search broad @10k", "broad b2b search at 1M vs 10k")
    slower("store list p1000", "store list p1", "store list page 1,000 vs page 1")
    slower("b2b analytics (1,000 orders)", "b2b detail", "analytics (1,000 orders) vs b2b detail")
    st = bulk.get("statements", {})
    if st:
        values = list(st.values())
        check("bulk removal: statements for 10 vs 1,000 ids", values[-1] - values[0], "== 0",
              values[0] == values[-1], f"{values[0]} vs {values[-1]}")  # fmt: skip
    return checks


def markdown(report: dict) -> str:
    c = report["concurrencies"]
    lines = [
        "# Benchmark results (generated by `make bench`)",
        "",
        f"- date: {report['date']}",
        f"- machine: {report['machine']}",
        f"- load average before / after: {report['load_before']} / {report['load_after']}",
        f"- data: {report['customers']:,} customers in tenant `bench`",
        f"- server: {report['server']}; load generator: {report['tool']}; "
        f"{report['duration']} s per cell",
        f"- command: `{report['command']}`",
        "",
        table(report["results"], c),
        "",
        "## Bulk removal of 1,000 ids (DELETE /customers/bulk)",
        "",
        "```json",
        json.dumps(report["bulk_removal"], indent=2),
        "```",
        "",
        "## Streaming the data dialect's full array",
        "",
        "```json",
        json.dumps(report["streaming"], indent=2),
        "```",
        "",
        "## Targets",
        "",
        "| target | value | limit | met | detail |",
        "|---|---|---|---|---|",
        *[
            f"| {t['target']} | {t['value']} | {t['limit']} | {'yes' if t['met'] else '**no**'} "
            f"| {t['detail']} |"
            for t in report["targets"]
        ],
        "",
    ]
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the hub (docs/performance.md).")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated parts of endpoint names (and/or 'bulk removal', 'streaming')",
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench-results.json"))
    parser.add_argument("--markdown", default=str(ROOT / "docs" / "bench-results.md"))
    parser.add_argument("--no-load", action="store_true", help="prepare the data only")
    args = parser.parse_args(argv)
    # SIGTERM (timeout, kill) unwinds like Ctrl-C, so the server is always stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    concurrencies = [int(c) for c in args.concurrency.split(",") if c.strip()]

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        log(f"DATABASE_URL is not PostgreSQL ({database_url}); using {DEFAULT_URL}")
        database_url = DEFAULT_URL
    configure_environment(database_url)
    sys.path.insert(0, str(ROOT))
    ensure_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    load_before = load_average()
    ensure_data(args.customers)
    if args.no_load:
        return 0
    creds = credentials()
    s = samples(args.customers)
    all_endpoints = endpoints(s, creds)
    wanted = [n.strip().lower() for n in args.only.split(",") if n.strip()]

    def chosen(name: str) -> bool:
        return not wanted or any(w in name.lower() for w in wanted)

    all_endpoints = [e for e in all_endpoints if chosen(e["name"])]
    tool = "wrk" if shutil.which("wrk") else "loadgen"
    if tool == "loadgen":
        log("wrk not found (apt-get install wrk): using bench/loadgen.py (slower client)")

    log("counting SQL queries per request (in-process)")
    for e in all_endpoints:
        e["queries"], e["status"] = count_queries(e["method"], e["path"], e["headers"], e["body"])
        e["floor_queries"], e["floor_status"] = (
            count_queries(e["method"], e["floor"], e["headers"], e["body"])
            if e["floor"]
            else (None, None)
        )
        log(
            f"  {e['name']}: {e['queries']} queries (HTTP {e['status']}), floor {e['floor_queries']}"
        )
    from django.db import connections

    connections.close_all()

    server = Server(args.port, args.workers, args.threads)
    results = []
    bulk = {}
    streaming = []
    try:
        server.start()
        for e in all_endpoints:  # warm-up: every worker's connection, caches, plans
            load(args.port, e, e["path"], 4, 1, tool)
            if e["floor"]:
                load(args.port, e, e["floor"], 4, 1, tool)
        for e in all_endpoints:
            row = {k: e[k] for k in ("name", "method", "path", "kind", "queries", "floor_queries")}
            row["status"], row["cells"], row["floor_cells"] = e["status"], {}, {}
            for c in concurrencies:
                row["cells"][str(c)] = load(args.port, e, e["path"], c, args.duration, tool)
                cell = row["cells"][str(c)]
                floor_text = "no floor"
                if e["floor"]:
                    floor = load(args.port, e, e["floor"], c, args.duration, tool)
                    row["floor_cells"][str(c)] = floor
                    floor_text = f"floor {floor['rps']:.0f} req/s"
                log(
                    f"  {e['name']} c={c}: {cell['rps']:.0f} req/s p50 {ms(cell['p50_us'])} ms"
                    f" p99 {ms(cell['p99_us'])} ms; {floor_text}"
                )
            results.append(row)
        if chosen("bulk removal"):
            log("bulk removal of 1,000 ids")
            store_headers = {
                "Authorization": f"Bearer {creds['token']}",
                "x-store-id": s["bench"]["store"],
            }
            bulk = bulk_removal(s, store_headers, args.port, BULK_REPEATS)
        if chosen("streaming"):
            for slug in ("bench-10k", "bench-100k"):
                log(f"streaming the full array of tenant {slug}")
                streaming.append(stream_full_array(server, creds["token"], slug))
    finally:
        server.stop()
        connections.close_all()

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_average(),
        "customers": args.customers,
        "server": f"gunicorn gthread, {args.workers} workers x {args.threads} threads",
        "tool": tool,
        "duration": args.duration,
        "concurrencies": concurrencies,
        "command": "make bench  # python -m tests.bench.run " + " ".join(argv or sys.argv[1:]),
        "results": results,
        "bulk_removal": bulk,
        "streaming": streaming,
    }
    report["targets"] = targets(results, bulk, concurrencies)
    text = markdown(report)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, default=str) + "\n")
    Path(args.markdown).write_text(text)
    log(f"wrote {args.out} and {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
