"""Soak test: a bounded number of JSON plans, and each gunicorn worker's memory before and after.

    python benchmarks/soak.py                    # 100,000 requests to POST /api/plan
    python benchmarks/soak.py --requests 20000

Starts ``gunicorn -w 2 'app:create_app()'`` on 127.0.0.1 (random SECRET_KEY), finds the workers
as children of the master (/proc), reads each worker's RSS (VmRSS in /proc/<pid>/status) after
start-up, after a warm-up, and after the soak, and prints the growth. A few Python threads send
the requests with http.client (exactly N in all; a time limit bounds the run too). wrk is not
used here: it cannot stop after a request count without leaving half-open connections that
tie up gunicorn's sync workers. Target: growth after warm-up < 10%. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time

from _common import (HOST, ROOT, Gunicorn, print_table, request, rss_kb, secret_env,
                     typical_answers)

def soak(port: int, body: str, n: int, threads: int, limit_s: float) -> dict:
    """Send n POST /api/plan from ``threads`` threads (one http.client connection each,
    reopened when gunicorn's sync worker closes it). Bounded by n and by limit_s."""
    headers = {"Content-Type": "application/json"}
    deadline = time.monotonic() + limit_s
    lock = threading.Lock()
    totals = {"responses": 0, "non2xx": 0, "socket": 0}
    latencies: list = []

    def worker(quota: int):
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        mine, ok, bad, errs = [], 0, 0, 0
        for _ in range(quota):
            if time.monotonic() > deadline:
                break
            t = time.perf_counter()
            try:
                conn.request("POST", "/api/plan", body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                if 200 <= r.status < 300:
                    ok += 1
                else:
                    bad += 1
                if r.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                errs += 1
                conn.close()
                continue
            mine.append(time.perf_counter() - t)
        conn.close()
        with lock:
            totals["responses"] += ok + bad
            totals["non2xx"] += bad
            totals["socket"] += errs
            latencies.extend(mine)

    share = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
    pool = [threading.Thread(target=worker, args=(q,)) for q in share]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    latencies.sort()
    pick = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0)
    return {**totals, "p50_ms": pick(0.50) * 1000, "p99_ms": pick(0.99) * 1000}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--warmup", type=int, default=2_000, help="requests before the 'before' reading")
    ap.add_argument("--threads", type=int, default=4, help="client threads (default 4)")
    ap.add_argument("--time-limit", type=int, default=900, help="seconds at most (default 900)")
    args = ap.parse_args(argv)
    body = json.dumps(typical_answers())

    with Gunicorn("app:create_app()", cwd=ROOT, env=secret_env()) as app:
        app.wait_ready("/healthz")
        status, _, _ = request("POST", app.port, "/api/plan", body, {"Content-Type": "application/json"})
        if status != 200:
            sys.exit(f"/api/plan answered {status}; not soaking")
        workers = app.workers()
        if not workers:
            sys.exit("found no gunicorn workers")
        start = {p: rss_kb(p) for p in workers}
        warm = soak(app.port, body, args.warmup, args.threads, 120)
        before = {p: rss_kb(p) for p in workers}
        t0 = time.monotonic()
        run = soak(app.port, body, args.requests, args.threads, args.time_limit)
        elapsed = time.monotonic() - t0
        after = {p: rss_kb(p) for p in workers}
        still = app.workers()

    print(f"POST /api/plan x {run['responses']:,} (asked {args.requests:,}; after "
          f"{warm['responses']:,} warm-up requests) in {elapsed:.1f} s = "
          f"{run['responses'] / elapsed:.0f} req/s; p50 {run['p50_ms']:.1f} ms, "
          f"p99 {run['p99_ms']:.1f} ms; non-2xx {run['non2xx'] + warm['non2xx']:.0f}, "
          f"socket errors {run['socket'] + warm['socket']:.0f}")
    if still != workers:
        print(f"WARNING: workers changed during the soak ({workers} -> {still}): a worker restarted")
    print()
    rows = []
    for p in workers:
        growth = 100.0 * (after[p] - before[p]) / before[p]
        rows.append([p, f"{start[p] / 1024:.1f}", f"{before[p] / 1024:.1f}", f"{after[p] / 1024:.1f}",
                     f"{growth:+.2f}%", f"{100.0 * (after[p] - start[p]) / start[p]:+.2f}%",
                     "< 10% met" if growth < 10 else "< 10% MISSED"])
    print_table(["worker pid", "RSS start MB", "after warm-up MB", "after soak MB",
                 "growth (warm)", "growth (start)", "target"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
