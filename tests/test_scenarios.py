"""Every scenario in tests/scenarios/*.yaml, run through POST /api/plan and checked by the
product's own scenario checker (bonemets/scenarios.py, also behind `flask rules test`); the
expectation keys are documented there. A scenario with ``check_symptoms: true`` is also sent
as the one-page form's "Check these symptoms now" would send it."""
from __future__ import annotations

import os
import re

import pytest

from bonemets.scenarios import KEYS, check_plan, load_scenarios
from conftest import SCENARIO_DIR

SCENARIOS = load_scenarios(SCENARIO_DIR)
CHECKED = [s for s in SCENARIOS if s.get("check_symptoms")]


def test_enough_scenarios():
    assert len(SCENARIOS) >= 25
    names = [s["name"] for s in SCENARIOS]
    assert len(names) == len(set(names)), "scenario names must be unique"


def test_public_scenarios_are_all_copied():
    import yaml
    shared = os.path.join(os.path.dirname(os.path.dirname(SCENARIO_DIR)), "..", "shared",
                          "scenarios", "public.yaml")
    if not os.path.exists(shared):
        pytest.skip("../shared is not beside the project")
    with open(shared) as fh:
        public = yaml.safe_load(fh)
    ours = {s["name"]: s for s in SCENARIOS}
    for case in public:
        assert case["name"] in ours, f"public scenario missing: {case['name']}"
        assert ours[case["name"]]["answers"] == case["answers"]
        assert ours[case["name"]]["expect"] == case["expect"]


@pytest.mark.parametrize("case", SCENARIOS, ids=[f"{s['file']}: {s['name']}" for s in SCENARIOS])
def test_scenario(client, case):
    expect = case["expect"]
    assert set(expect) <= KEYS, f"unknown expectation keys {set(expect) - KEYS}"
    assert expect, "a scenario must expect something"
    # A case with ``lang`` is run in that language's rule book, as a client asking in it is.
    headers = {"Accept-Language": case["lang"]} if case.get("lang") else {}
    r = client.post("/api/plan", json=case["answers"], headers=headers)
    assert r.status_code == 200, r.get_json()
    plan = r.get_json()
    assert plan["caveat"]
    if case.get("lang"):  # answered from that language's rule book
        assert plan["caveat"] == client.application.extensions["bonemets_books"][case["lang"]].caveat
    problems = check_plan(case, plan)
    assert not problems, "\n".join(problems)


def test_checker_reports_each_unmet_expectation(rulebook):
    """The checker is not a rubber stamp: every kind of expectation can fail. The options are
    picked from the plan itself, so the test does not depend on the rule book's content."""
    plan = rulebook.plan({"primary_cancer": "breast", "symptoms_now": ["leg_weakness"]}).to_dict()
    group = {o["id"]: o["group"] for o in plan["options"]}
    other = next(i for i, g in group.items() if g == "other")
    discussed = next(i for i, g in group.items() if g == "discuss")
    no_caution = next(o["id"] for o in plan["options"] if not o["cautions"])
    flags = {f["id"] for f in plan["red_flags"]}
    absent_flag = next(f for f in rulebook.flags if f not in flags)
    case = {"name": "wrong on purpose", "expect": {
        "relevant": [other], "discuss": [other], "unlikely": [discussed],
        "not_discuss": [discussed], "red_flags": {absent_flag: "emergency"},
        "no_red_flags": sorted(flags), "no_emergency": True,
        "cautions": {no_caution: ["needs_mri"]},
        "questions": ["ask-never-asked"], "other": ["moon_landing"]}}
    text = "\n".join(check_plan(case, plan))
    for words in [f"{other} should be discuss/consider", f"{other} should be discuss,",
                  f"{discussed} should not be discuss", f"{discussed} should be unlikely",
                  f"{discussed} is unlikely without an unlikely reason",
                  f"red flag {absent_flag} should be emergency, is None",
                  f"red flag {sorted(flags)[0]} should be absent", "no emergency expected",
                  f"{no_caution} should carry caution needs_mri",
                  "question ask-never-asked should be asked", "unknown option id moon_landing"]:
        assert words in text, (words, text)
    assert check_plan({"name": "x", "expect": {}}, plan) == ["a scenario must expect something"]
    assert "unknown expectation keys" in check_plan({"name": "x", "expect": {"grop": 1}}, plan)[0]


def test_a_scenario_in_a_language_without_a_rule_book_fails(rulebook):
    from bonemets.scenarios import run
    case = {"name": "x", "lang": "xx", "answers": {}, "expect": {"no_emergency": True}}
    assert run(rulebook, case, {"es": rulebook}) == (None, ["no rule book in the language 'xx'"])


def test_some_scenarios_go_through_the_symptoms_check():
    assert len(CHECKED) >= 3


@pytest.mark.parametrize("case", CHECKED, ids=[f"{s['file']}: {s['name']}" for s in CHECKED])
def test_symptoms_check_scenario(client, rulebook, case):
    """The one-page form's "Check these symptoms now" (POST /questionnaire/symptoms) with the
    scenario's answers, which are the form's first section only: the red flags the plan
    raises are shown at once, every one of them on the emergency page; with none, the form
    again at its result. The scenario's own expectations hold of the plan (test_scenario)."""
    first = set(rulebook.sections[0].fields)
    assert set(case["answers"]) <= first, "a symptoms-check scenario answers the first section only"
    flags = [f["id"] for f in client.post("/api/plan", json=case["answers"]).get_json()["red_flags"]]
    assert bool(flags) == bool(case["expect"].get("red_flags")), "the expectations name the flags"
    r = client.post("/questionnaire/symptoms", data=case["answers"], follow_redirects=False)
    assert r.status_code == 303
    if flags:
        assert r.headers["Location"] == "/urgent?next=form"
        html = client.get(r.headers["Location"]).get_data(as_text=True)
        assert sorted(re.findall(r'data-flag="([a-z_]+)"', html)) == sorted(flags)
        emergency = "emergency" in case["expect"]["red_flags"].values()
        assert ("<title>Get help now" in html) == emergency
        assert rulebook.caveat in html
    else:
        assert r.headers["Location"] == "/questionnaire?checked=1#check-result"
        html = client.get("/questionnaire?checked=1").get_data(as_text=True)
        assert 'id="check-result"' in html and rulebook.caveat in html


@pytest.mark.parametrize("field, value, words", [("lang", 3, "'lang' must be a language code"),
                                                 ("check_symptoms", "yes", "'check_symptoms' must be true or false")])
def test_a_scenario_file_with_a_bad_setting_is_refused(tmp_path, field, value, words):
    import yaml

    from bonemets.scenarios import ScenarioError, load_file
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump([{"name": "x", "answers": {}, "expect": {"no_emergency": True},
                                     field: value}]))
    with pytest.raises(ScenarioError, match=words):
        load_file(str(path))
