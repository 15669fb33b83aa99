"""Every scenario in tests/scenarios/*.yaml, run through POST /api/plan and checked by the
product's own scenario checker (bonemets/scenarios.py, also behind `flask rules test`); the
expectation keys are documented there."""
from __future__ import annotations

import os

import pytest

from bonemets.scenarios import KEYS, check_plan, load_scenarios
from conftest import SCENARIO_DIR

SCENARIOS = load_scenarios(SCENARIO_DIR)


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
    r = client.post("/api/plan", json=case["answers"])
    assert r.status_code == 200, r.get_json()
    plan = r.get_json()
    assert plan["caveat"]
    problems = check_plan(case, plan)
    assert not problems, "\n".join(problems)


def test_checker_reports_each_unmet_expectation(rulebook):
    """The checker is not a rubber stamp: every kind of expectation can fail."""
    case = {"name": "wrong on purpose", "answers": {"primary_cancer": "breast"}, "expect": {
        "relevant": ["chemotherapy"], "discuss": ["chemotherapy"], "unlikely": ["pain_medicine"],
        "not_discuss": ["surgery"], "red_flags": {"fracture": "emergency"},
        "no_red_flags": [], "no_emergency": True, "cautions": {"surgery": ["needs_mri"]},
        "questions": ["ask-hormone-receptor-never"], "other": ["moon_landing"]}}
    plan = rulebook.plan({"primary_cancer": "breast", "symptoms_now": ["leg_weakness"]}).to_dict()
    problems = check_plan(case, plan)
    text = "\n".join(problems)
    for words in ["chemotherapy should be discuss/consider", "chemotherapy should be discuss,",
                  "surgery should not be discuss",
                  "pain_medicine should be unlikely", "red flag fracture should be emergency",
                  "no emergency expected", "surgery should carry caution needs_mri",
                  "question ask-hormone-receptor-never should be asked",
                  "unknown option id moon_landing"]:
        assert words in text, (words, text)
    assert check_plan({"name": "x", "expect": {}}, plan) == ["a scenario must expect something"]
    assert "unknown expectation keys" in check_plan({"name": "x", "expect": {"grop": 1}}, plan)[0]
