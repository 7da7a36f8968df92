"""A small load generator for when wrk is not installed: threads + http.client, keep-alive.

``python bench/loadgen.py --url URL --concurrency C --duration S [--method M] [--header
"Name: value"]... [--body BODY]`` prints one ``BENCH_RESULT {json}`` line like bench/wrk.lua.
Every ``{n}`` in the body becomes a number unique to the request. Loopback only: the
harness passes 127.0.0.1 URLs. Bounded: each thread stops at the deadline, and after at most
``--max-requests`` requests.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import threading
import time
from urllib.parse import urlsplit


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def run(url, *, concurrency, duration, method="GET", headers=None, body="", max_requests=10**7):
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("loadgen: loopback addresses only")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = dict(headers or {})
    counter = itertools.count(1)
    unique = "{n}" in body
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    sent_bytes = [0]
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + duration

    def worker():
        mine: list[float] = []
        conn = None
        while time.perf_counter() < deadline:
            n = next(counter)
            if n > max_requests:
                break
            payload = body.replace("{n}", str(n)) if unique else body
            if conn is None:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=payload.encode() or None, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                with lock:
                    errors["read"] += 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            mine.append(time.perf_counter() - t0)
            with lock:
                sent_bytes[0] += len(data)
                if status >= 400:
                    errors["status"] += 1
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 60)
    seconds = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "bytes": sent_bytes[0],
        "errors": errors,
        "p50_us": int(percentile(latencies, 50) * 1e6),
        "p90_us": int(percentile(latencies, 90) * 1e6),
        "p99_us": int(percentile(latencies, 99) * 1e6),
        "max_us": int((latencies[-1] if latencies else 0) * 1e6),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body", default="")
    parser.add_argument("--max-requests", type=int, default=10**7)
    args = parser.parse_args(argv)
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    result = run(
        args.url,
        concurrency=args.concurrency,
        duration=args.duration,
        method=args.method,
        headers=headers,
        body=args.body,
        max_requests=args.max_requests,
    )
    print("BENCH_RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
