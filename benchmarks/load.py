"""Load test: bonemets under gunicorn against a Flask hello-world, in the same run.

    python benchmarks/load.py            # 30 s a route
    python benchmarks/load.py --quick    # 5 s a route
    python benchmarks/load.py --duration 60 --connections 64

Starts ``gunicorn -w 2 'app:create_app()'`` (a random SECRET_KEY in its environment) and
``gunicorn -w 2 hello:app`` (benchmarks/hello.py) on 127.0.0.1, waits for /healthz, then drives
each route with wrk. The POST routes use the real CSRF protection: one GET of the questionnaire
gives a token and a session cookie, and the wrk script sends both (no app switch needed).

Prints requests/s, p50 and p99 latency, errors (non-2xx responses and socket errors) and the
ratio of each route to the hello-world measured in this run: GET routes against GET /, the JSON
API against POST /echo with the same JSON body, form routes against POST /echo with the same
form body. Targets: no errors; /api/plan >= 0.5x; /questionnaire >= 0.4x. Nothing is asserted.
Needs wrk (apt-get install -y wrk).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from _common import (HERE, ROOT, Gunicorn, csrf_session, form_body, lua_string, print_table,
                     request, secret_env, typical_answers)

LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {{"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, ' ..
    '"non2xx": %.0f, "connect": %.0f, "read": %.0f, "write": %.0f, "timeout": %.0f}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, e.connect, e.read, e.write, e.timeout))
end
"""


def write_script(folder: str, name: str, method: str, body: str = "", headers: dict | None = None) -> str:
    lines = "\n".join(f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}"
                      for k, v in (headers or {}).items())
    path = os.path.join(folder, f"{name}.lua")
    with open(path, "w") as fh:
        fh.write(LUA.format(method=lua_string(method), body=lua_string(body) if body else "nil",
                            headers=lines))
    return path


def wrk(url: str, script: str, duration: int, connections: int, threads: int) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
           "--timeout", "10s", "-s", script, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    for line in out.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            r = json.loads(line[len("BENCHJSON "):])
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            r["socket"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
            return r
    raise RuntimeError(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=30, help="seconds a route (default 30)")
    ap.add_argument("--quick", action="store_true", help="5 seconds a route")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    args = ap.parse_args(argv)
    duration = 5 if args.quick else args.duration
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")

    answers = typical_answers()
    json_body = json.dumps(answers)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bonemets-load-") as tmp, \
            Gunicorn("hello:app", cwd=HERE) as hello, \
            Gunicorn("app:create_app()", cwd=ROOT, env=secret_env()) as app:
        hello.wait_ready("/")
        app.wait_ready("/healthz")
        token, cookie = csrf_session(app.port)
        form = form_body(answers, {"csrf_token": token})
        form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        json_headers = {"Content-Type": "application/json"}
        s = {
            "get": write_script(tmp, "get", "GET"),
            "json": write_script(tmp, "json", "POST", json_body, json_headers),
            "form": write_script(tmp, "form", "POST", form, form_headers),
        }
        # (label, server, path, script, baseline label)
        runs = [
            ("hello GET /", hello, "/", "get", None),
            ("hello POST /echo (JSON)", hello, "/echo", "json", None),
            ("hello POST /echo (form)", hello, "/echo", "form", None),
            ("GET /questionnaire", app, "/questionnaire", "get", "hello GET /"),
            ("POST /api/plan", app, "/api/plan", "json", "hello POST /echo (JSON)"),
            ("POST /plan", app, "/plan", "form", "hello POST /echo (form)"),
            ("POST /summary", app, "/summary", "form", "hello POST /echo (form)"),
        ]
        # One request each first: a wrong token or a broken route would make the numbers lie.
        for label, server, path, kind, _ in runs:
            method = "GET" if kind == "get" else "POST"
            body = {"get": None, "json": json_body, "form": form}[kind]
            headers = {"get": {}, "json": json_headers, "form": form_headers}[kind]
            status, _, _ = request(method, server.port, path, body, headers)
            if status != 200:
                sys.exit(f"{label} answered {status} before the run; not measuring")

        print(f"wrk: {args.threads} threads, {args.connections} connections, {duration} s a route "
              f"(+{args.warmup} s warm-up); gunicorn -w 2 for both apps; load average "
              f"{load[0]:.2f} before", flush=True)
        results = {}
        for label, server, path, kind, _ in runs:
            if args.warmup:
                wrk(server.url + path, s[kind], args.warmup, args.connections, args.threads)
            results[label] = wrk(server.url + path, s[kind], duration, args.connections, args.threads)
            r = results[label]
            print(f"  {label}: {r['rps']:.0f} req/s", flush=True)

    targets = {"POST /api/plan": 0.5, "GET /questionnaire": 0.4}
    rows = []
    for label, _, _, _, base in runs:
        r = results[label]
        ratio = r["rps"] / results[base]["rps"] if base else None
        target = targets.get(label)
        verdict = ""
        if target is not None:
            verdict = f">= {target}x " + ("met" if ratio >= target else "MISSED")
        rows.append([label, f"{r['rps']:.0f}", f"{r['p50_us'] / 1000:.1f}", f"{r['p99_us'] / 1000:.1f}",
                     int(r["non2xx"]), int(r["socket"]), f"{ratio:.2f}x" if ratio else "(baseline)",
                     base or "", verdict])
    print()
    print_table(["route", "req/s", "p50 ms", "p99 ms", "non-2xx", "socket err", "ratio",
                 "baseline", "target"], rows)
    errors = sum(int(r["non2xx"]) + int(r["socket"]) for r in results.values())
    print(f"\nerrors in total: {errors} ({'target met' if errors == 0 else 'target MISSED'}); "
          f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
