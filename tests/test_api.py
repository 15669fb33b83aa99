"""POST /api/plan: the contract's JSON plan and its 400 errors (never a 500)."""
from __future__ import annotations

import json

import pytest


def test_plan_json_matches_the_contract(client, rulebook, typical):
    r = client.post("/api/plan", json=typical)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    d = r.get_json()
    assert d["caveat"] == rulebook.caveat
    assert d["rules_version"] == rulebook.version
    assert d["reviewed"] == rulebook.reviewed.isoformat()
    assert [o["id"] for o in d["options"]].count("denosumab") == 1
    assert len(d["options"]) == len(rulebook.options)
    ebrt = next(o for o in d["options"] if o["id"] == "external_beam_radiation")
    assert ebrt["group"] == "discuss"
    reason = ebrt["reasons"][0]
    assert reason["rule"] == "ebrt-painful-bone"
    assert reason["because"] == ["painful_sites=one_or_two"]
    assert reason["text"] and reason["sources"]
    assert {"id": "spine_stability_check"}.items() <= ebrt["cautions"][0].items()
    for key in reason["sources"]:
        s = d["sources"][key]
        assert s["title"] and s["org"] and s["url"] and ("year" in s)
    assert all("text" in q for q in d["questions"])


def test_red_flag_json(client):
    d = client.post("/api/plan", json={"symptoms_now": ["sudden_bone_pain_cannot_bear_weight"]}).get_json()
    f = d["red_flags"][0]
    assert f["id"] == "fracture" and f["urgency"] == "emergency"
    assert f["title"] and f["action"]


def test_empty_object_is_a_plan_full_of_questions(client, rulebook):
    d = client.post("/api/plan", json={}).get_json()
    assert len(d["options"]) == len(rulebook.options)
    assert len(d["questions"]) >= 15


@pytest.mark.parametrize("body, field", [
    ({"primary_cancer": "liver"}, "primary_cancer"),
    ({"primary_cancer": ["breast", "lung"]}, "primary_cancer"),
    ({"bone_sites": ["spine", "knee"]}, "bone_sites"),
    ({"bone_sites": {"spine": True}}, "bone_sites"),
    ({"pain_score": 11}, "pain_score"),
    ({"pain_score": -3}, "pain_score"),
    ({"pain_score": 4.5}, "pain_score"),
    ({"pain_score": "lots"}, "pain_score"),
    ({"height_cm": 170}, "height_cm"),
    ({"symptoms_now": [None]}, "symptoms_now"),
])
def test_bad_answers_get_400_with_errors(client, rulebook, body, field):
    r = client.post("/api/plan", json=body)
    assert r.status_code == 400
    d = r.get_json()
    assert d["caveat"] == rulebook.caveat
    assert field in d["errors"] and isinstance(d["errors"][field], str)


def test_huge_integer_pain_score(client):
    r = client.post("/api/plan", data='{"pain_score": ' + "9" * 200 + "}",
                    content_type="application/json")
    assert r.status_code == 400 and "pain_score" in r.get_json()["errors"]


@pytest.mark.parametrize("raw", [b"[]", b'"breast"', b"42", b"null", b"{", b"", b"\xff\xfe",
                                 b"[" * 100000 + b"]" * 100000])
def test_body_that_is_not_a_json_object(client, raw):
    r = client.post("/api/plan", data=raw, content_type="application/json")
    assert r.status_code in (400, 413)
    d = r.get_json()
    assert d["errors"] and d["caveat"]


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x",
                                   "application/vnd.api+json", "application/merge-patch+json"])
def test_only_json_is_accepted(client, ctype):
    # the contract: "accepts only application/json objects" (another +json type is not it)
    r = client.post("/api/plan", data=json.dumps({"primary_cancer": "breast"}), content_type=ctype)
    assert r.status_code == 400
    assert "_body" in r.get_json()["errors"]
    r = client.post("/api/plan", data=json.dumps({"primary_cancer": "breast"}),
                    content_type="application/json; charset=utf-8")
    assert r.status_code == 200


def test_a_number_too_long_for_python_is_the_fields_problem(client):
    body = b'{"pain_score": ' + b"9" * 5001 + b"}"   # valid JSON; Python reads up to 4,300 digits
    r = client.post("/api/plan", data=body, content_type="application/json")
    assert r.status_code == 400
    assert list(r.get_json()["errors"]) == ["pain_score"]


def test_api_needs_no_csrf_token(csrf_client):
    r = csrf_client.post("/api/plan", json={"primary_cancer": "breast"})
    assert r.status_code == 200


def test_api_method_not_allowed_is_json(client):
    r = client.get("/api/plan")
    assert r.status_code == 405
    assert r.get_json()["errors"] and r.get_json()["caveat"]
