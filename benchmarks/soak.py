"""Soak test: a bounded number of JSON plans, and each gunicorn worker's memory before and after.

    python benchmarks/soak.py                    # 100,000 requests to POST /api/plan
    python benchmarks/soak.py --requests 20000

Starts ``gunicorn -w 2 'app:create_app()'`` on 127.0.0.1 (random SECRET_KEY), finds the workers
as children of the master (/proc), reads each worker's RSS (VmRSS in /proc/<pid>/status) after
start-up, after a warm-up, and after the soak, and prints the growth. wrk sends the requests with
a script that stops each thread after its share, so the count is bounded (a little over N with
requests in flight), and a time limit bounds it too. Target: growth after warm-up < 10%.
Nothing is asserted. Needs wrk (apt-get install -y wrk).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

from _common import (ROOT, Gunicorn, lua_string, print_table, request, rss_kb, secret_env,
                     typical_answers)

LUA = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
local quota = {quota}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) done_count = 0; non2xx = 0 end
function response(status, headers, body)
  done_count = done_count + 1
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if done_count >= quota then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local n, bad = 0, 0
  for _, t in ipairs(threads) do n = n + t:get("done_count"); bad = bad + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format('BENCHJSON {{"responses": %.0f, "non2xx": %.0f, "socket": %.0f, ' ..
    '"duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f}}\\n', n, bad,
    e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def soak(url: str, body: str, n: int, threads: int, connections: int, limit_s: int, tmp: str) -> dict:
    script = os.path.join(tmp, f"soak-{n}.lua")
    with open(script, "w") as fh:
        fh.write(LUA.format(body=lua_string(body), quota=math.ceil(n / threads)))
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{limit_s}s",
           "--timeout", "10s", "-s", script, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=limit_s + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            return json.loads(line[len("BENCHJSON "):])
    raise RuntimeError(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--warmup", type=int, default=2_000, help="requests before the 'before' reading")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--time-limit", type=int, default=900, help="seconds at most (default 900)")
    args = ap.parse_args(argv)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    body = json.dumps(typical_answers())

    with tempfile.TemporaryDirectory(prefix="bonemets-soak-") as tmp, \
            Gunicorn("app:create_app()", cwd=ROOT, env=secret_env()) as app:
        app.wait_ready("/healthz")
        status, _, _ = request("POST", app.port, "/api/plan", body, {"Content-Type": "application/json"})
        if status != 200:
            sys.exit(f"/api/plan answered {status}; not soaking")
        workers = app.workers()
        if not workers:
            sys.exit("found no gunicorn workers")
        start = {p: rss_kb(p) for p in workers}
        warm = soak(app.url + "/api/plan", body, args.warmup, args.threads, args.connections, 120, tmp)
        before = {p: rss_kb(p) for p in workers}
        t0 = time.monotonic()
        run = soak(app.url + "/api/plan", body, args.requests, args.threads, args.connections,
                   args.time_limit, tmp)
        elapsed = time.monotonic() - t0
        after = {p: rss_kb(p) for p in workers}
        still = app.workers()

    print(f"POST /api/plan x {run['responses']:,} (asked {args.requests:,}; after "
          f"{warm['responses']:,} warm-up requests) in {elapsed:.1f} s = "
          f"{run['responses'] / elapsed:.0f} req/s; p50 {run['p50_us'] / 1000:.1f} ms, "
          f"p99 {run['p99_us'] / 1000:.1f} ms; non-2xx {run['non2xx'] + warm['non2xx']:.0f}, "
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
