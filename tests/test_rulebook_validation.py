"""Each way a rule file can be wrong is refused with the file name and the rule id, and the
app does not start on a broken rule book."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from app import create_app
from bonemets.rules import RuleBookError, load_rulebook
from conftest import ROOT, RULES_DIR


@pytest.fixture()
def rules_copy(tmp_path):
    dst = tmp_path / "rules"
    shutil.copytree(RULES_DIR, dst)
    return dst


def edit(path, old, new, count=1):
    text = path.read_text()
    assert old in text, f"fixture text not found: {old!r}"
    path.write_text(text.replace(old, new, count))


def first_rule_edit(path, mutate):
    data = yaml.safe_load(path.read_text())
    mutate(data[0])
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return data[0]["id"]


def expect_error(rules_dir, file, rule_id, words):
    with pytest.raises(RuleBookError) as info:
        load_rulebook(str(rules_dir))
    err = info.value
    assert err.file == file
    assert err.rule_id == rule_id
    msg = str(err)
    assert file in msg and (rule_id is None or rule_id in msg)
    for w in words:
        assert w in msg, msg
    return err


def test_the_real_rule_book_loads():
    rb = load_rulebook(RULES_DIR)
    assert len(rb.options) == 22 and len(list(rb.all_rules())) > 100


def test_bad_yaml(rules_copy):
    (rules_copy / "placement" / "radiation.yaml").write_text("- id: x\n  when: {painful_sites: [one\n")
    expect_error(rules_copy, "placement/radiation.yaml", None, ["not valid YAML"])


def test_unknown_field(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "radiation.yaml",
                          lambda r: r["when"].update({"shoe_size": "big"}))
    expect_error(rules_copy, "placement/radiation.yaml", rid, ["unknown field 'shoe_size'"])


def test_unknown_value(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "radiation.yaml",
                          lambda r: r["when"].update({"painful_sites": ["dozens"]}))
    expect_error(rules_copy, "placement/radiation.yaml", rid, ["no value 'dozens'"])


def test_unknown_written_as_a_value(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "radiation.yaml",
                          lambda r: r["when"].update({"painful_sites": ["unknown"]}))
    expect_error(rules_copy, "placement/radiation.yaml", rid, ["known: false"])


def test_bare_yes_no(rules_copy):
    edit(rules_copy / "placement" / "procedures.yaml", 'pain_with_movement: "yes"', "pain_with_movement: yes")
    with pytest.raises(RuleBookError) as info:
        load_rulebook(str(rules_copy))
    assert "in quotes" in str(info.value)


def test_unknown_option(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml",
                          lambda r: r.update({"option": "magic_pill"}))
    expect_error(rules_copy, "placement/supportive.yaml", rid, ["unknown option 'magic_pill'"])


def test_unknown_group(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml",
                          lambda r: r.update({"group": "maybe"}))
    expect_error(rules_copy, "placement/supportive.yaml", rid, ["group must be one of"])


def test_unknown_source(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml",
                          lambda r: r.update({"sources": ["Wikipedia-2025"]}))
    expect_error(rules_copy, "placement/supportive.yaml", rid, ["unknown source 'Wikipedia-2025'"])


def test_no_sources(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml",
                          lambda r: r.update({"sources": []}))
    expect_error(rules_copy, "placement/supportive.yaml", rid, ["at least one source"])


def test_duplicate_rule_id(rules_copy):
    path = rules_copy / "placement" / "supportive.yaml"
    data = yaml.safe_load(path.read_text())
    data.append(dict(data[0]))
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    expect_error(rules_copy, "placement/supportive.yaml", data[0]["id"], ["duplicate rule id"])


def test_duplicate_rule_id_across_files(rules_copy):
    path = rules_copy / "placement" / "systemic.yaml"
    data = yaml.safe_load(path.read_text())
    data[0]["id"] = "pain-medicine-painful-sites"  # also in supportive.yaml (read earlier)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    expect_error(rules_copy, "placement/systemic.yaml", "pain-medicine-painful-sites", ["duplicate"])


def test_missing_reviewed_date(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml", lambda r: r.pop("reviewed"))
    expect_error(rules_copy, "placement/supportive.yaml", rid, ["missing 'reviewed'"])


def test_reviewed_not_a_date(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml",
                          lambda r: r.update({"reviewed": "last week"}))
    expect_error(rules_copy, "placement/supportive.yaml", rid, ["YYYY-MM-DD"])


def test_missing_because(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml", lambda r: r.pop("because"))
    expect_error(rules_copy, "placement/supportive.yaml", rid, ["missing 'because'"])


def test_unknown_key_is_a_typo(rules_copy):
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml",
                          lambda r: r.update({"wehn": {}}))
    expect_error(rules_copy, "placement/supportive.yaml", rid, ["unknown keys"])


def test_red_flag_bad_urgency(rules_copy):
    edit(rules_copy / "red_flags.yaml", "urgency: soon", "urgency: whenever")
    expect_error(rules_copy, "red_flags.yaml", "jaw_osteonecrosis", ["urgency must be one of"])


def test_red_flag_rule_unknown_flag(rules_copy):
    edit(rules_copy / "red_flags.yaml", "flag: fracture\n", "flag: broken_bone\n")
    expect_error(rules_copy, "red_flags.yaml", "flag-fracture-sudden-pain", ["unknown red flag"])


def test_caution_unknown_caution(rules_copy):
    edit(rules_copy / "cautions.yaml", "caution: stopping_plan\n    options: [denosumab]",
         "caution: stop_plan\n    options: [denosumab]")
    expect_error(rules_copy, "cautions.yaml", "caution-denosumab-stopping", ["unknown caution"])


def test_catalog_missing_field(rules_copy):
    path = rules_copy / "options.yaml"
    data = yaml.safe_load(path.read_text())
    data[3].pop("downsides")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    expect_error(rules_copy, "options.yaml", data[3]["id"], ["missing 'downsides'"])


def test_catalog_empty_field(rules_copy):
    path = rules_copy / "options.yaml"
    data = yaml.safe_load(path.read_text())
    data[0]["benefits"] = []
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    expect_error(rules_copy, "options.yaml", data[0]["id"], ["'benefits' must be a non-empty"])


def test_source_without_url(rules_copy):
    path = rules_copy / "sources.yaml"
    data = yaml.safe_load(path.read_text())
    data["ASTRO-2024"].pop("url")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    expect_error(rules_copy, "sources.yaml", "ASTRO-2024", ["needs 'url'"])


def test_missing_file(rules_copy):
    os.remove(rules_copy / "cautions.yaml")
    expect_error(rules_copy, "cautions.yaml", None, ["cannot be read"])


def test_app_refuses_to_start(rules_copy):
    edit(rules_copy / "placement" / "supportive.yaml", "option: pain_medicine", "option: pain_medicin")
    with pytest.raises(RuleBookError) as info:
        create_app({"TESTING": True, "RULES_DIR": str(rules_copy)})
    assert "placement/supportive.yaml" in str(info.value)
    assert "pain-medicine-painful-sites" in str(info.value)


def _flask(*args, env=None):
    e = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                          env=e, capture_output=True, text=True, timeout=60)


def test_cli_check_passes_on_the_real_rule_book():
    r = _flask("rules", "check")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("OK rule book")


def test_cli_check_fails_with_file_and_rule_id(rules_copy):
    edit(rules_copy / "placement" / "supportive.yaml", "option: pain_medicine", "option: pain_medicin")
    r = _flask("rules", "check", env={"BONEMETS_RULES_DIR": str(rules_copy)})
    assert r.returncode == 1
    assert "placement/supportive.yaml" in r.stderr
    assert "pain-medicine-painful-sites" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_check_warns_about_stale_rules(rules_copy):
    edit(rules_copy / "placement" / "supportive.yaml", "reviewed: 2026-12-01", "reviewed: 2019-01-01")
    r = _flask("rules", "check", env={"BONEMETS_RULES_DIR": str(rules_copy)})
    assert r.returncode == 0
    assert "WARNING" in r.stderr and "pain-medicine-painful-sites" in r.stderr


# --- Sources say what they are evidence for (review 2026-12, section C) ------------------------
def _edit_source(rules_copy, key, mutate):
    path = rules_copy / "sources.yaml"
    data = yaml.safe_load(path.read_text())
    mutate(data[key])
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _edit_yaml(path, mutate):
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_source_needs_a_kind(rules_copy):
    _edit_source(rules_copy, "ASTRO-2024", lambda s: s.pop("kind"))
    expect_error(rules_copy, "sources.yaml", "ASTRO-2024", ["needs a 'kind'", "secondary_copy"])


def test_source_kind_must_be_known(rules_copy):
    _edit_source(rules_copy, "ASTRO-2024", lambda s: s.update({"kind": "blog"}))
    expect_error(rules_copy, "sources.yaml", "ASTRO-2024", ["needs a 'kind'"])


def test_source_covers_must_name_known_ids(rules_copy):
    _edit_source(rules_copy, "ASTRO-2024", lambda s: s["covers"].append("magic_pill"))
    expect_error(rules_copy, "sources.yaml", "ASTRO-2024", ["unknown option, flag or caution", "magic_pill"])


def test_source_unknown_key(rules_copy):
    _edit_source(rules_copy, "ASTRO-2024", lambda s: s.update({"secondary": True}))
    expect_error(rules_copy, "sources.yaml", "ASTRO-2024", ["unknown keys", "secondary"])


def test_placement_rule_citing_a_source_about_something_else(rules_copy):
    # pain-medicine-painful-sites places pain_medicine; ASTRO 2024 is about radiation.
    rid = first_rule_edit(rules_copy / "placement" / "supportive.yaml",
                          lambda r: r.update({"sources": ["ESMO-Pain-2012", "ASTRO-2024"]}))
    expect_error(rules_copy, "placement/supportive.yaml", rid,
                 ["ASTRO-2024", "not evidence for", "pain_medicine"])


def test_placement_rule_with_an_option_no_source_covers(rules_copy):
    # bone-drug-breast places both bone drugs; the zoledronic acid label covers only one.
    rid = first_rule_edit(rules_copy / "placement" / "bone_drugs.yaml",
                          lambda r: r.update({"sources": ["Zometa-SmPC"]}))
    assert rid == "bone-drug-breast"
    expect_error(rules_copy, "placement/bone_drugs.yaml", rid,
                 ["no cited source is evidence for option 'denosumab'"])


def test_flag_rule_citing_a_source_about_something_else(rules_copy):
    def mutate(d):
        d["rules"][0]["sources"] = ["ESMO-Pain-2012"]
    _edit_yaml(rules_copy / "red_flags.yaml", mutate)
    expect_error(rules_copy, "red_flags.yaml", "flag-mscc-leg-weakness",
                 ["ESMO-Pain-2012", "not evidence for red flag 'spinal_cord_compression'"])


def test_flag_citing_a_source_about_something_else(rules_copy):
    def mutate(d):
        d["flags"]["infection"]["sources"] = ["OncoHealth-Chemo"]
    _edit_yaml(rules_copy / "red_flags.yaml", mutate)
    expect_error(rules_copy, "red_flags.yaml", "infection",
                 ["OncoHealth-Chemo", "not evidence for red flag 'infection'"])


def test_caution_rule_citing_a_source_about_something_else(rules_copy):
    def mutate(d):
        d["rules"][0]["sources"] = ["MASCC/ISOO/ASCO-MRONJ-2019", "ASTRO-2024"]
    _edit_yaml(rules_copy / "cautions.yaml", mutate)
    expect_error(rules_copy, "cautions.yaml", "caution-bone-drug-dental",
                 ["ASTRO-2024", "not evidence for caution 'dental_check_first'"])


def test_caution_rule_needs_a_source_for_the_caution_itself(rules_copy):
    def mutate(d):
        d["rules"][0]["sources"] = ["ZOOM-2013"]  # about bisphosphonates, not dental checks
    _edit_yaml(rules_copy / "cautions.yaml", mutate)
    expect_error(rules_copy, "cautions.yaml", "caution-bone-drug-dental",
                 ["no cited source is evidence for caution 'dental_check_first'"])


def test_catalog_entry_citing_a_source_about_something_else(rules_copy):
    def mutate(d):
        d[0]["sources"] = ["ESMO-Pain-2012", "ASTRO-2024"]
    _edit_yaml(rules_copy / "options.yaml", mutate)
    expect_error(rules_copy, "options.yaml", "pain_medicine", ["ASTRO-2024", "not evidence for"])


def test_real_rule_book_sources_have_kinds_and_replacements():
    rb = load_rulebook(RULES_DIR)
    kinds = {"guideline", "trial", "product_label", "review", "patient_information",
             "secondary_copy", "other"}
    for key, s in rb.sources.items():
        assert s["kind"] in kinds, key
        assert s["secondary"] == (s["kind"] == "secondary_copy"), key
    cited = {k for r in rb.all_rules() for k in r.sources}
    cited |= {k for f in rb.flags.values() for k in f["sources"]}
    # Review 2026-12 section C: withdrawn or wrong documents are cited by nothing.
    assert not {k for k in cited if "CG75" in k}
    assert "FDA-SSED-ExAblate" not in rb.sources
    assert rb.flags["spinal_cord_compression"]["sources"][0] == "NICE-NG234-2023"
    assert "dexamethasone" in rb.flags["spinal_cord_compression"]["action"]
    assert rb.flags["infection"]["sources"] == ("ASCO-IDSA-FN-2018",)
    assert rb.sources["FDA-ExAblate-2012"]["kind"] == "secondary_copy"
    assert "P110039" in rb.sources["FDA-ExAblate-2012"]["org"]
