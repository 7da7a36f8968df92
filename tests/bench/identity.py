"""Issue 20's speed figures (docs/performance.md, "Identity (issue 20)"), on PostgreSQL with
the benchmark's million customers (tests/bench/run.py generates them when missing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench python -m tests.bench.identity \
        [--rounds 5] [--requests 25] [--batches 72] [--before TREE] [--before-database-url URL]

1. **Merge.** The generated customer with 1,000 orders is given 50 addresses (through
   ``address_add``) and merged into another generated customer with
   ``customers.merging.customer_merge`` (the whole service: its transaction, the history,
   the events, the orders' move), then ``merge_undo`` puts it back; ``--rounds`` times. An
   untimed first round counts the statements (``CaptureQueriesContext``).
2. **Find-or-create.** ``POST /api/data/customer`` through Django's test client, in-process
   (the whole request: middleware, authentication, view, service, COMMIT; no HTTP server), one
   request at a time, alternating request by request an existing customer found by its
   Discord id (500 generated customers in turn) and a new customer (a new Discord id each
   time). The same measurement runs in this tree and in a checkout of the commit before
   issue 20 (``BEFORE_COMMIT``: the customer found by its ``discord_id`` column, no
   identifier table) on its own million-customer database, in two processes that stay warm
   and take turns by batches of ``--requests`` of each mode (under a second), ``--batches``
   each, so that the machine's drift weighs on both alike. Throughput at one request at a time is the inverse of the median latency:
   the ratio now / before is the medians' before / now.

   The measuring process (``worker``) is this file, copied aside and run with each tree's
   Python from each tree's directory: it uses only what both trees have (the data dialect,
   ``tests.bench.run``'s helpers, the ``Customer`` columns). Without ``--before``, the older
   tree is prepared in ``$TMPDIR/hub-bench-before-<commit>`` (``git worktree add``, its
   ``make install``, its ``tests.bench.run --no-load`` on ``<database>_before``: once).

Prints a summary and writes ``docs/bench-identity.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hub_bench"
BEFORE_COMMIT = "139cabc"  # main before issue 20: no customers.Identifier
ADDRESSES = 50
EXISTING = 500  # generated customers found in turn by the existing-customer requests
WARMUP = 30  # requests of each mode not measured, per worker process
MODES = ("existing", "new")


def log(message: str) -> None:
    print(f"[identity {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def ms(seconds: float) -> float:
    return round(1000 * seconds, 2)


# --- the worker: find-or-create in one tree (runs in both trees: keep to what both have) ---------


def worker() -> None:
    """Serve the orchestrator on stdin/stdout, one JSON line each: ``ready`` with the
    statements of each mode once warmed up, then for each line ``N`` the latencies of N
    find-or-creates of each mode (alternating request by request); an empty line ends."""
    from tests.bench.run import configure_environment

    configure_environment(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from customers.models import Customer
    from tenants.models import Tenant
    from tests.bench.run import credentials

    tenant = Tenant.objects.get(slug="bench")
    creds = credentials()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {creds['token']}", HTTP_X_TENANT_ID="bench")
    # the same generated customers in both trees' databases (the generator's seed): from the
    # middle of the tenant, with a Discord id
    existing = list(
        Customer.objects.filter(tenant=tenant, external_id__gte="gen-00500000")
        .exclude(discord_id="")
        .order_by("external_id")
        .values("discord_id", "discord_username", "discord_display_name")[:EXISTING]
    )
    assert len(existing) == EXISTING, len(existing)
    serial = int(time.time() * 1000) % 10**12 * 1000

    def body(mode: str, i: int) -> dict:
        nonlocal serial
        if mode == "existing":
            row = existing[i % EXISTING]
            return {
                "discordId": row["discord_id"],
                "discordUsername": row["discord_username"] or "bench",
                "discordDisplayName": row["discord_display_name"] or "Bench",
            }
        serial += 1
        return {
            "discordId": f"9{serial}",
            "discordUsername": f"idb{serial}",
            "discordDisplayName": "Identity Bench",
        }

    expected = {"existing": 200, "new": 201}

    def send(mode: str, i: int) -> float:
        payload = body(mode, i)
        start = time.perf_counter()
        response = client.post("/api/data/customer", payload, content_type="application/json")
        elapsed = time.perf_counter() - start
        assert response.status_code == expected[mode], (
            mode,
            response.status_code,
            response.content,
        )
        return elapsed

    for i in range(WARMUP):
        for mode in MODES:
            send(mode, i)
    queries = {}
    for mode in MODES:
        with CaptureQueriesContext(connection) as ctx:
            send(mode, 7)
        queries[mode] = len(ctx.captured_queries)
    print(json.dumps({"ready": True, "queries": queries}), flush=True)
    done = WARMUP
    for line in sys.stdin:
        if not line.strip():
            break
        timings: dict[str, list[float]] = {mode: [] for mode in MODES}
        for i in range(2 * int(line)):
            mode = MODES[(i + done) % 2]  # which comes first alternates from batch to batch
            timings[mode].append(send(mode, done + i))
        done += 2 * int(line) + 1
        print(json.dumps({"timings": timings}), flush=True)


# --- find-or-create: both trees, alternating ------------------------------------------------------


def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def prepare_before(tree: Path, database_url: str) -> None:
    """A checkout of ``BEFORE_COMMIT`` with its own virtualenv and its generated database."""
    if not (tree / ".git").exists():
        log(f"checking out {BEFORE_COMMIT} in {tree}")
        _git("worktree", "add", "--detach", str(tree), BEFORE_COMMIT)
    if not (tree / ".venv" / "bin" / "python").exists():
        log(f"installing {tree} (make install)")
        subprocess.run(["make", "install"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
    log(f"the older tree's data on {database_url} (generated once)")
    subprocess.run(
        [str(tree / ".venv" / "bin" / "python"), "-m", "tests.bench.run", "--no-load"],
        cwd=tree,
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
    )


class Worker:
    """A measuring process in ``tree`` (its Python, its database), warm between batches."""

    def __init__(self, script: Path, tree: Path, python: Path, database_url: str):
        env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(tree)}
        self.process = subprocess.Popen(
            [str(python), str(script), "--worker"],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.queries = self._read()["queries"]

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker ended (exit {self.process.wait()})")
        return json.loads(line)

    def run(self, requests: int) -> dict[str, list[float]]:
        self.process.stdin.write(f"{requests}\n")
        self.process.stdin.flush()
        return self._read()["timings"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def find_or_create(args, database_url: str) -> dict:
    before_tree = Path(args.before).resolve()
    before_url = args.before_database_url or f"{database_url}_before"
    prepare_before(before_tree, before_url)
    trees = {
        "now": (ROOT, Path(sys.executable), database_url),
        "before": (before_tree, before_tree / ".venv" / "bin" / "python", before_url),
    }
    commits = {
        "now": _git("describe", "--always", "--dirty"),
        "before": _git("rev-parse", "--short", "HEAD", cwd=before_tree),
    }
    timings = {tree: {mode: [] for mode in MODES} for tree in trees}
    workers: dict[str, Worker] = {}
    loads = [load_average()]
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "identity_worker.py"
        shutil.copyfile(__file__, script)
        try:
            for name, (tree, python, url) in trees.items():
                workers[name] = Worker(script, tree, python, url)
            # both processes stay warm; they take turns by small batches (under a second),
            # so that the machine's drift weighs on both trees alike
            for batch in range(args.batches):
                order = ("now", "before") if batch % 2 == 0 else ("before", "now")
                for name in order:
                    out = workers[name].run(args.requests)
                    for mode in MODES:
                        timings[name][mode] += out[mode]
                if (batch + 1) % max(1, args.batches // 6) == 0:
                    loads.append(load_average())
                    now = {m: ms(statistics.median(timings["now"][m])) for m in MODES}
                    before = {m: ms(statistics.median(timings["before"][m])) for m in MODES}
                    log(
                        f"batch {batch + 1}/{args.batches}: now {now}, before {before} (load {loads[-1]})"
                    )
        finally:
            for w in workers.values():
                w.stop()
    result = {
        "commits": commits,
        "databases": {"now": database_url, "before": before_url},
        "requests_per_mode_per_tree": args.requests * args.batches,
        "batches": args.batches,
        "queries": {name: w.queries for name, w in workers.items()},
        "load": loads,
        "modes": {},
    }
    for mode in MODES:
        row = {}
        for name in trees:
            values = timings[name][mode]
            deciles = statistics.quantiles(values, n=10)
            median = statistics.median(values)
            row[name] = {
                "median_ms": ms(median),
                "p10_ms": ms(deciles[0]),
                "p90_ms": ms(deciles[-1]),
                "req_per_s": round(1 / median, 1),
            }
        row["ratio"] = round(row["before"]["median_ms"] / row["now"]["median_ms"], 3)
        row["ratio_p10"] = round(row["before"]["p10_ms"] / row["now"]["p10_ms"], 3)
        result["modes"][mode] = row
    return result


# --- merge -------------------------------------------------------------------------------------


def merge(rounds: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from b2b.models import Account, SalesOrder
    from customers.merging import customer_merge, merge_undo
    from customers.models import Address, Customer
    from customers.services import address_add
    from tenants.models import Tenant

    tenant = Tenant.objects.get(slug="bench")
    heavy = (
        SalesOrder.objects.filter(tenant=tenant, order_number__endswith="-1000").first().customer
    )
    orders = SalesOrder.objects.filter(customer=heavy).count()
    have = set(Address.objects.filter(customer=heavy).values_list("key", flat=True))
    added = 0
    for i in range(1, ADDRESSES + 1):
        if len(have) >= ADDRESSES:
            break
        key = f"bench-merge-{i:02d}"
        if key in have:
            continue
        address_add(
            customer=heavy,
            key=key,
            name=f"Address {i}",
            line1=f"{i} Merge Street",
            city="Rotterdam",
            postal_code="3011 AA",
            country="NL",
        )
        have.add(key)
        added += 1
    addresses = Address.objects.filter(customer=heavy).count()
    # the survivor: a live generated customer from the middle of the tenant, without a B2B
    # account of another currency (which would block the merge)
    survivor = None
    heavy_currency = Account.objects.filter(customer=heavy).values_list("currency", flat=True)
    for candidate in Customer.objects.filter(
        tenant=tenant, external_id__gte="gen-00400000", merged_into__isnull=True
    ).order_by("external_id")[:50]:
        currency = Account.objects.filter(customer=candidate).values_list("currency", flat=True)
        if candidate.pk != heavy.pk and not (
            currency and heavy_currency and currency[0] != heavy_currency[0]
        ):
            survivor = candidate
            break
    assert survivor is not None
    log(
        f"merge: customer {heavy.uuid} ({orders:,} orders, {addresses} addresses, {added} added)"
        f" into {survivor.uuid}"
    )

    def fresh():
        return Customer.objects.get(pk=survivor.pk), Customer.objects.get(pk=heavy.pk)

    # an untimed round: the statements of each, and warm caches
    s, m = fresh()
    with CaptureQueriesContext(connection) as ctx:
        done = customer_merge(survivor=s, merged=m)
    merge_statements = len(ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        undone = merge_undo(merge=done)
    undo_statements = len(ctx.captured_queries)
    assert not undone.problems, undone.problems
    merges, undos = [], []
    loads = [load_average()]
    for _ in range(rounds):
        s, m = fresh()
        start = time.perf_counter()
        done = customer_merge(survivor=s, merged=m)
        merges.append(time.perf_counter() - start)
        start = time.perf_counter()
        undone = merge_undo(merge=done)
        undos.append(time.perf_counter() - start)
        assert not undone.problems, undone.problems
    loads.append(load_average())
    assert SalesOrder.objects.filter(customer=heavy).count() == orders
    return {
        "merged": {"customer": str(heavy.uuid), "orders": orders, "addresses": addresses},
        "survivor": str(survivor.uuid),
        "rounds": rounds,
        "merge": {
            "median_ms": ms(statistics.median(merges)),
            "max_ms": ms(max(merges)),
            "statements": merge_statements,
            "all_ms": [ms(x) for x in merges],
        },
        "undo": {
            "median_ms": ms(statistics.median(undos)),
            "max_ms": ms(max(undos)),
            "statements": undo_statements,
            "all_ms": [ms(x) for x in undos],
        },
        "load": loads,
    }


# --- main ----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Issue 20's speed figures (docs/performance.md).")
    parser.add_argument("--rounds", type=int, default=5, help="merges (and undos) timed")
    parser.add_argument("--requests", type=int, default=25, help="per mode, per batch")
    parser.add_argument("--batches", type=int, default=72, help="per tree, the trees alternating")
    parser.add_argument(
        "--before",
        default=str(Path(tempfile.gettempdir()) / f"hub-bench-before-{BEFORE_COMMIT}"),
        help=f"a checkout of {BEFORE_COMMIT} (prepared there when missing)",
    )
    parser.add_argument("--before-database-url", default="", help="default: <DATABASE_URL>_before")
    parser.add_argument("--skip", default="", help="merge and/or find-or-create, comma-separated")
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench-identity.json"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker()
        return 0

    from tests.bench.run import configure_environment, ensure_data, ensure_database, machine

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not database_url.startswith(("postgres://", "postgresql://")):
        log(f"DATABASE_URL is not PostgreSQL ({database_url}); using {DEFAULT_URL}")
        database_url = DEFAULT_URL
    configure_environment(database_url)
    ensure_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    ensure_data(1_000_000)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_at_start": load_average(),
        "database": database_url,
    }
    if "merge" not in skip:
        report["merge"] = merge(args.rounds)
    connections.close_all()
    if "find-or-create" not in skip:
        report["find_or_create"] = find_or_create(args, database_url)
    report["load_at_end"] = load_average()
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(summary(report, args.out))
    return 0


def summary(report: dict, out: str) -> str:
    lines = [f"identity bench, {report['date']}, load {report['load_at_start']}"]
    if "merge" in report:
        m = report["merge"]
        lines.append(
            f"merge of a customer with {m['merged']['orders']:,} orders and "
            f"{m['merged']['addresses']} addresses ({m['rounds']} rounds): median "
            f"{m['merge']['median_ms']} ms, max {m['merge']['max_ms']} ms, "
            f"{m['merge']['statements']} statements (target < 1 s); undo median "
            f"{m['undo']['median_ms']} ms, max {m['undo']['max_ms']} ms, "
            f"{m['undo']['statements']} statements"
        )
    if "find_or_create" in report:
        f = report["find_or_create"]
        lines.append(
            f"find-or-create, {f['requests_per_mode_per_tree']:,} requests per mode and tree "
            f"(now {f['commits']['now']}, before {f['commits']['before']}):"
        )
        for mode, row in f["modes"].items():
            lines.append(
                f"  {mode}: now {row['now']['median_ms']} ms ({row['now']['req_per_s']} req/s, "
                f"{f['queries']['now'][mode]} queries), before {row['before']['median_ms']} ms "
                f"({row['before']['req_per_s']} req/s, {f['queries']['before'][mode]} queries): "
                f"ratio now/before {row['ratio']} (target >= 0.9; of the p10s {row['ratio_p10']})"
            )
    lines.append(f"load at the end {report['load_at_end']}; written to {out}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
