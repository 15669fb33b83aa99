"""Scenario coverage gate: every rule in the rule book fires in at least one scenario, and the
`flask rules` commands report it."""
from __future__ import annotations

import json

from bonemets.cli import coverage_report, load_scenarios
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
