"""The table-driven loader (bonemets/loader.py): every rule file is declared once, with its
schema and builder, and each way a file can be wrong is refused naming the file and the id.
tests/test_rulebook_validation.py holds the older cases (placement, sources, catalog, flags);
these are the files that had none, the table itself, and the "Done when" of issue 14: a new
answer value and a rule that uses it touch only rules/ and a scenario file."""
from __future__ import annotations

import fnmatch
import glob
import os
import shutil

import pytest
import yaml

from bonemets import loader
from bonemets.rules import RuleBookError, load_rulebook
from conftest import ROOT, RULES_DIR
from test_rulebook_validation import _edit_yaml as _rewrite, _flask, rules_copy  # noqa: F401


def _refused(rules_dir, file, rule_id, *words):
    with pytest.raises(RuleBookError) as info:
        load_rulebook(str(rules_dir))
    err = info.value
    assert (err.file, err.rule_id) == (file, rule_id), str(err)
    msg = str(err)
    assert msg.startswith(file) and (rule_id is None or f"'{rule_id}'" in msg), msg
    for w in words:
        assert w in msg, msg
    return err


def _rule_files(root):
    out = []
    for path in glob.glob(os.path.join(root, "**", "*.y*ml"), recursive=True):
        rel = os.path.relpath(path, root).replace(os.sep, "/")
        if not rel.startswith("i18n/"):
            out.append(rel)
    return sorted(out)


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------
def test_every_rule_file_is_declared_once_and_read(rulebook):
    names = [e.name for e in loader.TABLE]
    assert len(names) == len(set(names))
    for rel in _rule_files(RULES_DIR):
        matching = [n for n in names if fnmatch.fnmatch(rel, n)]
        assert len(matching) == 1, (rel, matching)
    assert sorted(rulebook.files) == _rule_files(RULES_DIR)
    assert "record.yaml" in rulebook.files and "safety.yaml" in rulebook.files
    assert rulebook.record_map.condition_field in rulebook.fields
    for e in loader.TABLE:
        assert isinstance(e.kind(), loader.Kind), e.name


def test_a_file_the_table_does_not_declare_is_refused(rules_copy):
    shutil.copy(rules_copy / "cautions.yaml", rules_copy / "caution.yaml")  # a misspelt copy
    _refused(rules_copy, "caution.yaml", None, "not a rule file", "TABLE")


def test_an_empty_placement_folder_is_refused(rules_copy):
    for p in (rules_copy / "placement").iterdir():
        p.unlink()
    _refused(rules_copy, "placement/", None, "holds no rule files")


def test_rules_load_rulebook_is_the_loaders():
    from bonemets import loader, rules
    assert rules.load_rulebook(RULES_DIR).files == loader.load_rulebook(RULES_DIR).files
    with pytest.raises(AttributeError):
        rules._read_yaml  # noqa: B018  (the loader's helpers are the loader's own)


# --------------------------------------------------------------------------------------------
# Files that had no cases
# --------------------------------------------------------------------------------------------
def _field(name):
    return lambda d: d["fields"][name]


def _first_rule(d):
    return d["rules"][0]["id"]


def _followup(d):
    return next(n for n, f in d["fields"].items() if f.get("only_if"))


# (file, change, the id the error names: a value or a function of the file before the change,
#  words the message has)
CASES = [
    # meta.yaml
    ("meta.yaml", lambda d: d.pop("caveat"), None, ["is missing 'caveat'"]),
    ("meta.yaml", lambda d: d.update(precedence=["discuss", "consider"]), None, ["precedence must list"]),
    ("meta.yaml", lambda d: d.update(caveats="x"), None, ["unknown keys", "caveats"]),
    ("meta.yaml", lambda d: d["vocabulary"].update(dont_know="no_idea"), "vocabulary",
     ["unknown answer value 'no_idea'"]),
    ("meta.yaml", lambda d: d["vocabulary"].update(priorities_field="pain_score"), "vocabulary",
     ["tick-all question", "pain_score"]),
    ("meta.yaml", lambda d: d["groups"]["discuss"].pop("heading"), "discuss", ["missing 'heading'"]),
    ("meta.yaml", lambda d: d["urgency"].pop("soon"), None, ["'urgency' must give"]),
    ("meta.yaml", lambda d: d["readability"].update(measured="May"), "readability",
     ["'measured' date"]),
    # questionnaire.yaml
    ("questionnaire.yaml", lambda d: _field("pain_score")(d).update(kind="slider"), "pain_score",
     ["kind must be one, many or number"]),
    ("questionnaire.yaml", lambda d: _field("pain_score")(d).pop("max"), "pain_score",
     ["integer 'min' and 'max'"]),
    ("questionnaire.yaml", lambda d: _field("primary_cancer")(d).pop("choices"), "primary_cancer",
     ["needs 'choices'"]),
    ("questionnaire.yaml", lambda d: _field("primary_cancer")(d).update(lable="x"), "primary_cancer",
     ["unknown keys", "lable"]),
    ("questionnaire.yaml", lambda d: d["fields"][_followup(d)]["only_if"].update(
        {"primary_cancer": ["liver"]}), _followup, ["'primary_cancer' has no value 'liver'"]),
    ("questionnaire.yaml", lambda d: d["sections"][0]["fields"].append("shoe_size"),
     lambda d: d["sections"][0]["id"], ["unknown field 'shoe_size'"]),
    ("questionnaire.yaml", lambda d: max(d["sections"], key=lambda s: len(s["fields"]))["fields"].pop(), None,
     ["not placed in any section"]),
    # glossary.yaml
    ("glossary.yaml", lambda d: d[0].pop("means"), lambda d: d[0]["term"], ["missing 'means'"]),
    ("glossary.yaml", lambda d: d.append(dict(d[0])), lambda d: d[0]["term"], ["duplicate term"]),
    # questions.yaml
    ("questions.yaml", lambda d: d["rules"][0].pop("text"), _first_rule, ["missing 'text'"]),
    ("questions.yaml", lambda d: d["rules"][0].update(option="surgery"), _first_rule, ["unknown keys"]),
    ("questions.yaml", lambda d: d.update(rules={}), None, ["must be a list of rules"]),
    # cautions.yaml and red_flags.yaml
    ("cautions.yaml", lambda d: d["rules"][0].update(options=["magic_pill"]), _first_rule,
     ["unknown option 'magic_pill'"]),
    ("cautions.yaml", lambda d: next(iter(d["cautions"].values())).update(text="x"),
     lambda d: next(iter(d["cautions"])), ["unknown keys"]),
    ("red_flags.yaml", lambda d: d.pop("rules"), None, ["missing 'rules'"]),
    # decision.yaml
    ("decision.yaml", lambda d: d["nothing_new"].update(sources=["Nobody-2099"]), "nothing_new",
     ["unknown source 'Nobody-2099'"]),
    ("decision.yaml", lambda d: d["explainer"]["problems"][0].pop("text"),
     "explainer/problems[0]", ["missing 'text'"]),
    # record.yaml: checked by the loader with the rule book (and so by `flask rules check`)
    ("record.yaml", lambda d: d.update(max_age_days=0), None, ["'max_age_days'"]),
    ("record.yaml", lambda d: d["observations"].update(shoe_size=d["observations"]["calcium"]),
     "shoe_size", ["unknown field 'shoe_size'"]),
    ("record.yaml", lambda d: d["observations"]["calcium"]["bands"].append({"min": "low", "value": "high"}),
     lambda d: f"calcium/bands[{len(d['observations']['calcium']['bands'])}]",
     ["'min' must be a number"]),
    ("record.yaml", lambda d: d["conditions"].update(field="primary_cancr"), "conditions",
     ["unknown field 'primary_cancr'"]),
]


@pytest.mark.parametrize("file, mutate, rule_id, words", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_file_refuses_bad_content_with_file_and_id(rules_copy, file, mutate, rule_id, words):
    path = rules_copy / file
    before = yaml.safe_load(path.read_text(encoding="utf-8"))
    _rewrite(path, mutate)
    _refused(rules_copy, file, rule_id(before) if callable(rule_id) else rule_id, *words)


def test_rules_check_lists_record_yaml_and_fails_on_a_broken_one(rules_copy):
    ok = _flask("rules", "check", env={"BONEMETS_RULES_DIR": str(rules_copy)})
    assert ok.returncode == 0, ok.stderr
    assert "record.yaml" in ok.stdout.splitlines()[0]
    text = (rules_copy / "record.yaml").read_text().replace("value: high}", "value: very_high}")
    (rules_copy / "record.yaml").write_text(text)
    r = _flask("rules", "check", env={"BONEMETS_RULES_DIR": str(rules_copy)})
    assert r.returncode == 1
    assert "record.yaml, rule 'calcium': 'calcium' has no value 'very_high'" in r.stderr
    assert "Traceback" not in r.stderr


# --------------------------------------------------------------------------------------------
# Issue 14, "Done when": a new answer value and a rule using it touch only rules/ + a scenario
# --------------------------------------------------------------------------------------------
NEW_RULE = """
- id: ebrt-breastbone-test
  group: consider
  option: external_beam_radiation
  when: {bone_sites: sternum}
  because: Radiation to the breastbone is something you could ask about.
  sources: [SOURCES]
  reviewed: 2026-12-01
"""
SCENARIO = """
- name: cancer in the breastbone is a reason to ask about radiation
  answers: {bone_sites: [sternum]}
  expect:
    consider: [external_beam_radiation]
- name: cancer in the skull alone does not place it
  answers: {bone_sites: [skull]}
  expect:
    other: [external_beam_radiation]
"""


def test_a_new_value_and_a_placement_rule_touch_only_rules_and_a_scenario(rules_copy, tmp_path,
                                                                          rulebook):
    before = {p: open(p, "rb").read() for p in glob.glob(os.path.join(ROOT, "bonemets", "**", "*.py"),
                                                          recursive=True)}
    ebrt = next(r for r in rulebook.placement if r.options == ("external_beam_radiation",))
    q = rules_copy / "questionnaire.yaml"
    old = "      skull: Skull\n"
    assert q.read_text().count(old) == 1
    q.write_text(q.read_text().replace(old, old + "      sternum: Breastbone (sternum)\n"))
    rad = rules_copy / "placement" / "radiation.yaml"
    rad.write_text(rad.read_text().rstrip("\n") + "\n" + NEW_RULE.replace("SOURCES", ", ".join(ebrt.sources)))
    es_q = rules_copy / "i18n" / "es" / "questionnaire.yaml"
    es_q.write_text(es_q.read_text().replace("      skull: Cráneo\n",
                                             "      skull: Cráneo\n      sternum: Esternón\n"))
    es_rad = rules_copy / "i18n" / "es" / "placement" / "radiation.yaml"
    es_rad.write_text(es_rad.read_text().rstrip("\n") + "\nebrt-breastbone-test:\n  because: "
                      "La radioterapia en un esternón que duele puede aliviar el dolor.\n",
                      encoding="utf-8")
    scenario = tmp_path / "breastbone.yaml"
    scenario.write_text(SCENARIO)

    rb = load_rulebook(str(rules_copy))
    answers, problems = rb.validate_answers({"bone_sites": ["sternum"]})
    assert not problems
    option = rb.plan(answers).option("external_beam_radiation")
    assert option.group == "consider" and [r.rule for r in option.reasons] == ["ebrt-breastbone-test"]
    r = _flask("rules", "test", str(scenario), env={"BONEMETS_RULES_DIR": str(rules_copy)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 of 2 scenarios passed" in r.stdout
    # the check can fail: the same scenario against the real rule book (no such value) fails
    bad = _flask("rules", "test", str(scenario))
    assert bad.returncode != 0
    assert before == {p: open(p, "rb").read() for p in before}  # no code was touched
