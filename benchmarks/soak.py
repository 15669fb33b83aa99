"""Soak test: a bounded number of JSON plans, and each gunicorn worker's memory before and after.

    python benchmarks/soak.py                    # 100,000 requests to POST /api/plan
    python benchmarks/soak.py --requests 20000
    python benchmarks/soak.py --route results --requests 20000   # GET /plan, random answers

Starts ``gunicorn -w 2 'app:create_app()'`` on 127.0.0.1 (random SECRET_KEY), finds the workers
as children of the master (/proc), reads each worker's RSS (VmRSS in /proc/<pid>/status) after
start-up, after a warm-up, and after the soak, and prints the growth. A few Python threads send
the requests with http.client (exactly N in all; a time limit bounds the run too). wrk is not
used here: it cannot stop after a request count without leaving half-open connections that
tie up gunicorn's sync workers. Target: growth after warm-up < 10%. Nothing is asserted.

``--route results`` soaks the results page instead: ``GET /plan`` with an answers cookie picked
at random from 2,000 of random answer sets (the app's own ``carry.save``, the server's key), under
the production settings (``deploy/gunicorn.conf.py``, with worker recycling off so that growth
shows): the kept parts of pages (bonemets/fragments.py) are the memory that grows there.
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time

from _common import (HOST, ROOT, Gunicorn, GunicornConf, kept_cookies, print_table, request,
                     rss_kb, secret_env, typical_answers)

def soak(port: int, body: str, n: int, threads: int, limit_s: float, cookies=None) -> dict:
    """Send n POST /api/plan (with ``cookies``: GET /plan, each with one of them at random) from
    ``threads`` threads (one http.client connection each, reopened when the server closes it).
    Bounded by n and by limit_s."""
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
                if cookies:
                    conn.request("GET", "/plan", headers={"Cookie": random.choice(cookies)})
                else:
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
    ap.add_argument("--route", choices=("api", "results"), default="api",
                    help="api: POST /api/plan, typical answers (default); results: GET /plan, "
                         "random kept answers, production settings")
    args = ap.parse_args(argv)
    body = json.dumps(typical_answers())
    env = secret_env()
    cookies = None
    if args.route == "results":
        from bonemets.views import carry
        cookies = [f"{carry.COOKIE}={v}" for v in kept_cookies(env["SECRET_KEY"], 2000)]
        server = GunicornConf(None, cwd=ROOT, env=env, args=["--max-requests", "0"])
    else:
        server = Gunicorn("app:create_app()", cwd=ROOT, env=env)

    with server as app:
        app.wait_ready("/healthz")
        if cookies:
            status, _, _ = request("GET", app.port, "/plan", headers={"Cookie": cookies[0]})
        else:
            status, _, _ = request("POST", app.port, "/api/plan", body,
                                   {"Content-Type": "application/json"})
        if status != 200:
            sys.exit(f"{'GET /plan' if cookies else 'POST /api/plan'} answered {status}; not soaking")
        workers = app.workers()
        if not workers:
            sys.exit("found no gunicorn workers")
        start = {p: rss_kb(p) for p in workers}
        warm = soak(app.port, body, args.warmup, args.threads, 120, cookies)
        before = {p: rss_kb(p) for p in workers}
        t0 = time.monotonic()
        run = soak(app.port, body, args.requests, args.threads, args.time_limit, cookies)
        elapsed = time.monotonic() - t0
        after = {p: rss_kb(p) for p in workers}
        still = app.workers()

    route = "GET /plan" if cookies else "POST /api/plan"
    print(f"{route} x {run['responses']:,} (asked {args.requests:,}; after "
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
