"""Every scenario in tests/scenarios/*.yaml, run through POST /api/plan.

A scenario is plain YAML a clinician can read and add to: ``name``, ``answers`` (contract
vocabulary) and ``expect`` with any of:
  relevant: [option ids]     group is discuss or consider
  discuss / consider / unlikely / other: [option ids]   exactly that group
  not_discuss: [option ids]  any group but discuss
  red_flags: {flag id: urgency}   present with that urgency
  no_red_flags: [flag ids]   absent
  no_emergency: true         no flag of urgency emergency
  cautions: {option id: [caution ids]}     attached
  no_cautions: {option id: [caution ids]}  not attached
  questions: [question rule ids]           asked
"""
from __future__ import annotations

import os

import pytest

from bonemets.cli import load_scenarios
from conftest import SCENARIO_DIR

SCENARIOS = load_scenarios(SCENARIO_DIR)
KEYS = {"relevant", "discuss", "consider", "unlikely", "other", "not_discuss", "red_flags",
        "no_red_flags", "no_emergency", "cautions", "no_cautions", "questions"}


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
    groups = {o["id"]: o for o in plan["options"]}
    flags = {f["id"]: f["urgency"] for f in plan["red_flags"]}
    problems = []

    def group_of(oid):
        assert oid in groups, f"unknown option id {oid} in scenario"
        return groups[oid]["group"]

    for oid in expect.get("relevant", []):
        if group_of(oid) not in ("discuss", "consider"):
            problems.append(f"{oid} should be discuss/consider, is {group_of(oid)}")
    for g in ("discuss", "consider", "unlikely", "other"):
        for oid in expect.get(g, []):
            if group_of(oid) != g:
                problems.append(f"{oid} should be {g}, is {group_of(oid)}")
    for oid in expect.get("unlikely", []):
        if not any(r.get("group") == "unlikely" for r in groups[oid]["reasons"]):
            problems.append(f"{oid} is unlikely without an unlikely reason")
    for oid in expect.get("not_discuss", []):
        if group_of(oid) == "discuss":
            problems.append(f"{oid} should not be discuss")
    for fid, urgency in (expect.get("red_flags") or {}).items():
        if flags.get(fid) != urgency:
            problems.append(f"red flag {fid} should be {urgency}, is {flags.get(fid)}")
    for fid in expect.get("no_red_flags", []):
        if fid in flags:
            problems.append(f"red flag {fid} should be absent")
    if expect.get("no_emergency") and "emergency" in flags.values():
        problems.append(f"no emergency expected, got {flags}")
    for oid, cids in (expect.get("cautions") or {}).items():
        have = {c["id"] for c in groups[oid]["cautions"]}
        for cid in cids:
            if cid not in have:
                problems.append(f"{oid} should carry caution {cid}; has {sorted(have)}")
    for oid, cids in (expect.get("no_cautions") or {}).items():
        have = {c["id"] for c in groups[oid]["cautions"]}
        for cid in cids:
            if cid in have:
                problems.append(f"{oid} should not carry caution {cid}")
    asked = {q["rule"] for q in plan["questions"]}
    for qid in expect.get("questions", []):
        if qid not in asked:
            problems.append(f"question {qid} should be asked")
    assert not problems, "\n".join(problems)
