"""Property-based fuzzing (Hypothesis) of the JSON API, the HTML forms and the engine.

Deterministic: every test runs with ``derandomize=True`` (a fixed seed per test) and no example
database, so a run always tries the same examples and writes nothing. The vocabulary comes
straight from ``rules/questionnaire.yaml`` and ``rules/options.yaml`` (not from the engine), so
the engine is checked against the files it is meant to implement.

(a) any JSON value at POST /api/plan: 200 or 400, never 5xx; always a caveat; 400 always has
    errors; a 200 plan lists every catalog option exactly once, each in a valid group.
(b) any form post at /plan, /summary, /summary.pdf, /steps, /questionnaire and
    /questionnaire/symptoms (CSRF off): never
    5xx, and the caveat is on the page.
(c) valid answers straight into the engine: every option exactly once, the same plan every
    time, the answers not changed, and priorities never change which group an option is in.
"""
from __future__ import annotations

import copy
import json
import os
from collections import Counter

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from conftest import RULES_DIR
from bonemets.rules import GROUPS, URGENCIES, load_rulebook

# --------------------------------------------------------------------------------------------
# Vocabulary, read from the rule files
# --------------------------------------------------------------------------------------------
with open(os.path.join(RULES_DIR, "questionnaire.yaml"), encoding="utf-8") as _fh:
    _Q = yaml.safe_load(_fh)
with open(os.path.join(RULES_DIR, "options.yaml"), encoding="utf-8") as _fh:
    CATALOG = [o["id"] for o in yaml.safe_load(_fh)]

FIELDS = _Q["fields"]
NAMES = list(FIELDS)
VALUES = {n: [str(k) for k in (s.get("choices") or {})] for n, s in FIELDS.items()}
ALL_VALUES = sorted({v for vs in VALUES.values() for v in vs})
NUMBERS = {n: (s["min"], s["max"]) for n, s in FIELDS.items() if s["kind"] == "number"}
SECTIONS = len(_Q["sections"])
RB = load_rulebook(RULES_DIR)
CAVEAT_HTML = str(escape(RB.caveat))

assert NUMBERS and "True" not in ALL_VALUES and "False" not in ALL_VALUES  # YAML yes/no quoted

# Strings that have tripped up parsers before: non-ASCII digits (int() refuses some of them),
# numbers that are not whole, digit strings longer than int() will convert, markup, controls.
TRICKY = [
    "", " ", "0", "7", "10", "11", "-1", "-0", "+7", " 7 ", "07", "7.0", "1e3", "0x7", "1_0",
    "²", "³", "½", "٣", "７", "৩", "Ⅶ", "⑦", "9" * 7, "9" * 5000, "-" + "9" * 5000,
    "unknown", "Unknown", "UNKNOWN", "none", "None", "null", "true", "false", "[]", "{}",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "{{ 7*7 }}", "{% raw %}",
    "\x00", "\r\n", "\t", "\u202e", "\ufeff", "é", "😀", "ｂｒｅａｓｔ", "breast\x00",
    "breast ", " breast", "Breast", "check", "next", "back", "edit-1", "edit-9", "edit-0",
    "edit-²", "edit-" + "9" * 5000, "edit-", "edit--1",
]
HUGE = ["x" * 20_000, "é" * 8_000, "9" * 12_000, "unknown," * 2_000, "😀" * 4_000]

FUZZ = dict(
    derandomize=True, database=None, deadline=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much, HealthCheck.large_base_example],
)

tricky = st.sampled_from(TRICKY)
# Lone surrogates cannot reach a form (browsers send UTF-8); the JSON tests do send them.
junk_text = st.one_of(tricky, st.text(max_size=30),
                      st.text(st.characters(min_codepoint=0x80, max_codepoint=0x2FFFF,
                                            exclude_categories=["Cs"]), max_size=8))


def valid_value(name: str, as_form: bool = False):
    kind = FIELDS[name]["kind"]
    if kind == "number":
        lo, hi = NUMBERS[name]
        n = st.integers(lo, hi)
        return n.map(str) if as_form else st.one_of(n, n.map(str))
    one = st.sampled_from(VALUES[name])
    if kind == "one":
        return one
    many = st.lists(one, min_size=1, max_size=len(VALUES[name]), unique=True)
    return many if as_form else st.one_of(many, one)


def valid_answers(as_form: bool = False):
    """Every field answered or left out, only values from the questionnaire."""
    return st.fixed_dictionaries(
        {}, optional={n: valid_value(n, as_form) for n in NAMES})


# --------------------------------------------------------------------------------------------
# (a) JSON at /api/plan
# --------------------------------------------------------------------------------------------
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                      st.text(max_size=20), tricky, st.sampled_from(ALL_VALUES),
                      st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2))
json_any = st.recursive(
    json_leaf,
    lambda ch: st.one_of(st.lists(ch, max_size=4),
                         st.dictionaries(st.one_of(st.text(max_size=10), st.sampled_from(NAMES)),
                                         ch, max_size=4)),
    max_leaves=12)
any_field_value = st.sampled_from(NAMES).flatmap(valid_value)  # a real value, maybe wrong field
junk_value = st.one_of(any_field_value, json_any, tricky, st.sampled_from(ALL_VALUES),
                       st.lists(st.one_of(st.sampled_from(ALL_VALUES), tricky), max_size=4))
mixed_dict = st.dictionaries(st.one_of(st.sampled_from(NAMES), junk_text), junk_value, max_size=12)


@st.composite
def nearly_valid(draw, as_form=False):
    """Valid answers with zero to two fields spoiled (junk value, junk key, or both)."""
    answers = draw(valid_answers(as_form))
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.one_of(st.sampled_from(NAMES), junk_text))
        answers[key] = draw(junk_value if not as_form else junk_text)
    return answers


def check_api(r):
    assert r.status_code in (200, 400), (r.status_code, r.get_data(as_text=True)[:300])
    data = r.get_json()
    assert isinstance(data, dict)
    assert data["caveat"] == RB.caveat
    if r.status_code == 400:
        assert isinstance(data["errors"], dict) and data["errors"]
        return data
    ids = [o["id"] for o in data["options"]]
    assert Counter(ids) == Counter(CATALOG), "every catalog option exactly once"
    assert all(o["group"] in GROUPS for o in data["options"])
    assert all(f["urgency"] in URGENCIES for f in data["red_flags"])
    return data


def post_json(client, value):
    return client.post("/api/plan", data=json.dumps(value), content_type="application/json")


@settings(max_examples=1000, **FUZZ)
@given(value=json_any)
def test_api_any_json(app, value):
    r = post_json(app.test_client(), value)
    check_api(r)
    if not isinstance(value, dict):
        assert r.status_code == 400


@settings(max_examples=1000, **FUZZ)
@given(value=st.one_of(mixed_dict, nearly_valid()))
def test_api_field_names_and_junk(app, value):
    data = check_api(post_json(app.test_client(), value))
    bad_keys = [k for k in value if k not in FIELDS]
    if bad_keys:
        assert "errors" in data and all(str(k) in data["errors"] for k in bad_keys)


@settings(max_examples=500, **FUZZ)
@given(value=valid_answers())
def test_api_valid_answers_always_plan(app, value):
    r = post_json(app.test_client(), value)
    assert r.status_code == 200, r.get_json()
    check_api(r)


@settings(max_examples=400, **FUZZ)
@given(name=st.sampled_from(sorted(NUMBERS)), value=st.one_of(tricky, junk_value, st.text(max_size=8)))
def test_api_number_fields(app, name, value):
    """Number questions get the most parsing: aim junk at them directly."""
    data = check_api(post_json(app.test_client(), {name: value}))
    if "errors" not in data:
        lo, hi = NUMBERS[name]
        assert value in (None, "", []) or (isinstance(value, str) and not value.strip()) \
            or lo <= int(value) <= hi


@settings(max_examples=300, **FUZZ)
@given(body=st.one_of(st.binary(max_size=300), st.text(max_size=100).map(str.encode)))
def test_api_raw_bytes(app, body):
    check_api(app.test_client().post("/api/plan", data=body, content_type="application/json"))


# --------------------------------------------------------------------------------------------
# (b) form posts (CSRF off)
# --------------------------------------------------------------------------------------------
FORM_KEYS = NAMES + ["step", "go", "csrf_token"]
STEP_VALUES = [str(i) for i in range(-1, SECTIONS + 3)] + ["check", "next", "back"] + \
    [f"edit-{i}" for i in range(-1, SECTIONS + 3)]
form_key = st.one_of(st.sampled_from(FORM_KEYS), st.sampled_from(FORM_KEYS), junk_text)
form_value = st.one_of(st.sampled_from(ALL_VALUES), st.sampled_from(ALL_VALUES), tricky,
                       st.text(max_size=40), st.sampled_from(STEP_VALUES), st.sampled_from(HUGE))


@st.composite
def form_posts(draw):
    """A multi-dict: junk pairs, or nearly valid answers plus junk pairs."""
    pairs = []
    if draw(st.booleans()):
        for k, v in draw(nearly_valid(as_form=True)).items():
            pairs += [(k, x) for x in (v if isinstance(v, list) else [v])]
    pairs += draw(st.lists(st.tuples(form_key, form_value), max_size=20))
    if draw(st.booleans()):
        pairs.append(("step", draw(st.one_of(st.sampled_from(STEP_VALUES), tricky))))
    if draw(st.booleans()):
        pairs.append(("go", draw(st.one_of(st.sampled_from(STEP_VALUES), tricky))))
    return draw(st.permutations(pairs))


def check_page(r):
    assert r.status_code < 500, r.status_code
    if r.mimetype == "application/pdf":
        assert r.status_code == 200 and r.data.startswith(b"%PDF")
        return
    assert r.mimetype == "text/html"
    assert r.status_code in (200, 400, 413)
    assert CAVEAT_HTML in r.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/plan", "/summary", "/questionnaire", "/questionnaire/symptoms"])
@settings(max_examples=300, **FUZZ)
@given(pairs=form_posts())
def test_form_posts(app, path, pairs):
    check_page(app.test_client().post(path, data=MultiDict(pairs)))


@settings(max_examples=700, **FUZZ)
@given(pairs=form_posts())
def test_step_posts(app, pairs):
    check_page(app.test_client().post("/steps", data=MultiDict(pairs)))


@settings(max_examples=20, **FUZZ)
@given(pairs=form_posts())
def test_pdf_posts(app, pairs):
    check_page(app.test_client().post("/summary.pdf", data=MultiDict(pairs)))


@pytest.mark.parametrize("path", ["/plan", "/questionnaire", "/questionnaire/symptoms", "/steps"])
@settings(max_examples=100, **FUZZ)
@given(name=st.sampled_from(sorted(NUMBERS)),
       value=st.one_of(tricky, st.text(max_size=8), st.sampled_from(HUGE)))
def test_form_number_fields(app, path, name, value):
    check_page(app.test_client().post(path, data={name: value, "step": "6"}))


@pytest.mark.parametrize("path", ["/plan", "/steps"])
@settings(max_examples=100, **FUZZ)
@given(body=st.binary(max_size=400))
def test_raw_form_bodies(app, path, body):
    r = app.test_client().post(path, data=body, content_type="application/x-www-form-urlencoded")
    check_page(r)


# --------------------------------------------------------------------------------------------
# (c) the engine, directly
# --------------------------------------------------------------------------------------------
@settings(max_examples=1200, **FUZZ)
@given(raw=valid_answers())
def test_engine_on_valid_answers(raw):
    before = copy.deepcopy(raw)
    clean, errors = RB.validate_answers(raw)
    assert errors == {}
    assert raw == before, "validate_answers changed its input"
    kept = copy.deepcopy(clean)
    plan = RB.plan(clean)
    assert clean == kept, "plan changed the answers"
    ids = [o.id for o in plan.options]
    assert Counter(ids) == Counter(CATALOG)
    assert all(o.group in GROUPS for o in plan.options)
    assert all(o.reasons for o in plan.options if o.group != "other")
    assert RB.plan(clean).to_dict() == plan.to_dict(), "same answers, same plan"
    assert json.loads(json.dumps(plan.to_dict())) == plan.to_dict()  # JSON-safe
    # The raw answers (duplicates, "none" ticked with others) must not trip the engine either.
    assert Counter(o.id for o in RB.plan(raw).options) == Counter(CATALOG)
    assert raw == before


@settings(max_examples=300, **FUZZ)
@given(raw=valid_answers(), other=valid_value("priorities"))
def test_priorities_never_change_groups(raw, other):
    clean, _ = RB.validate_answers(raw)
    swapped, _ = RB.validate_answers({**raw, "priorities": other})
    dropped = {k: v for k, v in clean.items() if k != "priorities"}
    groups = {o.id: o.group for o in RB.plan(clean).options}
    assert {o.id: o.group for o in RB.plan(swapped).options} == groups
    assert {o.id: o.group for o in RB.plan(dropped).options} == groups
    assert [f.id for f in RB.plan(swapped).red_flags] == [f.id for f in RB.plan(clean).red_flags]
