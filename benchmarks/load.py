"""Load test: bonemets and a Flask hello-world under the same gunicorn config, in one run.

    python benchmarks/load.py               # 3 rounds, 10 s a route
    python benchmarks/load.py --quick       # 1 round, 3 s a route (a smoke test, not figures)
    python benchmarks/load.py --rounds 3 --duration 15 --connections 16

Starts ``gunicorn -c deploy/gunicorn.conf.py`` twice on free 127.0.0.1 ports: once with the app
(a random SECRET_KEY), once with ``hello:app`` (benchmarks/hello.py) in its place; the same
workers, threads, keep-alive and limits for both. Then drives each route with wrk, one route at
a time, in rounds (every route once a round, so each ratio compares routes measured minutes
apart at most).

Every POST sends a fresh random answer set, made by wrk's Lua script for each request over the
vocabulary of rules/questionnaire.yaml (each question left out one time in four, one value of a
one-of question, one to four of a tick-all one, a number in range): no cache keyed on the body
can help. The form routes send the real CSRF token: one GET of the questionnaire gives a token
and its session cookie (no app switch needed).

Post/redirect/get (bonemets/views/carry.py): POST /plan and POST /summary answer 303 (the
answers put in the encrypted answers cookie) and the page a person sees is the GET of the same
address, rendered from that cookie. So the POST routes count a 303 as success (anything else,
a 200 included, is an error), and GET /plan and GET /summary are measured with a fresh kept
answers cookie per request: before the run this script makes a pool of ``--cookies`` (default
2000) cookies of random answer sets with the app's own carry code and the benchmark server's
SECRET_KEY (benchmarks/_common.py ``kept_cookies``), and the Lua script picks one at random for
each request. A GET page counts as an error unless it is the page asked for (a marker of the
results page or of the summary is in the body), so a refused cookie's "your answers are gone"
page cannot pass as a result. "POST + GET" rows combine the two requests of one Send (requests/s
of the pair, 1 / (1/POST + 1/GET), and their CPU added): what a person's press of the button
costs, which is what the goals are checked against.

Per route: requests/s, p50 and p99 latency, errors (non-2xx and socket errors), the worker CPU
per request (user + system time of the gunicorn workers, from /proc, over the measured seconds,
divided by the requests served), and the ratio to hello ``GET /`` measured in the same round;
the second ratio column is against hello's ``POST /echo`` with the same kind of random body
(the old, flattering measure); "vs hello by CPU" is hello GET /'s worker CPU per request over
the route's (what the ratio would be if the workers had the cores to themselves: on a machine
shared with other work it moves less than requests/s). Each figure is the median over the
rounds. Nothing is asserted.
Worker recycling: deploy/gunicorn.conf.py restarts a worker after about 5,000 requests
(max_requests), and a bonemets worker's start (two languages' rule books) is about 2 s of CPU, so
at full speed a worker restarts every few seconds and that CPU is counted against whichever route
runs then (the app's fast routes pay most; hello's start is cheap). That is what the production
settings cost; ``--max-requests 0`` shows the figures without it. Every worker has started
before the first measurement (``settle``).
Needs wrk (apt-get install -y wrk). The machine's load average is printed: other work on it
moves every figure.
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

from _common import (HERE, ROOT, GunicornConf, csrf_session, kept_cookies, lua_string,
                     print_table, request, secret_env)

import yaml

from bonemets.views.carry import COOKIE

TARGETS = {"POST /api/plan": 0.5, "GET /questionnaire": 0.5, "POST + GET /plan": 0.2,
           "POST + GET /summary": 0.25}
# A GET page made from the kept answers is the page asked for only if it has its marker (else it
# is, say, the "your answers are gone" page, also a 200).
MARKERS = {"/plan": 'class="results-page"', "/summary": 'aria-labelledby="s-situation"'}

# wrk script. {vocab} is a Lua table of questions: {name, kind, values | min, max}. KIND is
# "json", "form", "get" or "kept" (a GET with one of COOKIES, the answers cookie, at random).
# Random bodies are built in request(); answers other than EXPECT (a status, or nil for any 2xx)
# or without MARKER in the body (when given) are counted.
LUA = r"""
local KIND = {kind}
local TOKEN = {token}
local VOCAB = {vocab}
local EXPECT = {expect}
local MARKER = {marker}
local COOKIES = {cookies}
wrk.method = (KIND == "get" or KIND == "kept") and "GET" or "POST"
{headers}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args)
  non2xx = 0
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + (tonumber(tostring({{}}):sub(8), 16) or 0))
end

local function sample(values, n)
  local pool, out = {{}}, {{}}
  for i, v in ipairs(values) do pool[i] = v end
  for i = 1, n do
    local j = math.random(i, #pool)
    pool[i], pool[j] = pool[j], pool[i]
    out[i] = pool[i]
  end
  return out
end

local function answers()
  local out = {{}}
  for _, q in ipairs(VOCAB) do
    if math.random() >= 0.25 then
      if q.kind == "number" then
        out[#out + 1] = {{q.name, math.random(q.min, q.max)}}
      elseif q.kind == "one" then
        out[#out + 1] = {{q.name, q.values[math.random(#q.values)]}}
      else
        out[#out + 1] = {{q.name, sample(q.values, math.random(1, math.min(4, #q.values)))}}
      end
    end
  end
  return out
end

local function json_body(a)
  local parts = {{}}
  for _, kv in ipairs(a) do
    local name, v = kv[1], kv[2]
    if type(v) == "table" then
      local items = {{}}
      for i, x in ipairs(v) do items[i] = '"' .. x .. '"' end
      parts[#parts + 1] = '"' .. name .. '":[' .. table.concat(items, ",") .. ']'
    elseif type(v) == "number" then
      parts[#parts + 1] = '"' .. name .. '":' .. v
    else
      parts[#parts + 1] = '"' .. name .. '":"' .. v .. '"'
    end
  end
  return "{{" .. table.concat(parts, ",") .. "}}"
end

local function form_body(a)
  local parts = {{}}
  if TOKEN then parts[1] = "csrf_token=" .. TOKEN end
  for _, kv in ipairs(a) do
    local name, v = kv[1], kv[2]
    if type(v) == "table" then
      for _, x in ipairs(v) do parts[#parts + 1] = name .. "=" .. x end
    else
      parts[#parts + 1] = name .. "=" .. v
    end
  end
  return table.concat(parts, "&")
end

function request()
  if KIND == "get" then return wrk.format() end
  if KIND == "kept" then
    local h = {{}}
    for k, v in pairs(wrk.headers) do h[k] = v end
    h["Cookie"] = "{cookie_name}=" .. COOKIES[math.random(#COOKIES)]
    return wrk.format(nil, nil, h)
  end
  local a = answers()
  local body = (KIND == "json") and json_body(a) or form_body(a)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if EXPECT then
    if status ~= EXPECT then non2xx = non2xx + 1 end
  elseif status < 200 or status > 299 then
    non2xx = non2xx + 1
  elseif MARKER and not string.find(body, MARKER, 1, true) then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {{"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, ' ..
    '"non2xx": %.0f, "connect": %.0f, "read": %.0f, "write": %.0f, "timeout": %.0f}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    bad, e.connect, e.read, e.write, e.timeout))
end
"""

# Names and values of the questionnaire are plain ids (letters, digits, _ and -): safe in a URL
# form body and a JSON string as they are. load_vocab checks it.
_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def load_vocab() -> list:
    with open(os.path.join(ROOT, "rules", "questionnaire.yaml"), encoding="utf-8") as fh:
        fields = yaml.safe_load(fh)["fields"]
    vocab = []
    for name, spec in fields.items():
        q = {"name": str(name), "kind": spec["kind"]}
        if spec["kind"] == "number":
            q["min"], q["max"] = int(spec["min"]), int(spec["max"])
        else:
            q["values"] = [str(v) for v in spec["choices"]]
        for word in [q["name"], *q.get("values", [])]:
            if not set(word) <= _SAFE:
                sys.exit(f"questionnaire id {word!r} needs escaping; load.py does not escape")
        vocab.append(q)
    return vocab


def lua_vocab(vocab: list) -> str:
    def one(q):
        if q["kind"] == "number":
            return f'{{name="{q["name"]}", kind="number", min={q["min"]}, max={q["max"]}}}'
        values = ", ".join(f'"{v}"' for v in q["values"])
        return f'{{name="{q["name"]}", kind="{q["kind"]}", values={{{values}}}}}'
    return "{\n  " + ",\n  ".join(one(q) for q in vocab) + "\n}"


def write_script(folder: str, name: str, kind: str, vocab: list, token: str | None = None,
                 headers: dict | None = None, expect: int | None = None,
                 marker: str | None = None, cookies: list | None = None) -> str:
    """A wrk script; ``expect`` a status other than 2xx (303 for the POSTs that redirect),
    ``marker`` what a right 2xx body contains, ``cookies`` the pool of answers cookies of the
    "kept" kind."""
    lines = "\n".join(f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}"
                      for k, v in (headers or {}).items())
    for c in cookies or ():  # Fernet tokens are URL-safe base64: nothing to escape
        if not set(c) <= _SAFE | set("="):
            sys.exit(f"cookie value {c[:20]!r}... needs escaping; load.py does not escape")
    pool = "{" + ",".join(f'"{c}"' for c in cookies or ()) + "}"
    path = os.path.join(folder, f"{name}.lua")
    with open(path, "w") as fh:
        fh.write(LUA.format(kind=lua_string(kind), token=lua_string(token) if token else "nil",
                            vocab=lua_vocab(vocab), headers=lines,
                            expect=str(expect) if expect else "nil",
                            marker=lua_string(marker) if marker else "nil", cookies=pool,
                            cookie_name=COOKIE))
    return path


def cpu_ticks(master: int) -> int:
    """User + system clock ticks of the gunicorn workers: the live ones, and those the master
    has already reaped (max_requests recycles workers during a run)."""
    def stat(pid):
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    s = stat(master)
    total = int(s[13]) + int(s[14])  # cutime, cstime: reaped children (fields 16, 17)
    from _common import worker_pids
    for pid in worker_pids(master):
        try:
            w = stat(pid)
        except OSError:
            continue
        total += int(w[11]) + int(w[12])  # utime, stime (fields 14, 15)
    return total


def settle(server, timeout: float = 60.0) -> None:
    """Wait until every worker has booted: the workers load the app after /healthz first answers
    (from one of them), and a booting worker's CPU would be counted against the first route."""
    import time
    deadline = time.monotonic() + timeout
    last = cpu_ticks(server.proc.pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_ticks(server.proc.pid)
        if now - last <= 2:  # idle: nothing is loading
            return
        last = now


def wrk(server, path: str, script: str, duration: int, connections: int, threads: int) -> dict:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk (Debian), then run this again")
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
           "--timeout", "10s", "-s", script, server.url + path]
    before = cpu_ticks(server.proc.pid)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    ticks = cpu_ticks(server.proc.pid) - before
    for line in out.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            r = json.loads(line[len("BENCHJSON "):])
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            r["socket"] = r["connect"] + r["read"] + r["write"] + r["timeout"]
            r["cpu_us"] = ticks / os.sysconf("SC_CLK_TCK") * 1e6 / max(1, r["requests"])
            return r
    raise RuntimeError(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="every route once a round (default 3)")
    ap.add_argument("--duration", type=int, default=10, help="seconds a route (default 10)")
    ap.add_argument("--quick", action="store_true", help="1 round, 3 seconds a route")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    ap.add_argument("--max-requests", type=int, metavar="N",
                    help="override the config's max_requests for both servers (0: never recycle "
                         "a worker); not the production setting, to see what recycling costs")
    ap.add_argument("--only", nargs="+", metavar="TEXT",
                    help="measure only the app routes whose label contains one of these (and "
                         "hello's); a quick look, not the table")
    ap.add_argument("--cookies", type=int, default=2000,
                    help="kept answers cookies (random answer sets) for the GET pages (default 2000)")
    args = ap.parse_args(argv)
    rounds, duration = (1, 3) if args.quick else (args.rounds, args.duration)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")

    vocab = load_vocab()
    extra = [] if args.max_requests is None else ["--max-requests", str(args.max_requests)]
    env = secret_env()
    cookies = kept_cookies(env["SECRET_KEY"], args.cookies)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bonemets-load-") as tmp, \
            GunicornConf("hello:app", cwd=HERE, args=extra) as hello, \
            GunicornConf(None, cwd=ROOT, env=env, args=extra) as app:
        hello.wait_ready("/")
        app.wait_ready("/healthz")
        settle(hello)
        settle(app)
        token, cookie = csrf_session(app.port)
        form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        json_headers = {"Content-Type": "application/json"}
        s = {
            "get": write_script(tmp, "get", "get", vocab),
            "json": write_script(tmp, "json", "json", vocab, headers=json_headers),
            "form-303": write_script(tmp, "form-303", "form", vocab, token, form_headers,
                                     expect=303),
            "echo-form": write_script(tmp, "echo-form", "form", vocab, None,
                                      {"Content-Type": "application/x-www-form-urlencoded"}),
        }
        for page, marker in MARKERS.items():
            s["kept" + page] = write_script(tmp, "kept" + page.replace("/", "-"), "kept", vocab,
                                            marker=marker, cookies=cookies)
        # (label, server, path, script, echo baseline; "" for an app route without one)
        runs = [
            ("hello GET /", hello, "/", "get", None),
            ("hello POST /echo (JSON)", hello, "/echo", "json", None),
            ("hello POST /echo (form)", hello, "/echo", "echo-form", None),
            ("GET /", app, "/", "get", ""),
            ("GET /questionnaire", app, "/questionnaire", "get", ""),
            ("GET /healthz", app, "/healthz", "get", ""),
            ("POST /api/plan", app, "/api/plan", "json", "hello POST /echo (JSON)"),
            ("POST /plan (303)", app, "/plan", "form-303", "hello POST /echo (form)"),
            ("GET /plan (results page)", app, "/plan", "kept/plan", ""),
            ("POST /summary (303)", app, "/summary", "form-303", "hello POST /echo (form)"),
            ("GET /summary", app, "/summary", "kept/summary", ""),
        ]
        if args.only:
            runs = [r for r in runs if r[1] is hello or any(t in r[0] for t in args.only)]
        # One Send: the POST and the GET page it redirects to (derived, not run).
        pairs = {"POST + GET /plan": ("POST /plan (303)", "GET /plan (results page)"),
                 "POST + GET /summary": ("POST /summary (303)", "GET /summary")}
        pairs = {k: v for k, v in pairs.items() if all(x in {r[0] for r in runs} for x in v)}
        # The kept pages must really be the pages (the cookies are the server's).
        for page, marker in MARKERS.items():
            for value in cookies[:20]:
                status, _, body = request("GET", app.port, page,
                                          headers={"Cookie": f"{COOKIE}={value}"})
                if status != 200 or marker.encode() not in body:
                    sys.exit(f"GET {page} with a kept answers cookie: {status}, not the page; "
                             "not measuring")
        # A short check first: a wrong token or a broken route would make the numbers lie.
        for label, server, path, kind, _ in runs:
            r = wrk(server, path, s[kind], 1, 2, 1)
            if r["non2xx"] or r["socket"] or not r["requests"]:
                sys.exit(f"{label}: {r['non2xx']:.0f} wrong answers (not "
                         f"{'303' if 'form-303' in kind else '2xx'}, or not the page) and "
                         f"{r['socket']:.0f} socket errors of {r['requests']:.0f} before the run; "
                         "not measuring")

        print(f"wrk: {args.threads} thread(s), {args.connections} connections, {duration} s a "
              f"route (+{args.warmup} s warm-up), {rounds} round(s); both apps under "
              f"gunicorn -c deploy/gunicorn.conf.py; {os.cpu_count()} cores; load average "
              f"{load[0]:.2f} before", flush=True)
        results = {label: [] for label, *_ in runs}
        for n in range(rounds):
            for label, server, path, kind, _ in runs:
                if args.warmup:
                    wrk(server, path, s[kind], args.warmup, args.connections, args.threads)
                r = wrk(server, path, s[kind], duration, args.connections, args.threads)
                results[label].append(r)
                print(f"  round {n + 1}: {label}: {r['rps']:.0f} req/s", flush=True)

    # The derived rows: per round, the pair's requests/s (1 / (1/POST + 1/GET)), latencies and
    # CPU added, errors of both.
    for label, (post, get) in pairs.items():
        results[label] = [
            {"rps": 1 / (1 / a["rps"] + 1 / b["rps"]), "p50_us": a["p50_us"] + b["p50_us"],
             "p99_us": a["p99_us"] + b["p99_us"], "cpu_us": a["cpu_us"] + b["cpu_us"],
             "non2xx": a["non2xx"] + b["non2xx"], "socket": a["socket"] + b["socket"]}
            for a, b in zip(results[post], results[get])]
        results[label + " (echo)"] = [  # two echoes, for the echo column
            {"rps": 1 / (2 / e["rps"])} for e in results["hello POST /echo (form)"]]
    runs += [(label, app, None, None, label + " (echo)") for label in pairs]

    def med(label, key):
        return statistics.median(r[key] for r in results[label])

    def ratio(label, base, key="rps"):
        pairs = zip(results[label], results[base])
        if key == "cpu_us":  # hello's CPU per request / the route's: the same ratio by CPU
            return statistics.median(b[key] / a[key] if a[key] else 0 for a, b in pairs)
        return statistics.median(a[key] / b[key] for a, b in pairs)

    rows = []
    for label, _, path, _, echo in runs:
        errors = sum(int(r["non2xx"]) + int(r["socket"]) for r in results[label])
        is_app = echo is not None
        x = ratio(label, "hello GET /") if is_app else None
        target = TARGETS.get(label)
        verdict = "" if target is None else f">= {target}x " + ("met" if x >= target else "MISSED")
        rows.append([label, f"{med(label, 'rps'):.0f}", f"{x:.2f}x" if is_app else "(baseline)",
                     f"{ratio(label, echo):.2f}x" if echo else "",
                     f"{med(label, 'p50_us') / 1000:.1f}", f"{med(label, 'p99_us') / 1000:.1f}",
                     errors, f"{med(label, 'cpu_us'):.0f}",
                     f"{ratio(label, 'hello GET /', 'cpu_us'):.2f}x" if is_app else "(baseline)",
                     verdict])
    print()
    print_table(["route", "req/s", "vs hello GET /", "vs echo", "p50 ms", "p99 ms", "errors",
                 "worker CPU µs/req", "vs hello by CPU", "target"], rows)
    total = sum(int(r["non2xx"]) + int(r["socket"]) for label, rs in results.items()
                if label not in pairs and not label.endswith("(echo)") for r in rs)
    print(f"\nmax_requests: {'the config' if args.max_requests is None else args.max_requests}; "
          f"median of {rounds} round(s); errors in total: {total}; load average after: "
          f"{os.getloadavg()[0]:.2f}; GET /plan and GET /summary: {len(cookies)} kept answers "
          "cookies, one at random per request; POST + GET: one Send (derived: requests/s of the "
          "pair, latencies and CPU added; its echo column against two echoes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
