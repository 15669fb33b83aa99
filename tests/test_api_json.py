"""The API's plan JSON (bonemets/jsonprovider.PlanJSON: the rule book's fixed parts encoded once)
is byte for byte what the JSON provider makes of ``Plan.to_dict()``: on a large random sample in
every language, on every scenario, on plans changed after they were made, and through the route."""
from __future__ import annotations

import random

import orjson
import pytest

from bonemets import api
from bonemets.jsonprovider import PlanJSON, _dumps
from bonemets.scenarios import load_scenarios, random_answers

SAMPLE = 1500


def plain(plan) -> bytes:
    """What ``jsonify(plan.to_dict())`` sends (OrjsonProvider)."""
    return _dumps(plan.to_dict())


@pytest.fixture(scope="module")
def books(app):
    return app.extensions["bonemets_books"]


def test_random_sample_in_every_language_gives_the_plain_bytes(books):
    assert len(books) >= 2
    for lang, rb in books.items():
        enc, rng = PlanJSON(rb), random.Random(lang)
        for _ in range(SAMPLE):
            plan = rb.plan(random_answers(rb, rng))
            assert enc.encode(plan) == plain(plan), lang


def test_every_scenario_gives_the_plain_bytes(rulebook):
    enc = PlanJSON(rulebook)
    for case in load_scenarios():
        answers, _ = rulebook.validate_answers(case.get("answers") or {})
        plan = rulebook.plan(answers)
        assert enc.encode(plan) == plain(plan), case["name"]


def test_a_plan_changed_after_it_was_made_is_encoded_as_changed(rulebook, typical):
    enc = PlanJSON(rulebook)
    plan = rulebook.plan(typical)
    first = plan.options[0]
    first.outcomes = first.outcomes[:1]            # not the catalog's own tuple any more
    first.group = "unlikely"
    key = next(iter(plan.sources))
    plan.sources[key] = {**plan.sources[key], "title": "Changed"}
    plan.options[1].cautions.append({"id": "x", "title": "t", "text": "c", "rules": ["r"],
                                     "sources": ["s"], "extra": "not sent"})
    body = enc.encode(plan)
    assert body == plain(plan)
    assert b'"title":"Changed"' in body and b"not sent" not in body


def test_the_comparison_can_fail(rulebook, typical):
    """A wrong pre-encoded part is caught by the comparison the tests above make."""
    enc = PlanJSON(rulebook)
    plan = rulebook.plan(typical)
    oid = plan.options[0].id
    fixed, frag = enc.outcomes[oid]
    enc.outcomes[oid] = (fixed, orjson.Fragment(b"[]"))
    assert enc.encode(plan) != plain(plan)
    key = next(iter(plan.sources))
    enc = PlanJSON(rulebook)
    enc.sources[key] = (enc.sources[key][0], orjson.Fragment(b"{}"))
    assert enc.encode(plan) != plain(plan)


def test_the_route_sends_the_plain_bytes(client, rulebook):
    rng = random.Random(3)
    for _ in range(25):
        answers = random_answers(rulebook, rng)
        r = client.post("/api/plan", json=answers)
        assert r.status_code == 200 and r.mimetype == "application/json"
        assert r.get_data() == plain(rulebook.plan(answers))


def test_the_route_in_spanish_sends_the_spanish_plan(client, books, typical):
    r = client.post("/api/plan?lang=es", json=typical)
    assert r.status_code == 200
    assert r.get_data() == plain(books["es"].plan(typical))


@pytest.mark.parametrize("answers", [{"note": "\ud800"}, {7: "seven"}])
def test_what_the_encoder_refuses_falls_back_to_the_provider(app, rulebook, typical, answers):
    """A lone surrogate (orjson refuses it: the standard library's way) or a key that is not a
    string (the provider's OPT_NON_STR_KEYS): the plan still goes out, as the provider sends it."""
    plan = rulebook.plan(typical)
    plan.answers = answers
    assert api.plan_bytes(rulebook, plan) is None
    with app.test_request_context("/api/plan", method="POST"):
        r = api.plan_response(rulebook, plan)
    assert r.status_code == 200 and r.get_json()["answers"] == {str(k): v for k, v in answers.items()}
    assert r.get_data() == app.json._encode(plan.to_dict())  # what jsonify sends
