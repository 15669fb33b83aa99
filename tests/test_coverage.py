"""Scenario coverage gate: every rule in the rule book fires in at least one scenario, and the
`flask rules` commands report it."""
from __future__ import annotations

import json

from bonemets.scenarios import coverage_report, load_scenarios
from conftest import SCENARIO_DIR


def test_every_rule_fires_in_some_scenario(rulebook):
    rep = coverage_report(rulebook, load_scenarios(SCENARIO_DIR))
    assert not rep["not_fired"], (
        "rules that no scenario in tests/scenarios/ makes fire (add a scenario): "
        + ", ".join(rep["not_fired"]))


def test_every_option_reaches_a_listed_group(rulebook):
    rep = coverage_report(rulebook, load_scenarios(SCENARIO_DIR))
    for oid, groups in rep["groups"].items():
        assert groups & {"discuss", "consider"}, f"no scenario lists {oid} as an option to discuss"


def test_cli_coverage_command(app):
    result = app.test_cli_runner().invoke(args=["rules", "coverage"])
    assert "rules fired (100%)" in result.output, result.output
    assert result.exit_code == 0


def test_cli_explain_prints_the_trace(app):
    answers = {"primary_cancer": "prostate", "prostate_status": "castration_resistant",
               "symptoms_now": ["leg_weakness"]}
    result = app.test_cli_runner().invoke(args=["rules", "explain", json.dumps(answers)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("This is not medical advice")
    assert "RED FLAG [emergency] spinal_cord_compression" in out
    assert "flag-mscc-leg-weakness because symptoms_now=leg_weakness" in out
    assert "bone-drug-prostate-crpc" in out


def test_cli_explain_json_and_bad_input(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["rules", "explain", "--json", '{"primary_cancer": "lung"}'])
    assert ok.exit_code == 0 and json.loads(ok.output)["caveat"]
    bad = runner.invoke(args=["rules", "explain", '{"primary_cancer": "moon"}'])
    assert bad.exit_code == 1
    junk = runner.invoke(args=["rules", "explain", "not json"])
    assert junk.exit_code != 0 and "not valid JSON" in junk.output


def test_cli_rules_test_passes_the_scenarios(app):
    result = app.test_cli_runner().invoke(args=["rules", "test"])
    assert result.exit_code == 0, result.output
    n = len(load_scenarios(SCENARIO_DIR))
    assert f"{n} of {n} scenarios passed" in result.output


def test_cli_rules_test_prints_each_unmet_expectation(app, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("""
- name: radiation for a painful bone
  answers: {painful_sites: one_or_two}
  expect:
    unlikely: [external_beam_radiation]
    red_flags: {fracture: emergency}
- name: bad answer
  answers: {primary_cancer: moon}
  expect: {relevant: [pain_medicine]}
""")
    good = tmp_path / "good.yaml"
    good.write_text("- name: fine\n  answers: {painful_sites: one_or_two}\n"
                    "  expect: {discuss: [external_beam_radiation]}\n")
    result = app.test_cli_runner().invoke(args=["rules", "test", str(bad), str(good)])
    assert result.exit_code == 1
    out = result.output
    assert "FAIL bad.yaml: radiation for a painful bone" in out
    assert "external_beam_radiation should be unlikely, is discuss" in out
    assert "red flag fracture should be emergency, is None" in out
    assert "FAIL bad.yaml: bad answer" in out and "primary_cancer" in out
    assert "fine" not in out.replace("FAIL", "")
    assert "1 of 3 scenarios passed, 2 failed" in out
