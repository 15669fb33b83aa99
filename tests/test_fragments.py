"""The catalog parts of option cards are rendered once per process and language
(bonemets/fragments.py ``once``): the pages made with that cache must be byte for byte the pages
made without it, for any answers, in every language, whatever other answers filled the cache
first, so the cache can never show one person's text to another."""
from __future__ import annotations

import random
import re

import pytest
from flask import Response
from markupsafe import Markup

from app import create_app
from bonemets import fragments
from bonemets.scenarios import random_answers
from bonemets.views import carry

LANGS = ["en", "es"]
TOKEN = re.compile(rb'name="csrf_token" value="[^"]*"')


def _app(**extra):
    return create_app({"TESTING": True, "SECRET_KEY": "fragments", **extra})


@pytest.fixture(scope="module")
def apps():
    return _app(), _app(FRAGMENT_CACHE=False)


def _random_pairs(rb, rng) -> list:
    """A random answer set, sometimes with options ticked to compare, the decision steps and
    large print: every choice the kept answers can carry."""
    answers = random_answers(rb, rng)
    pairs = [(k, str(x)) for k, v in answers.items() for x in (v if isinstance(v, list) else [v])]
    if rng.random() < 0.3:
        pairs += [("compare", o) for o in rng.sample(sorted(rb.options), 3)]
    if rng.random() < 0.3:
        pairs += [("decide_sure_sure", rng.choice("yn")), ("print_size", "large")]
    if rng.random() < 0.3:
        pairs += [("decide_leaning", rng.choice(sorted(rb.options))), ("paper", "letter")]
    return pairs


def _cookie(app, pairs) -> str:
    with app.test_request_context("/plan", method="POST"):
        response = Response()
        carry.save(response, pairs)
    return response.headers["Set-Cookie"].split(";", 1)[0].partition("=")[2]


def _page(client, path, cookie, lang) -> bytes:
    client.set_cookie(carry.COOKIE, cookie)
    r = client.get(path, headers={"Accept-Language": lang})
    assert r.status_code == 200, (path, lang, r.status_code)
    return TOKEN.sub(b'name="csrf_token" value="-"', r.data)  # each session has its own token


def test_cached_pages_are_byte_identical_to_uncached_ones(apps):
    cached, plain = apps
    rb = cached.extensions["bonemets"]
    rng = random.Random(20261201)
    c_client, p_client = cached.test_client(), plain.test_client()
    checked = 0
    for _ in range(40):
        cookie = _cookie(cached, _random_pairs(rb, rng))
        for lang in LANGS:
            for path in ("/plan", "/summary"):
                got, want = _page(c_client, path, cookie, lang), _page(p_client, path, cookie, lang)
                assert got == want, f"GET {path} ({lang}) differs with the cache"
                checked += 1
    assert checked == 160
    kept = cached.extensions.get("bonemets_fragments") or {}
    assert {k[3][0] for k in kept} == set(LANGS), "each language's parts are kept apart"
    assert not plain.extensions.get("bonemets_fragments"), "FRAGMENT_CACHE=False keeps nothing"


def test_the_pdf_html_is_the_same_with_and_without_the_cache(apps):
    from flask import render_template
    from bonemets.views.common import plan_context

    rng = random.Random(7)
    rb = apps[0].extensions["bonemets"]
    for _ in range(10):
        answers = random_answers(rb, rng)
        pages = []
        for app in apps:
            with app.test_request_context("/summary.pdf", method="POST",
                                          headers={"Accept-Language": "es"}):
                pages.append(TOKEN.sub(b"", render_template(
                    "summary.html", pdf=True, **plan_context(answers)).encode()))
        assert pages[0] == pages[1]


def test_once_refuses_anything_but_ids_and_flags(apps):
    app = apps[0]
    option = next(iter(app.extensions["bonemets"].options))
    with app.test_request_context("/"):
        macro = app.jinja_env.get_template("_macros.html").make_module(
            {"rb": app.extensions["bonemets"]}).card_balance
        part = fragments.once(macro, option)
        assert isinstance(part, Markup) and "balance" in part
        assert fragments.once(macro, option) is part  # kept
        for bad in ({"id": option}, [option], object(), (option, {"id": option}),
                    (option, (option, [option]))):
            with pytest.raises(TypeError):
                fragments.once(macro, bad)


def test_a_flag_and_the_number_equal_to_it_are_kept_apart(apps):
    """``True == 1`` and their hashes are equal: a key with a flag records where its flags are,
    so a macro that tells them apart never gets the other's part."""
    app = apps[0]
    with app.test_request_context("/"):
        macro = app.jinja_env.from_string(
            "{% macro m(x) %}{{ 'flag' if x is sameas true else 'number' }}{% endmacro %}").module.m
        assert fragments.once(macro, True) == "flag"
        assert fragments.once(macro, 1) == "number"
        assert fragments.once(macro, True) == "flag"
        nested = app.jinja_env.from_string(
            "{% macro m(t) %}{{ 'flag' if t[1] is sameas true else 'number' }}{% endmacro %}").module.m
        assert fragments.once(nested, ("a", 1)) == "number"
        assert fragments.once(nested, ("a", True)) == "flag"


def _flat(value):
    if isinstance(value, tuple):
        for v in value:
            yield from _flat(v)
    else:
        yield value


def test_no_kept_part_holds_what_a_person_said_or_chose():
    """The kept parts are made of what the plan shows (the rule book's words by id), never of a
    person's answers or choices as they gave them: "Because you said" texts, the decision steps'
    choices (decide_*: how much a priority matters, the SURE answers, the leaning) and the
    hidden answer fields are rendered for each page (bonemets/fragments.py)."""
    from bonemets.present import present

    app = _app()
    client = app.test_client()
    rng = random.Random(99)
    said = set()
    for _ in range(30):
        pairs = _random_pairs(app.extensions["bonemets"], rng)
        pairs += [("decide_sure_understand", rng.choice("yn"))]
        cookie = _cookie(app, pairs)
        for lang in LANGS:
            for path in ("/plan", "/summary"):
                _page(client, path, cookie, lang)
            with app.test_request_context("/plan", headers={"Accept-Language": lang}):
                from bonemets.language import rulebook
                from bonemets.views.carry import _load
                from bonemets.views.common import quick_answers
                answers = quick_answers(_load(cookie), csrf=False)
                rb = rulebook()
                shown = present(rb, rb.plan(answers), answers)
                said |= {s for f in shown.red_flags for s in f["said"]}
                said |= {s for c in shown.cards.values() for r in c["reasons"] for s in r["said"]}
    kept = app.extensions["bonemets_fragments"]
    assert said and len(kept) > 100
    for key, part in kept.items():
        words = [w for w in _flat(key[4]) if isinstance(w, str)]
        assert not [w for w in words if w.startswith("decide_") or w in said], key
        text = str(part)
        assert 'name="decide_' not in text, key
        assert not [s for s in said if s in text], (key, [s for s in said if s in text][:3])
