"""Security: headers on every response, CSRF refusals that keep the answers, size limits,
the JSON API's content-type rule, start-up without a secret key, and the health check."""
from __future__ import annotations

import time
from unittest import mock

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from _pages import Page, as_answers, submitted
from conftest import TYPICAL

ANSWERS = {**TYPICAL, "pain_score": "6"}
BIG = 200 * 1024  # well over MAX_CONTENT_LENGTH (64 KB)


def pairs(answers: dict) -> list:
    return [(k, x) for k, v in answers.items() for x in (v if isinstance(v, list) else [v])]


def folded(answers: dict) -> dict:
    return {k: sorted(v if isinstance(v, list) else [v]) for k, v in answers.items()}


def csp(r) -> dict:
    out = {}
    for part in r.headers.get("Content-Security-Policy", "").split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


# --------------------------------------------------------------------------------------------
# Headers on every route, every status
# --------------------------------------------------------------------------------------------
# (method, path, keyword arguments, expected status, needs CSRF off)
ROUTES = [
    ("GET", "/", {}, 200, False),
    ("GET", "/questionnaire", {}, 200, False),
    ("GET", "/steps/1", {}, 200, False),
    ("GET", "/steps/8", {}, 200, False),
    ("GET", "/rules", {}, 200, False),
    ("GET", "/about", {}, 200, False),
    ("GET", "/healthz", {}, 200, False),
    ("GET", "/static/style.css", {}, 200, False),
    ("GET", "/static/print.css", {}, 200, False),
    ("GET", "/favicon.ico", {}, 200, False),
    ("GET", "/no-such-page", {}, 404, False),
    ("GET", "/steps/99", {}, 404, False),
    ("GET", "/static/no-such-file.css", {}, 404, False),
    ("GET", "/static/../app.py", {}, 404, False),
    ("GET", "/summary.pdf", {}, 405, False),
    ("PUT", "/api/plan", {"json": {}}, 405, False),
    ("DELETE", "/questionnaire", {}, 405, False),
    ("POST", "/plan", {"data": TYPICAL}, 400, False),          # CSRF on, no token
    ("POST", "/steps", {"data": TYPICAL}, 400, False),
    ("POST", "/api/plan", {"data": "{", "content_type": "application/json"}, 400, False),
    ("POST", "/api/plan", {"data": "x", "content_type": "text/plain"}, 400, False),
    ("POST", "/plan", {"data": {"primary_cancer": "x" * BIG}}, 413, False),
    ("POST", "/api/plan", {"data": "[" + " " * BIG + "]", "content_type": "application/json"}, 413, False),
    ("POST", "/plan", {"data": TYPICAL}, 200, True),
    ("POST", "/summary", {"data": TYPICAL}, 200, True),
    ("POST", "/steps", {"data": {**TYPICAL, "step": "2"}}, 200, True),
    ("POST", "/questionnaire", {"data": TYPICAL}, 200, True),
    ("POST", "/api/plan", {"json": TYPICAL}, 200, False),
]


def _call(app, method, path, kw, base_url):
    return app.test_client().open(path, method=method, base_url=base_url, **kw)


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("method,path,kw,status,csrf_off", ROUTES,
                         ids=[f"{m} {p} {s}" for m, p, _, s, _ in ROUTES])
def test_security_headers_everywhere(app, csrf_app, scheme, method, path, kw, status, csrf_off):
    r = _call(app if csrf_off else csrf_app, method, path, kw, f"{scheme}://localhost")
    assert r.status_code == status
    policy = csp(r)
    assert policy, "Content-Security-Policy missing"
    for directive, sources in policy.items():
        assert "'unsafe-inline'" not in sources, directive
        assert "'unsafe-eval'" not in sources, directive
        assert "*" not in sources, directive
    assert policy.get("frame-ancestors") == ["'none'"]
    assert policy.get("object-src") == ["'none'"]
    assert policy.get("default-src") == ["'self'"]
    assert policy.get("script-src", policy["default-src"]) == ["'self'"]
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("Referrer-Policy") == "no-referrer"
    hsts = r.headers.get("Strict-Transport-Security")
    if scheme == "https":
        assert hsts and "max-age=" in hsts and int(hsts.split("max-age=")[1].split(";")[0]) >= 15552000
    else:
        assert hsts is None, "HSTS must not be sent over plain HTTP"
    if not path.startswith("/static/") and path != "/favicon.ico":
        assert "no-store" in r.headers.get("Cache-Control", "")
    assert r.status_code < 500


def test_pdf_has_security_headers_too(app):
    r = app.test_client().post("/summary.pdf", data=TYPICAL, base_url="https://localhost")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert csp(r)["frame-ancestors"] == ["'none'"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" in r.headers
    assert r.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("path", ["/", "/questionnaire", "/steps/1", "/rules", "/about"])
def test_pages_need_no_inline_code(client, path):
    """The CSP forbids inline script and style, so the pages must not rely on any."""
    _assert_no_inline(client.get(path).get_data(as_text=True))


def test_answer_pages_need_no_inline_code(client):
    for path in ("/plan", "/summary", "/questionnaire"):
        _assert_no_inline(client.post(path, data=TYPICAL).get_data(as_text=True))


def _assert_no_inline(html: str):
    import re
    for m in re.finditer(r"<script\b[^>]*>", html, re.I):
        assert "src=" in m.group(0), f"inline script: {m.group(0)}"
    assert not re.search(r"<style\b", html, re.I), "inline <style> element"
    assert not re.search(r"\sstyle\s*=", html, re.I), "inline style attribute"
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "inline event handler"
    assert "javascript:" not in html.lower()


# --------------------------------------------------------------------------------------------
# CSRF: refused with 400, friendly, answers kept, and the re-shown page works
# --------------------------------------------------------------------------------------------
FORM_ROUTES = ["/plan", "/summary", "/summary.pdf", "/steps", "/questionnaire/symptoms"]


def _refused_and_kept(r, path, rulebook, answers=ANSWERS):
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert str(escape(rulebook.caveat)) in html
    if path == "/steps":
        assert "Please press Continue again" in html
        form = Page(html).form("/steps")
    else:
        assert "Please send your answers again" in html and "Your answers are still here" in html
        form = Page(html).form("/plan")
    assert as_answers(submitted(form), rulebook.fields) == folded(answers), "answers were lost"
    return form


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_tokenless_post_is_refused_and_keeps_answers(csrf_app, rulebook, path):
    client = csrf_app.test_client()
    data = pairs(ANSWERS) + ([("step", "5")] if path == "/steps" else [])
    form = _refused_and_kept(client.post(path, data=MultiDict(data)), path, rulebook)
    # The re-shown page carries a fresh token: sending it again works.
    again = submitted(form) + ([("go", "next")] if path == "/steps" else [])
    action = "/steps" if path == "/steps" else "/plan"
    r = client.post(action, data=MultiDict(again))
    assert r.status_code == 200, r.get_data(as_text=True)[:300]


def _expired(app, client, age_seconds):
    """A token for this client's session, signed ``age_seconds`` ago."""
    with client.session_transaction() as sess:
        raw = sess["csrf_token"]
    s = URLSafeTimedSerializer(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key,
                               salt="wtf-csrf-token")
    with mock.patch.object(TimestampSigner, "get_timestamp",
                           return_value=int(time.time()) - age_seconds):
        return s.dumps(raw)


@pytest.mark.parametrize("path", FORM_ROUTES)
def test_expired_token_is_refused_and_keeps_answers(csrf_app, rulebook, path):
    client = csrf_app.test_client()
    client.get("/questionnaire")  # the session gets its raw token
    limit = csrf_app.config["WTF_CSRF_TIME_LIMIT"]
    extra = [("step", "5")] if path == "/steps" else []
    # Sanity: the same token, signed just now, is accepted (so only its age is at fault below).
    fresh = _expired(csrf_app, client, 0)
    ok = client.post(path, data=MultiDict(pairs(ANSWERS) + extra + [("csrf_token", fresh)]))
    assert ok.status_code == 200
    old = _expired(csrf_app, client, limit + 60)
    r = client.post(path, data=MultiDict(pairs(ANSWERS) + extra + [("csrf_token", old)]))
    _refused_and_kept(r, path, rulebook)


@pytest.mark.parametrize("path", FORM_ROUTES)
@pytest.mark.parametrize("kind", ["garbage", "other_session", "other_secret"])
def test_invalid_token_is_refused_and_keeps_answers(csrf_app, rulebook, path, kind):
    client = csrf_app.test_client()
    client.get("/questionnaire")
    if kind == "garbage":
        token = "not-a-token"
    elif kind == "other_session":
        other = csrf_app.test_client()
        token = Page(other.get("/questionnaire").get_data(as_text=True)).token()
    else:
        with client.session_transaction() as sess:
            token = URLSafeTimedSerializer("another-secret", salt="wtf-csrf-token").dumps(sess["csrf_token"])
    extra = [("step", "5")] if path == "/steps" else []
    r = client.post(path, data=MultiDict(pairs(ANSWERS) + extra + [("csrf_token", token)]))
    _refused_and_kept(r, path, rulebook)


def test_token_without_session_cookie_is_refused(csrf_app, rulebook):
    token = Page(csrf_app.test_client().get("/questionnaire").get_data(as_text=True)).token()
    fresh = csrf_app.test_client()  # no cookie at all
    r = fresh.post("/plan", data=MultiDict(pairs(ANSWERS) + [("csrf_token", token)]))
    _refused_and_kept(r, "/plan", rulebook)


def test_api_needs_no_token_and_sets_no_cookie(csrf_app):
    r = csrf_app.test_client().post("/api/plan", json=TYPICAL)
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers


# --------------------------------------------------------------------------------------------
# Size limits: 413, friendly, never 500
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/plan", "/summary", "/summary.pdf", "/steps", "/questionnaire"])
@pytest.mark.parametrize("shape", ["one_huge_value", "huge_body", "too_many_parts"])
def test_oversized_form_gets_friendly_413(csrf_app, rulebook, path, shape):
    client = csrf_app.test_client()
    if shape == "one_huge_value":
        r = client.post(path, data={"primary_cancer": "breast", "junk": "x" * BIG})
    elif shape == "huge_body":
        r = client.post(path, data=b"a=" + b"b" * BIG,
                        content_type="application/x-www-form-urlencoded")
    else:  # multipart with more parts than a form ever has (Werkzeug's MAX_FORM_PARTS)
        data = {f"f{i}": "1" for i in range(1500)}
        r = client.post(path, data=data, content_type="multipart/form-data")
    assert r.status_code == 413
    html = r.get_data(as_text=True)
    assert r.mimetype == "text/html"
    assert str(escape(rulebook.caveat)) in html
    assert "Nothing you entered has been stored" in html
    assert 'href="/questionnaire"' in html


@pytest.mark.parametrize("body", [b'{"primary_cancer": "' + b"x" * BIG + b'"}',
                                  b"[" + b"1," * (BIG // 2) + b"1]"])
def test_oversized_json_gets_413_json(client, rulebook, body):
    r = client.post("/api/plan", data=body, content_type="application/json")
    assert r.status_code == 413
    data = r.get_json()
    assert data["caveat"] == rulebook.caveat and data["errors"]


def _chunked(client, path, body, content_type):
    """POST as a server passes on a chunked upload: no Content-Length, input terminated."""
    import io
    from werkzeug.test import EnvironBuilder, run_wsgi_app
    env = EnvironBuilder(path=path, method="POST", input_stream=io.BytesIO(body),
                         content_type=content_type,
                         headers={"Transfer-Encoding": "chunked"}).get_environ()
    env.pop("CONTENT_LENGTH", None)
    env["wsgi.input_terminated"] = True  # what gunicorn sets; the test client would drop it
    app_iter, status, headers = run_wsgi_app(client.application, env, buffered=True)
    return client.application.response_class(b"".join(app_iter), status=status, headers=headers)


def test_oversized_chunked_json_gets_413_json(client, rulebook):
    """No Content-Length (chunked upload): the limit holds, the body is not silently cut."""
    body = b'{"primary_cancer": "' + b"x" * BIG + b'"}'
    r = _chunked(client, "/api/plan", body, "application/json")
    assert r.status_code == 413, r.get_data(as_text=True)[:200]
    assert r.get_json()["errors"] and r.get_json()["caveat"]


@pytest.mark.parametrize("path", ["/plan", "/questionnaire", "/steps"])
def test_oversized_chunked_form_gets_413(client, path):
    body = b"primary_cancer=breast&junk=" + b"x" * BIG + b"&pain_score=3"
    r = _chunked(client, path, body, "application/x-www-form-urlencoded")
    assert r.status_code == 413
    assert "Nothing you entered has been stored" in r.get_data(as_text=True)


def test_small_chunked_posts_still_work(client):
    r = _chunked(client, "/api/plan", b'{"primary_cancer": "breast"}', "application/json")
    assert r.status_code == 200 and r.get_json()["options"]
    r = _chunked(client, "/plan", b"primary_cancer=breast&pain_score=3",
                 "application/x-www-form-urlencoded")
    # post/redirect/get: the answers go to the cookie, the results page is the GET it names.
    assert r.status_code == 303
    cookie = r.headers["Set-Cookie"].split(";")[0].split("=", 1)
    client.set_cookie(cookie[0], cookie[1])
    r = client.get(r.headers["Location"])
    assert r.status_code == 200 and "Options to talk about" in r.get_data(as_text=True)


def test_a_large_but_allowed_form_still_works(client):
    r = client.post("/plan", data={**TYPICAL, "junk": "x" * 30_000})
    assert r.status_code == 200


# --------------------------------------------------------------------------------------------
# The JSON API accepts only JSON
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("content_type", [
    None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "text/html", "application/xml", "text/json", "application/javascript",
])
def test_api_refuses_non_json(client, rulebook, content_type):
    kw = {"data": '{"primary_cancer": "breast"}'}
    if content_type:
        kw["content_type"] = content_type
    r = client.post("/api/plan", **kw)
    assert r.status_code == 400
    data = r.get_json()
    assert data["caveat"] == rulebook.caveat
    assert data["errors"] and "_body" in data["errors"]


@pytest.mark.parametrize("body", [b"", b"{", b"null", b"[]", b'"breast"', b"1", b"\xff\xfe",
                                  b"[" * 5000 + b"]" * 5000, b'{"a": NaN}'])
def test_api_refuses_bad_json_bodies(client, rulebook, body):
    r = client.post("/api/plan", data=body, content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["caveat"] == rulebook.caveat and r.get_json()["errors"]


def test_api_accepts_json_with_charset(client):
    r = client.post("/api/plan", data='{"primary_cancer": "breast"}',
                    content_type="application/json; charset=utf-8")
    assert r.status_code == 200


# --------------------------------------------------------------------------------------------
# Start-up and the health check
# --------------------------------------------------------------------------------------------
def _clean_env(monkeypatch):
    for name in ("SECRET_KEY", "FLASK_DEBUG", "FLASK_ENV", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("config", [None, {}, {"TESTING": False}, {"SECRET_KEY": ""},
                                    {"SECRET_KEY": None, "DEBUG": False}])
def test_no_secret_key_refuses_to_start(monkeypatch, config):
    import app as app_module
    _clean_env(monkeypatch)
    with pytest.raises(app_module.ConfigError) as info:
        app_module.create_app(config)
    message = str(info.value)
    assert "SECRET_KEY" in message and "environment variable" in message
    assert "refuses to start" in message


def test_empty_secret_key_in_env_refuses_to_start(monkeypatch):
    import app as app_module
    _clean_env(monkeypatch)
    monkeypatch.setenv("SECRET_KEY", "")
    with pytest.raises(app_module.ConfigError):
        app_module.create_app()


def test_secret_key_from_env_starts(monkeypatch):
    import app as app_module
    _clean_env(monkeypatch)
    monkeypatch.setenv("SECRET_KEY", "a-long-random-string-for-this-test")
    app = app_module.create_app()
    assert app.secret_key == "a-long-random-string-for-this-test"
    assert not app.testing and not app.debug
    assert app.test_client().get("/healthz").status_code == 200


def test_testing_without_a_key_gets_a_random_one(monkeypatch):
    import app as app_module
    _clean_env(monkeypatch)
    a = app_module.create_app({"TESTING": True})
    b = app_module.create_app({"TESTING": True})
    assert a.secret_key and b.secret_key and a.secret_key != b.secret_key


def test_session_cookie_flags(monkeypatch):
    import app as app_module
    _clean_env(monkeypatch)
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    app = app_module.create_app()
    r = app.test_client().get("/questionnaire", base_url="https://localhost")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_healthz(client, rulebook):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "rules_version": rulebook.version}
    assert r.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in r.headers
    assert client.head("/healthz").status_code == 200


def test_405_keeps_the_allow_header(client):
    r = client.get("/summary.pdf")
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]
    r = client.get("/api/plan")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]


def test_413_page_is_in_plain_words(client):
    r = client.post("/plan", data={"primary_cancer": "x" * 200_000})
    assert r.status_code == 413
    assert "too large" in r.get_data(as_text=True)


def test_proxy_fix_makes_https_known(monkeypatch):
    from app import create_app
    monkeypatch.setenv("BONEMETS_PROXY_FIX", "1")
    app = create_app({"TESTING": True, "SECRET_KEY": "x"})
    r = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in r.headers


# --------------------------------------------------------------------------------------------
# A form body with a byte that is not UTF-8, or a control character
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [b"bre\xffast", b"bre\x00ast", b"bre%00ast", b"bre%FFast"])
def test_a_bad_byte_in_a_form_names_its_answer_and_keeps_the_rest(csrf_app, bad):
    """Browsers %-escape what they send; a raw byte that is not UTF-8 (another client) made
    Werkzeug drop the whole form: every answer and the CSRF token were lost and the page said
    the form had been open too long. Now that answer is named and the rest kept, and no
    control character is echoed into the page."""
    from urllib.parse import quote
    client = csrf_app.test_client()
    token = Page(client.get("/questionnaire").get_data(as_text=True)).token()
    body = (f"csrf_token={quote(token)}&calcium=high&bone_sites=spine&bone_sites=ribs&"
            "primary_cancer=").encode() + bad
    r = client.post("/plan", data=body, content_type="application/x-www-form-urlencoded")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    page = Page(html)
    assert 'href="#primary_cancer-0"' in html          # the error summary names the answer
    kept = dict((n, v) for n, v in submitted(page.form("/plan")) if n in ("calcium",))
    assert kept == {"calcium": "high"}
    assert {v for n, v in submitted(page.form("/plan")) if n == "bone_sites"} == {"spine", "ribs"}
    assert "\x00" not in html
    assert "open for a long time" not in html
