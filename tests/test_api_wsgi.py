"""The JSON API's fast path (bonemets/api_wsgi.py) answers exactly what the Flask app answers:
every request below is sent to an app with it and to one without it (``API_FAST_PATH=False``)
and gets the same status, headers (security headers included) and body. Valid plans are
answered by the fast path; everything else is handed to Flask, which answers as before."""
from __future__ import annotations

import io
import json
import random

import pytest

from app import create_app
from bonemets import api, api_wsgi
from bonemets.scenarios import random_answers

CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"}


def endpoint(app) -> api_wsgi.PlanEndpoint:
    """The PlanEndpoint in the app's middleware chain."""
    w = app.wsgi_app
    while not isinstance(w, api_wsgi.PlanEndpoint):
        w = getattr(w, "wsgi_app", None) or w.app
    return w


class Counting:
    """Wraps the Flask app behind the fast path: counts the requests handed to it."""

    def __init__(self, wsgi):
        self.wsgi, self.calls = wsgi, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.wsgi(environ, start_response)


@pytest.fixture(scope="module")
def apps():
    fast, plain = create_app(dict(CONFIG)), create_app({**CONFIG, "API_FAST_PATH": False})
    ep = endpoint(fast)
    ep.next = Counting(ep.next)
    with pytest.raises(AttributeError):
        endpoint(plain)
    return fast, plain, ep.next


def both(apps, *args, **kwargs):
    """(response of the fast app, response of the plain app, whether Flask answered the first)."""
    fast, plain, counter = apps
    before = counter.calls
    stream = kwargs.pop("stream", None)
    if stream:
        kwargs["input_stream"] = stream()
    a = fast.test_client().open(*args, **kwargs)
    if stream:
        kwargs["input_stream"] = stream()
    b = plain.test_client().open(*args, **kwargs)
    return a, b, counter.calls > before


def same(a, b):
    assert a.status == b.status
    assert a.headers.to_wsgi_list() == b.headers.to_wsgi_list()
    assert a.get_data() == b.get_data()


def test_valid_answers_are_answered_by_the_fast_path_with_the_same_bytes(apps, rulebook):
    rng = random.Random(11)
    for _ in range(40):
        a, b, flask = both(apps, "/api/plan", method="POST", json=random_answers(rulebook, rng))
        same(a, b)
        assert a.status_code == 200 and not flask
        assert a.headers["Content-Security-Policy"] and a.headers["Cache-Control"] == "no-store"
        assert a.headers["Vary"] == "Accept-Language"


@pytest.mark.parametrize("headers, lang", [
    ({}, "en"), ({"Accept-Language": "es"}, "es"), ({"Accept-Language": "es-MX,es;q=0.9"}, "es"),
    ({"Accept-Language": "fr, en;q=0.5"}, "en"), ({"Accept-Language": "de"}, "en"),
    ({"Accept-Language": ";;;q=x"}, "en"),
])
def test_the_language_is_the_flask_apps(apps, typical, headers, lang):
    fast = apps[0]
    a, b, flask = both(apps, "/api/plan", method="POST", json=typical, headers=headers)
    same(a, b)
    assert not flask
    assert a.get_json()["caveat"] == fast.extensions["bonemets_books"][lang].caveat


@pytest.mark.parametrize("kwargs", [
    {"data": b"{}", "content_type": "application/json"},
    {"data": b' \n{"pain_score": 3}\n ', "content_type": "application/json; charset=utf-8"},
    {"data": b'{"pain_score": "3"}', "content_type": "Application/JSON"},
])
def test_other_valid_bodies_take_the_fast_path(apps, kwargs):
    a, b, flask = both(apps, "/api/plan", method="POST", **kwargs)
    same(a, b)
    assert a.status_code == 200 and not flask


class Unreadable(io.BytesIO):
    """A body whose reading fails (a client gone mid-upload)."""

    def read(self, *args):
        raise OSError("connection reset")

    readline = read


# Every way a request can differ from a valid plan request: each is handed to Flask.
HANDED_ON = {
    "query string": dict(path="/api/plan?lang=es", json={"pain_score": 3}),
    "FHIR type": dict(data=b'{"resourceType": "Patient"}', content_type="application/fhir+json"),
    "text/plain": dict(data=b"{}", content_type="text/plain"),
    "no type": dict(data=b"{}"),
    "form type": dict(data={"pain_score": "3"}),
    "other +json type": dict(data=b"{}", content_type="application/merge-patch+json"),
    "bad JSON": dict(data=b"{", content_type="application/json"),
    "empty body": dict(data=b"", content_type="application/json"),
    "not UTF-8": dict(data=b"\xff\xfe", content_type="application/json"),
    "a list": dict(data=b"[]", content_type="application/json"),
    "null": dict(data=b"null", content_type="application/json"),
    "a number": dict(data=b"42", content_type="application/json"),
    "deep nesting": dict(data=b"[" * 30000 + b"]" * 30000, content_type="application/json"),
    "too large": dict(data=b'{"a": "' + b"x" * 70000 + b'"}', content_type="application/json"),
    "not a choice": dict(json={"primary_cancer": "liver"}),
    "unknown field": dict(json={"height_cm": 170}),
    "huge number": dict(data=b'{"pain_score": ' + b"9" * 200 + b"}", content_type="application/json"),
    "number too long for Python": dict(data=b'{"pain_score": ' + b"9" * 5001 + b"}",
                                       content_type="application/json"),
    "untrusted host": dict(json={}, headers={"Host": "evil.example"}),
    "broken host": dict(json={}, headers={"Host": "bad host!"}),
    "bad length": dict(data=b"{}", content_type="application/json",
                       environ_overrides={"CONTENT_LENGTH": "abc"}),
    "signed length": dict(data=b"{}", content_type="application/json",
                          environ_overrides={"CONTENT_LENGTH": "+2"}),
    "spaced length": dict(data=b"{}", content_type="application/json",
                          environ_overrides={"CONTENT_LENGTH": " 2"}),
    "chunked and a length": dict(data=b"{}", content_type="application/json",
                                 headers={"Transfer-Encoding": "chunked"}),
    "short body": dict(data=b"{}", content_type="application/json",
                       environ_overrides={"CONTENT_LENGTH": "100"}),
    "no length (chunked)": dict(content_type="application/json", stream=lambda: io.BytesIO(b"{}"),
                                environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True}),
    "unreadable body": dict(content_type="application/json", environ_overrides={"CONTENT_LENGTH": "20"},
                            stream=lambda: Unreadable(b"x" * 20)),
    "GET": dict(method="GET"),
    "HEAD": dict(method="HEAD"),
    "PUT": dict(method="PUT", json={}),
    "trailing slash": dict(path="/api/plan/", json={}),
}


# Of those, the ones Flask answers with a plan (the rest are errors).
PLANS_FROM_FLASK = {"query string", "no length (chunked)", "spaced length",
                    "chunked and a length"}


@pytest.mark.parametrize("name", HANDED_ON)
def test_every_other_request_is_answered_by_flask_as_before(apps, name):
    case = dict(HANDED_ON[name])
    path, method = case.pop("path", "/api/plan"), case.pop("method", "POST")
    a, b, flask = both(apps, path, method=method, **case)
    same(a, b)
    assert flask, "handed to the Flask app"
    assert a.status_code != 200 or name in PLANS_FROM_FLASK
    if a.status_code >= 400 and method != "HEAD":
        d = json.loads(a.get_data())  # the API's error format: the caveat and errors
        assert d.get("resourceType") == "OperationOutcome" or (d["caveat"] and d["errors"])


def test_an_error_of_the_fast_path_itself_is_answered_by_flask(apps, typical, monkeypatch):
    def broken(self, environ):
        raise RuntimeError("a bug")
    monkeypatch.setattr(api_wsgi.PlanEndpoint, "_answer", broken)
    a, b, flask = both(apps, "/api/plan", method="POST", json=typical)
    same(a, b)
    assert flask and a.status_code == 200


def test_text_the_encoder_refuses_is_answered_by_flask(apps, typical, monkeypatch):
    monkeypatch.setattr(api, "plan_bytes", lambda rb, plan: None)
    a, b, flask = both(apps, "/api/plan", method="POST", json=typical)
    same(a, b)
    assert flask and a.status_code == 200 and a.get_json()["options"]


def test_behind_a_proxy_the_forwarded_scheme_and_host_count(monkeypatch, typical):
    monkeypatch.setenv("BONEMETS_PROXY_FIX", "1")
    fast, plain = create_app(dict(CONFIG)), create_app({**CONFIG, "API_FAST_PATH": False})
    ep = endpoint(fast)
    ep.next = counter = Counting(ep.next)
    for headers in ({"X-Forwarded-Proto": "https"}, {"X-Forwarded-Host": "evil.example"},
                    {"X-Forwarded-Host": "localhost", "X-Forwarded-Proto": "https"}):
        before = counter.calls
        a = fast.test_client().post("/api/plan", json=typical, headers=headers)
        b = plain.test_client().post("/api/plan", json=typical, headers=headers)
        same(a, b)
        if headers.get("X-Forwarded-Proto") == "https":
            assert a.headers["Strict-Transport-Security"]
        assert (counter.calls > before) == ("evil.example" in headers.values())


@pytest.mark.parametrize("change", ["header", "body"])
def test_the_comparison_can_fail(apps, typical, monkeypatch, change):
    """A fast path that answered differently (a header or a byte) is caught by ``same``."""
    real = api_wsgi.PlanEndpoint._answer

    def different(self, environ):
        body, headers = real(self, environ)
        if change == "header":
            return body, headers[:-1] + [("Vary", "Cookie")]
        return body[:-1] + b" }", headers
    monkeypatch.setattr(api_wsgi.PlanEndpoint, "_answer", different)
    a, b, flask = both(apps, "/api/plan", method="POST", json=typical)
    assert not flask
    with pytest.raises(AssertionError):
        same(a, b)
