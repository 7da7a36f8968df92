"""Duplicate detection at a million customers (issue 20, "Speed"), on PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench python -m tests.bench.duplicates [SAMPLES]

1. The database and data of ``make bench`` (tests.bench.run: tenant ``bench``, 1,000,000
   generated customers), made when missing.
2. ``duplicate_candidates`` (what the hub API and the 360 page call) for SAMPLES (100)
   customers of ``bench`` picked at random (seeded: the same ones each run), in-process,
   one at a time after a warm-up call: p50, p90 and max.
3. ``manage.py find_duplicates bench`` over the whole tenant in a subprocess, so that its
   peak memory is its own (``wait4``'s maximum resident set size): wall time, customers a
   second, the pairs it opened and the open pairs in the queue after it.

Prints the figures and the targets (candidates p50 < 50 ms, the whole pass < 15 minutes)
and writes docs/bench-duplicates.json. docs/duplicates.md explains the figures.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

CANDIDATES_P50_MS = 50
PASS_SECONDS = 15 * 60
SLUG = "bench"


def candidates(tenant, samples: int) -> dict:
    from customers.duplicates import duplicate_candidates
    from customers.selectors import customers_for_tenant

    live = customers_for_tenant(tenant=tenant).order_by("pk")
    first, last = (
        live.values_list("pk", flat=True).first(),
        live.reverse().values_list("pk", flat=True).first(),
    )
    rng = random.Random(1)
    chosen = []
    while len(chosen) < samples:
        customer = live.filter(pk__gte=rng.randint(first, last)).first()
        if customer is not None and customer.pk not in {c.pk for c in chosen}:
            chosen.append(customer)
    duplicate_candidates(customer=chosen[0])  # warm-up: the connection, the plans
    timings, found = [], 0
    for customer in chosen:
        start = time.perf_counter()
        found += len(duplicate_candidates(customer=customer))
        timings.append(1000 * (time.perf_counter() - start))
    deciles = statistics.quantiles(timings, n=10)
    return {
        "customers": samples,
        "p50_ms": round(statistics.median(timings), 1),
        "p90_ms": round(deciles[-1], 1),
        "max_ms": round(max(timings), 1),
        "candidates_found": found,
    }


def whole_pass(root: Path, tenant) -> dict:
    from customers.models import DuplicatePair, DuplicateStatus
    from customers.selectors import customers_total

    command = [sys.executable, "manage.py", "find_duplicates", SLUG, "--no-progress"]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"find_duplicates failed ({status}): {output}")
    checked = re.search(r"(\d+) customer\(s\) checked, (\d+) pair\(s\) opened", output)
    customers = int(checked.group(1)) if checked else customers_total(tenant=tenant)
    return {
        "command": " ".join(command[1:]),
        "seconds": round(seconds, 1),
        "customers": customers,
        "customers_per_second": round(customers / seconds),
        "pairs_opened": int(checked.group(2)) if checked else None,
        "open_pairs": DuplicatePair.objects.filter(
            tenant=tenant, status=DuplicateStatus.OPEN
        ).count(),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "output": output.strip(),
    }


def main(samples: int = 100) -> None:
    from tests.bench.run import (
        DEFAULT_URL,
        ROOT,
        configure_environment,
        ensure_data,
        ensure_database,
        load_average,
        machine,
    )

    database_url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    configure_environment(database_url)
    ensure_database(database_url)
    import django

    django.setup()
    from django.core.management import call_command

    from tenants.models import Tenant

    call_command("migrate", verbosity=0)
    ensure_data(1_000_000)
    tenant = Tenant.objects.get(slug=SLUG)
    load_before = load_average()
    found = candidates(tenant, samples)
    print(
        f"candidates of one customer ({samples} at random): p50 {found['p50_ms']} ms,"
        f" p90 {found['p90_ms']} ms, max {found['max_ms']} ms"
    )
    scan = whole_pass(ROOT, tenant)
    print(
        f"find_duplicates {SLUG}: {scan['seconds']} s for {scan['customers']:,} customers"
        f" ({scan['customers_per_second']:,}/s), {scan['pairs_opened']} pair(s) opened,"
        f" {scan['open_pairs']:,} open in the queue, peak RSS {scan['peak_rss_mib']} MiB"
    )
    targets = [
        {
            "name": "duplicate candidates for one customer, p50",
            "value": found["p50_ms"],
            "limit": f"< {CANDIDATES_P50_MS} ms",
            "ok": found["p50_ms"] < CANDIDATES_P50_MS,
        },
        {
            "name": "find_duplicates over the whole tenant",
            "value": scan["seconds"],
            "limit": f"< {PASS_SECONDS} s",
            "ok": scan["seconds"] < PASS_SECONDS,
        },
    ]
    for target in targets:
        print(
            f"{'ok  ' if target['ok'] else 'MISS'} {target['name']}: {target['value']} {target['limit']}"
        )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_average(),
        "command": " ".join(["python -m tests.bench.duplicates", *sys.argv[1:]]),
        "candidates": found,
        "find_duplicates": scan,
        "targets": targets,
    }
    out = ROOT / "docs" / "bench-duplicates.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
