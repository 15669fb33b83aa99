"""Routes that never show or check a form do no session work (no cookie read, none set), and
the form routes keep the same CSRF protection with a session signed by the same secret."""
from __future__ import annotations

import re

from app import create_app


def _app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": True, "SECRET_KEY": "one"})


def _token_and_client(app):
    client = app.test_client()
    r = client.get("/questionnaire")
    assert any(h.startswith("session=") for h in r.headers.getlist("Set-Cookie"))
    return client, re.search(r'name="csrf_token" value="([^"]+)"', r.get_data(as_text=True)).group(1)


def test_machine_routes_and_healthz_set_no_cookie_even_with_one(typical):
    app = _app()
    client, _ = _token_and_client(app)  # the client now holds a session cookie
    assert client.get("/healthz").headers.getlist("Set-Cookie") == []
    r = client.post("/api/plan", json=typical)
    assert r.status_code == 200 and r.headers.getlist("Set-Cookie") == []
    r = client.post("/api/plan", data="not json", content_type="application/json")
    assert r.status_code == 400 and r.headers.getlist("Set-Cookie") == []
    assert client.get("/static/style.css").headers.getlist("Set-Cookie") == []


def test_form_routes_still_need_the_session_token(typical):
    app = _app()
    client, token = _token_and_client(app)
    assert client.post("/plan", data={**typical, "csrf_token": token}).status_code == 303  # accepted: on to the results page (post/redirect/get)
    assert client.post("/plan", data=typical).status_code == 400  # no token
    other = app.test_client()  # a token without its session is refused
    assert other.post("/plan", data={**typical, "csrf_token": token}).status_code == 400


def test_a_new_secret_key_is_used_at_once(typical):
    app = _app()
    client, token = _token_and_client(app)
    app.secret_key = "two"  # the cached signing serializer follows the key
    app.config["SECRET_KEY"] = "two"
    assert client.post("/plan", data={**typical, "csrf_token": token}).status_code == 400
    client, token = _token_and_client(app)
    assert client.post("/plan", data={**typical, "csrf_token": token}).status_code == 303
