"""The one-page form's POST and the GET pages read valid answers without building the WTForms
form (bonemets/views/common.py ``quick_answers``); a post it refuses goes to the form, which
shows the problems. Both must accept exactly the same posts and give the same answers: checked
here on random valid answer sets and on posts made wrong in every way the form's fields can be
(values outside the vocabulary, blanks and spaces, repeats, numbers out of range or not numbers,
unknown names, a bad or missing CSRF token)."""
from __future__ import annotations

import random
import re

import pytest
from flask import session
from werkzeug.datastructures import MultiDict

from app import create_app
from bonemets.scenarios import random_answers
from bonemets.views.common import form_class, quick_answers

SPOILERS = ["", " ", "  \t", "x", "²", "-1", "1e3", "0012", "9999999", "none", "dont_know",
            "unsure", "1", "5", "120"]


@pytest.fixture(scope="module")
def app():
    return create_app({"TESTING": True, "SECRET_KEY": "quick", "WTF_CSRF_ENABLED": True})


def _pairs(rb, rng) -> list:
    answers = random_answers(rb, rng)
    pairs = [(k, str(x)) for k, v in answers.items() for x in (v if isinstance(v, list) else [v])]
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        name = rng.choice(sorted(rb.fields))
        f = rb.fields[name]
        value = rng.choice(SPOILERS + list(f.values or ()))
        how = rng.random()
        if how < 0.4:
            pairs.append((name, value))  # a repeat, or a second value of a one-answer field
        elif how < 0.8:
            pairs = [p for p in pairs if p[0] != name] + [(name, value)]
        else:
            pairs.insert(0, (name, value))  # before the real one: the first value is read
    if rng.random() < 0.2:
        pairs.append((rng.choice(["compare", "decide_leaning", "nonsense", "paper"]), "a4"))
    return pairs


@pytest.fixture(scope="module")
def browser(app):
    """One session and its token, as a browser has them after GET /questionnaire."""
    client = app.test_client()
    html = client.get("/questionnaire").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    with client.session_transaction() as s:
        return token, dict(s)


def _both(app, browser, pairs, token):
    data = MultiDict(pairs + ([("csrf_token", token)] if token is not None else []))
    with app.test_request_context("/plan", method="POST", data=data):
        session.update(browser[1])
        quick = quick_answers(data)
        form = form_class()(formdata=data)
        valid = form.validate()
        return quick, valid, (form.answers() if valid else None)


def test_quick_answers_accept_what_the_form_accepts_and_nothing_else(app, browser):
    rb = app.extensions["bonemets"]
    token = browser[0]
    rng = random.Random(20261201)
    seen = {"accepted": 0, "refused": 0}
    for _ in range(1500):
        pairs = _pairs(rb, rng)
        quick, valid, answers = _both(app, browser, pairs, token)
        assert (quick is not None) == valid, pairs
        if valid:
            assert quick == answers, pairs
            seen["accepted"] += 1
        else:
            seen["refused"] += 1
    assert seen["accepted"] > 300 and seen["refused"] > 300, seen
    # A missing or wrong token: refused by both (the form then says so).
    pairs = _pairs(rb, random.Random(1))
    for bad in (None, "", token[:-2] + "xx"):
        quick, valid, _ = _both(app, browser, pairs, bad)
        assert quick is None and not valid


def test_a_post_with_errors_still_shows_them(app):
    """The quick path refuses, the form shows the problem with what was typed kept."""
    client = app.test_client()
    html = client.get("/questionnaire").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    number = next(n for n, f in app.extensions["bonemets"].fields.items() if f.kind == "number")
    r = client.post("/plan", data={"csrf_token": token, number: "12x"})
    assert r.status_code == 400
    assert 'class="error-summary"' in r.get_data(as_text=True) and 'value="12x"' in r.get_data(as_text=True)
    ok = client.post("/plan", data={"csrf_token": token, number: " 3 "})
    assert ok.status_code == 303
