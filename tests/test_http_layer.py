"""The HTTP layer: what reaches the app before any view runs.

(a) Through the test client: form routes accept only form encodings (415 otherwise), a file part
    is a 400 that keeps the other answers, broken or untrusted Host headers get a 400 error page
    with security headers, X-Forwarded-Host never reaches a URL without ProxyFix, CORP is sent.
(b) Through a REAL gunicorn (deploy/gunicorn.conf.py, 127.0.0.1, a free port), with raw sockets:
    every case of issue 10, then a deterministic fuzzer of thousands of requests (methods, long
    paths, Host and X-Forwarded-* headers, content types, file parts, chunked and malformed
    bodies, bodies that end early). No response may be a 5xx; every response the app gives
    carries the security headers (gunicorn's own 400/414 for requests it cannot parse do not).
"""
from __future__ import annotations

import io
import os
import random
import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import redirect, url_for
from werkzeug.datastructures import MultiDict

from app import create_app
from bonemets.pdf_pool import HELPER_NICE
from bonemets.security import host_is_well_formed, trusted_hosts_from
from conftest import TYPICAL
from servers import SECURITY_HEADERS, Gunicorn, raw

FORM_ROUTES = ["/plan", "/summary", "/summary.pdf", "/steps", "/questionnaire",
               "/questionnaire/symptoms"]
FUZZ_REQUESTS = int(os.environ.get("BONEMETS_FUZZ_REQUESTS", "10000"))
FUZZ_SECONDS = 150  # the fuzzer stops sending after this, whatever the count (bounded in time)


def has_security_headers(headers) -> bool:
    names = {k.lower() for k in headers.keys()}
    return all(h in names for h in SECURITY_HEADERS)


# --------------------------------------------------------------------------------------------
# (a) the test client
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", FORM_ROUTES)
@pytest.mark.parametrize("body,content_type", [
    ('{"pain_score": 5}', "application/json"),
    ("[1]", "application/json"),
    ("pain_score=5", "text/plain"),
    ("<a/>", "application/xml"),
    ("pain_score=5", "application/fhir+json"),
    ("x", "a/b/c"),
])
def test_form_routes_refuse_other_encodings(client, rulebook, path, body, content_type):
    r = client.post(path, data=body, content_type=content_type)
    assert r.status_code == 415
    page = r.get_data(as_text=True)
    assert "must be sent by the questions form" in page and "/api/plan" in page
    assert rulebook.caveat.split(".")[0] in page
    assert has_security_headers(r.headers)


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_form_routes_accept_both_form_encodings_and_an_empty_post(client, path):
    assert client.post(path, data=TYPICAL).status_code == 200                    # urlencoded
    assert client.post(path, data=TYPICAL, content_type="multipart/form-data").status_code == 200
    assert client.post(path).status_code == 200                                  # no body at all


@pytest.mark.parametrize("path", FORM_ROUTES)
@pytest.mark.parametrize("field", ["pain_score", "bone_sites", "primary_cancer", "step"])
def test_a_file_part_is_a_400_that_keeps_the_answers(client, path, field):
    data = {"primary_cancer": "breast", "bone_sites": ["spine", "ribs"],
            field: (io.BytesIO(b"%PDF-1.4 not an answer"), "scan.pdf")}
    r = client.post(path, data=data)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "A file was sent where the questions expect an answer" in page
    assert 'action="/questionnaire"' in page and "Back to my answers" in page
    kept = set(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([a-z_]+)">', page))
    expected = {("primary_cancer", "breast"), ("bone_sites", "spine"), ("bone_sites", "ribs")}
    assert kept == {p for p in expected if p[0] != field}
    assert has_security_headers(r.headers)
    # The button really gets the person back to a filled-in form.
    back = client.post("/questionnaire", data=MultiDict(sorted(kept)))
    kept_value = "spine" if field == "primary_cancer" else "breast"
    assert back.status_code == 200 and f'value="{kept_value}" checked' in back.get_data(as_text=True)


BAD_HOSTS = ["127.0.0.1:99999", "127.0.0.1:0", "a" * 64, "a" * 64 + ".example.org",
             "x." * 130 + "org", "exa mple.org", "example..org", "-", "[::1", "evil.example",
             "localhost.evil.example", "127.0.0.1:80:80", "127.0.0.1:", "é.example"]


@pytest.fixture(scope="module")
def default_app():
    """The app as configured by default: CSRF on, TRUSTED_HOSTS unset."""
    os.environ.pop("TRUSTED_HOSTS", None)
    return create_app({"TESTING": True, "SECRET_KEY": "t"})


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("method,path", [("GET", "/"), ("GET", "/no-such-page"),
                                         ("POST", "/summary.pdf"), ("POST", "/api/plan"),
                                         ("GET", "/healthz"), ("GET", "/static/style.css")])
def test_broken_or_untrusted_host_is_a_400_with_headers(default_app, rulebook, host, method,
                                                         path):
    environ = {"HTTP_HOST": host}
    r = default_app.test_client().open(path, method=method, environ_overrides=environ,
                                       data=b"", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert has_security_headers(r.headers)
    if path.startswith("/api/"):
        assert r.is_json and r.json["errors"] and r.json["caveat"] == rulebook.caveat
    else:
        page = r.get_data(as_text=True)
        assert "not one this site answers to" in page
        assert rulebook.caveat.split(".")[0] in page
        assert 'href="/questionnaire"' in page      # links are paths: no Host in them


def test_trusted_hosts_setting(monkeypatch):
    assert trusted_hosts_from(None) == ["localhost", "127.0.0.1"]
    assert trusted_hosts_from(" ") == ["localhost", "127.0.0.1"]
    assert trusted_hosts_from("*") is None
    assert trusted_hosts_from("bonemets.example.org, .clinic.example") == [
        "bonemets.example.org", ".clinic.example", "localhost", "127.0.0.1"]
    monkeypatch.setenv("TRUSTED_HOSTS", "bonemets.example.org,.clinic.example")
    app = create_app({"TESTING": True, "SECRET_KEY": "t"})
    c = app.test_client()
    for host, status in [("bonemets.example.org", 200), ("ward.clinic.example:8443", 200),
                         ("localhost", 200), ("evil.example", 400), ("10.1.2.3:8000", 400),
                         ("bonemets.example.org.evil.example", 400)]:
        assert c.get("/healthz", headers={"Host": host}).status_code == status, host
    monkeypatch.setenv("TRUSTED_HOSTS", "*")
    c = create_app({"TESTING": True, "SECRET_KEY": "t"}).test_client()
    assert c.get("/healthz", headers={"Host": "anything.example"}).status_code == 200
    assert c.get("/healthz", headers={"Host": "a" * 64}).status_code == 400  # still well-formed


def test_well_formed_hosts():
    for ok in ["localhost", "127.0.0.1", "127.0.0.1:5000", "a" * 63 + ".org", "[::1]:8080",
               "bonemets.example.org.", "xn--bcher-kva.example", "host_name.internal:1"]:
        assert host_is_well_formed(ok), ok
    for bad in BAD_HOSTS[:9] + ["", ":80", "a:b", "a:123456"]:
        assert not host_is_well_formed(bad), bad


def _redirecting_app(**config):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", **config})
    app.add_url_rule("/_go", "_go", lambda: redirect(url_for("web.index", _external=True)))
    return app


def test_x_forwarded_host_never_reaches_a_redirect_without_proxy_fix():
    c = _redirecting_app().test_client()
    r = c.get("/_go", headers={"X-Forwarded-Host": "evil.example",
                               "X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/evil"})
    assert r.status_code == 302 and r.headers["Location"] == "http://localhost/"
    assert c.get("/_go", headers={"Host": "evil.example"}).status_code == 400


def test_with_proxy_fix_a_forwarded_host_must_be_trusted_too(monkeypatch):
    monkeypatch.setenv("BONEMETS_PROXY_FIX", "1")
    c = _redirecting_app().test_client()
    assert c.get("/_go", headers={"X-Forwarded-Host": "evil.example"}).status_code == 400
    r = c.get("/_go", headers={"X-Forwarded-Host": "127.0.0.1", "X-Forwarded-Proto": "https"})
    assert r.headers["Location"] == "https://127.0.0.1/"


@pytest.mark.parametrize("path", ["/", "/static/style.css", "/healthz", "/no-such-page"])
def test_cross_origin_resource_policy(client, path):
    assert client.get(path).headers["Cross-Origin-Resource-Policy"] == "same-origin"


# --------------------------------------------------------------------------------------------
# (b) a real gunicorn
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server():
    g = Gunicorn()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def session(server):
    """A real CSRF token and its session cookie, so that fuzzed form posts get past CSRF."""
    status, headers, body = raw(server.port, b"GET /questionnaire HTTP/1.1\r\nHost: 127.0.0.1"
                                             b"\r\nConnection: close\r\n\r\n")
    assert status == 200
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body) or \
        re.search(rb'name="csrf_token" value="([^"]+)"', body)
    cookie = headers["set-cookie"].split(";", 1)[0]
    return token.group(1).decode(), cookie


def request_bytes(method="GET", path="/", host="127.0.0.1", headers=(), body=b"",
                  framing="length") -> bytes:
    lines = [f"{method} {path} HTTP/1.1".encode("latin-1")]
    if host is not None:
        lines.append(b"Host: " + (host if isinstance(host, bytes) else host.encode("latin-1")))
    lines.append(b"Connection: close")
    lines += [h if isinstance(h, bytes) else h.encode("latin-1") for h in headers]
    if framing == "length":
        lines.append(b"Content-Length: %d" % len(body))
    elif framing == "chunked":
        lines.append(b"Transfer-Encoding: chunked")
    elif framing == "short":               # says more than it sends, then the client stops
        lines.append(b"Content-Length: %d" % (len(body) + 100))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


ISSUE_CASES = {
    "json to /plan": request_bytes("POST", "/plan", headers=["Content-Type: application/json"],
                                   body=b'{"pain_score": 5}'),
    "[1] to /summary": request_bytes("POST", "/summary", body=b"[1]",
                                     headers=["Content-Type: application/json"]),
    "file part to /summary.pdf": request_bytes(
        "POST", "/summary.pdf", headers=["Content-Type: multipart/form-data; boundary=XX"],
        body=b'--XX\r\nContent-Disposition: form-data; name="pain_score"; filename="f.txt"\r\n'
             b'Content-Type: text/plain\r\n\r\n5\r\n--XX--\r\n'),
    "file part to /steps": request_bytes(
        "POST", "/steps", headers=["Content-Type: multipart/form-data; boundary=XX"],
        body=b'--XX\r\nContent-Disposition: form-data; name="step"; filename="f"\r\n\r\n'
             b'1\r\n--XX--\r\n'),
    "malformed chunked to /api/plan": request_bytes(
        "POST", "/api/plan", headers=["Content-Type: application/json"],
        body=b"zz\r\n{}\r\n0\r\n\r\n", framing="chunked"),
    "truncated chunked to /api/plan": request_bytes(
        "POST", "/api/plan", headers=["Content-Type: application/json"],
        body=b"10\r\n{}", framing="chunked"),
    "port 99999 on the PDF route": request_bytes("POST", "/summary.pdf", host="127.0.0.1:99999"),
    "64-character label": request_bytes("GET", "/", host="a" * 64),
    "64-character label, PDF": request_bytes("POST", "/summary.pdf", host="a" * 64 + ".org"),
    "untrusted host": request_bytes("GET", "/questionnaire", host="evil.example"),
}


@pytest.mark.server
@pytest.mark.parametrize("name", list(ISSUE_CASES))
def test_issue_cases_through_gunicorn(server, name):
    status, headers, _ = raw(server.port, ISSUE_CASES[name], timeout=20, half_close=True)
    assert 400 <= status < 500, name
    assert has_security_headers(headers), (name, headers)


@pytest.mark.server
def test_x_forwarded_headers_are_ignored_by_default_through_gunicorn(server):
    status, headers, body = raw(server.port, request_bytes(
        "GET", "/", headers=["X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https",
                             "X-Forwarded-Prefix: /evil", "Forwarded: host=evil.example"]))
    assert status == 200 and b"evil" not in body
    assert "strict-transport-security" not in headers   # X-Forwarded-Proto was not believed


# The fuzzer's vocabulary --------------------------------------------------------------------
METHODS = ["GET", "GET", "POST", "POST", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS",
           "TRACE", "PROPFIND", "CONNECT"]
PATHS = ["/", "/questionnaire", "/plan", "/summary", "/summary.pdf", "/steps", "/steps/1",
         "/steps/0", "/steps/99", "/steps/%C2%B2", "/steps/" + "9" * 400, "/rules", "/about",
         "/healthz", "/api/plan", "/api/plan/", "/static/style.css", "/static/../app.py",
         "/static/%2e%2e/app.py", "/favicon.ico", "//plan", "/plan?x=1", "/%00", "/%ff%fe",
         "/questionnaire?lang=es", "/questionnaire?" + "a=1&" * 300, "/" + "a" * 3000,
         "/" + "%C3%A9" * 600, "/fhir/Questionnaire", "/cds-services", "/.env", "/*"]
HOSTS = ["127.0.0.1"] * 12 + ["localhost"] * 4 + ["localhost:5000", None, "", "127.0.0.1:99999",
         "127.0.0.1:0", "a" * 64, "a" * 64 + ".org", "evil.example", "x." * 130 + "org",
         "[::1]:80", "127.0.0.1:80:80", "é.example", "127.0.0.1 evil.example"]
FORWARDED = [[], [], ["X-Forwarded-Host: evil.example"], ["X-Forwarded-Proto: https"],
             ["X-Forwarded-For: 10.0.0.1, " + "1" * 300], ["X-Forwarded-Prefix: /evil"],
             ["X-Forwarded-Host: " + "a" * 64, "X-Forwarded-Port: 99999"],
             ["Forwarded: for=1.2.3.4;host=evil.example;proto=https"],
             ["X-Forwarded-Proto: gopher", "X-Forwarded-Host: a..b"]]
CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=XX", "multipart/form-data",
                 "multipart/form-data; boundary=", "application/json", "application/fhir+json",
                 "text/plain", "application/xml", "application/json; charset=utf-16",
                 "application/x-www-form-urlencoded; charset=ebcdic", "a/b/c", "", None,
                 "application/json\x7f", "*/*"]
FIELDS = ["primary_cancer", "pain_score", "bone_sites", "symptoms_now", "step", "go",
          "csrf_token", "lang", "x" * 100, ""]


def fuzz_body(rng: random.Random, content_type: str | None, token: str) -> bytes:
    kind = rng.random()
    if kind < 0.15:
        return b""
    if kind < 0.25:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
    if kind < 0.35:
        return rng.choice([b'{"pain_score": 5}', b"[1]", b"{", b"null", b'{"a":' * 200,
                           b'{"primary_cancer": "breast", "bone_sites": ["spine"]}',
                           b'{"resourceType": "QuestionnaireResponse"}'])
    if kind < 0.42:
        return b"primary_cancer=" + b"x" * rng.choice([70_000, 66_000])   # over 64 KB: 413
    pairs = [(rng.choice(FIELDS), rng.choice(["breast", "spine", "5", "99", "²", "unknown",
                                                "next", "check", "edit-2", "\x00", "é" * 50]))
             for _ in range(rng.randint(0, 8))]
    if rng.random() < 0.6:
        pairs.append(("csrf_token", token))
    if content_type and content_type.startswith("multipart") and "boundary=XX" in content_type:
        parts = []
        for name, value in pairs:
            disp = f'form-data; name="{name}"'
            if rng.random() < 0.25:
                disp += '; filename="scan.pdf"'                            # a file part
            parts.append(f"--XX\r\nContent-Disposition: {disp}\r\n\r\n{value}\r\n")
        tail = rng.choice(["--XX--\r\n", "--XX--\r\n", "--XX", "", "--YY--\r\n"])
        return ("".join(parts) + tail).encode("utf-8")
    from urllib.parse import urlencode
    text = urlencode(pairs)
    if rng.random() < 0.1:
        text += rng.choice(["&%", "&%zz=1", "&=&==", "&a=%ff%fe", "&" * 50])
    return text.encode("utf-8")


def fuzz_case(rng: random.Random, token: str, cookie: str):
    """One request as bytes, and whether it must reach the app (then it carries the headers)."""
    method, path = rng.choice(METHODS), rng.choice(PATHS)
    host = rng.choice(HOSTS)
    headers = list(rng.choice(FORWARDED))
    if rng.random() < 0.7:
        headers.append("Cookie: " + cookie)
    content_type = rng.choice(CONTENT_TYPES) if method not in ("GET", "HEAD") else None
    if content_type is not None:
        headers.append("Content-Type: " + content_type)
    body = fuzz_body(rng, content_type, token) if method not in ("GET", "HEAD") else b""
    framing = rng.choice(["length", "length", "length", "chunked", "chunked-bad", "short",
                          "none"])
    half_close = False
    if framing == "chunked":
        step = rng.randint(1, 40)
        body = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step])
                        for i in range(0, len(body), step)) + b"0\r\n\r\n"
    elif framing == "chunked-bad":
        framing = "chunked"
        body = rng.choice([b"zz\r\n", b"5\r\nabc\r\n0\r\n\r\n", b"3\r\nabcXX", b"3\r\nabc\r\n",
                           b"ffffffffffffffffff\r\nabc", b"-1\r\n\r\n", b"3 \r\nabc\r\n0\r\n",
                           b"0\r\nX-Trailer\r\n\r\n", b"\r\n\r\n"]) + body[:50]
        half_close = True
    elif framing == "short":
        half_close = True
    elif framing == "none":
        body = b""
    data = request_bytes(method, path, host=host, headers=headers, body=body, framing=framing)
    # gunicorn itself refuses what it cannot parse (request line too long, spaces or bytes that
    # are not allowed in a header, an unknown method) with its own short 400 or 414.
    host_ok = host is None or (host.isascii() and " " not in host)
    reaches_app = (len(path) < 4000 and host_ok and method != "CONNECT"
                   and not (content_type and "\x7f" in content_type))
    return data, reaches_app, half_close


@pytest.mark.server
def test_fuzz_the_http_layer_through_gunicorn(server, session):
    """Thousands of fuzzed requests through gunicorn: no 5xx, headers on every app response."""
    token, cookie = session
    rng = random.Random(10)
    cases = [fuzz_case(rng, token, cookie) for _ in range(FUZZ_REQUESTS)]
    cases += [(c, True, True) for c in ISSUE_CASES.values()]
    deadline = time.monotonic() + FUZZ_SECONDS

    def send(case):
        data, reaches_app, half_close = case
        if time.monotonic() > deadline:
            return None
        try:
            status, headers, _ = raw(server.port, data, timeout=30, half_close=half_close)
        except (ConnectionError, TimeoutError) as exc:   # a refused connection is a failure
            return ("error", type(exc).__name__, data[:200])
        missing = reaches_app and not has_security_headers(headers)
        return (status, missing, data[:200])

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        results = [r for r in pool.map(send, cases) if r is not None]
    took = time.monotonic() - started
    statuses = Counter(r[0] for r in results)
    print(f"\nHTTP-layer fuzz: {len(results)} requests through gunicorn in {took:.0f} s; "
          f"statuses {dict(sorted(statuses.items(), key=str))}")
    errors = [r for r in results if r[0] == "error"]
    server_errors = [r for r in results if r[0] != "error" and r[0] >= 500]
    no_headers = [r for r in results if r[0] != "error" and r[1]]
    assert not errors, errors[:5]
    assert not server_errors, server_errors[:5]
    assert not no_headers, no_headers[:5]
    assert len(results) >= min(FUZZ_REQUESTS, 5000)      # thousands, within the time bound
    assert statuses[200] > 500 and statuses[400] > 500 and statuses[415] > 100
    assert statuses[413] > 20 and statuses[405] > 200 and statuses[404] > 200
    assert "Traceback" not in server.output() and "Unhandled error" not in server.output()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc)."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", encoding="ascii") as fh:
                    stat = fh.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(name))
    return out


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


@pytest.mark.server
def test_production_settings_render_pdfs_in_a_lower_priority_helper(server, session):
    """deploy/gunicorn.conf.py: a PDF is rendered by a helper process of the worker, which
    runs at a lower priority than the worker (the other pages get most of the CPU when the
    cores are busy) and is the only one to load WeasyPrint; the PDF is the real one."""
    from urllib.parse import urlencode
    token, cookie = session
    body = urlencode({**TYPICAL, "csrf_token": token}, doseq=True).encode()
    status, headers, data = raw(server.port, request_bytes(
        "POST", "/summary.pdf", body=body,
        headers=["Content-Type: application/x-www-form-urlencoded", f"Cookie: {cookie}"]),
        timeout=60)
    assert status == 200 and data.startswith(b"%PDF")
    workers = _children(server.proc.pid)
    assert len(workers) == 2, workers
    # A worker's helpers are its "spawn" children (multiprocessing also starts a resource
    # tracker, which renders nothing).
    helpers = {w: [kid for kid in _children(w) if b"spawn_main" in _cmdline(kid)]
               for w in workers}
    assert any(helpers.values()), f"no worker has a helper process: {helpers}"
    for worker, kids in helpers.items():
        for kid in kids:
            assert os.getpriority(os.PRIO_PROCESS, kid) == min(
                19, os.getpriority(os.PRIO_PROCESS, worker) + HELPER_NICE)
    # WeasyPrint (and the Pango it loads) is in the helper only: the worker never spends its
    # own time importing it.
    assert any(_maps_pango(kid) for kids in helpers.values() for kid in kids)
    assert not any(_maps_pango(w) for w in workers)


def _maps_pango(pid: int) -> bool:
    with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as fh:
        return "libpango" in fh.read()


GUNICORN_REFUSES = {
    "a broken request line": (b"GARBAGE<script>\r\n\r\n", 400),
    "a request line too long": (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                b"Connection: close\r\n\r\n", 414),
    "a header too large": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 9000
                           + b"\r\nConnection: close\r\n\r\n", 431),
    "too many headers": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         + b"".join(b"X-%d: 1\r\n" % i for i in range(80))
                         + b"Connection: close\r\n\r\n", 431),
    "a header name with a space": (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header<b>: 1\r\n"
                                   b"Connection: close\r\n\r\n", 400),
    "an unknown HTTP version": (b"GET /ZZ HTTP/7.1\r\nHost: 127.0.0.1\r\nConnection: close"
                                b"\r\n\r\n", 400),
}


@pytest.mark.server
@pytest.mark.parametrize("name", GUNICORN_REFUSES)
def test_requests_gunicorn_cannot_read_get_plain_words_and_the_security_headers(server, name,
                                                                                 rulebook):
    """Requests that never reach the app (gunicorn refuses them itself; bonemets/serving.py):
    the app's security headers and plain words with the clinician caveat, and nothing of what
    was sent."""
    request, code = GUNICORN_REFUSES[name]
    status, headers, body = raw(server.port, request, timeout=20)
    assert status == code
    assert has_security_headers(headers), headers
    assert headers["cache-control"] == "no-store"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert b"Nothing you entered has been stored" in body
    assert rulebook.caveat.encode("utf-8") in body  # the worker took it from the app it serves
    assert int(headers["content-length"]) == len(body)
    for sent in (b"<", b"GARBAGE", b"aaaa", b"bbbb", b"ZZ", b"Bad Header"):
        assert sent not in body
