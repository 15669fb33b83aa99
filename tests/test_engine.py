"""Unit tests of the pure engine: conditions, precedence, reasons, cautions, questions."""
from __future__ import annotations

import copy

import pytest

from bonemets.rules import GROUPS, Condition, Matcher


CONTRACT_OPTIONS = ["pain_medicine", "palliative_care", "chemotherapy", "hormone_therapy",
                    "immunotherapy", "bisphosphonate", "denosumab", "radium_223",
                    "bone_seeking_radionuclide", "external_beam_radiation",
                    "stereotactic_radiation", "re_irradiation", "surgery", "cast_brace_splint",
                    "bone_cement", "ablation", "focused_ultrasound", "clinical_trial",
                    # Additions of 2026-12
                    "lutetium_psma", "targeted_therapy", "radioactive_iodine", "no_new_treatment"]
CONTRACT_FLAGS = {"spinal_cord_compression": "emergency", "fracture": "emergency",
                  "severe_high_calcium": "emergency", "infection": "emergency",
                  "high_calcium": "today", "spine_pain": "today", "uncontrolled_pain": "today",
                  "jaw_osteonecrosis": "soon", "atypical_femur_fracture": "soon",
                  # Additions of 2026-12
                  "low_calcium": "today", "blood_clot": "today", "clot_in_lung": "emergency",
                  "low_blood_counts": "today", "pain_flare": "today"}
CONTRACT_CAUTIONS = ["dental_check_first", "kidney_check", "calcium_vitamin_d",
                     "not_with_abiraterone", "needs_mri", "blood_counts_check",
                     "spine_stability_check", "fracture_risk_check", "stopping_plan",
                     # Additions of 2026-12
                     "bone_drug_alongside", "not_with_other_cancer_drugs", "needs_psma_scan"]


def test_catalog_has_every_contract_option_once(rulebook):
    # The catalog's order is its display order within a group (rules/options.yaml says why);
    # the contract fixes the ids, not their order.
    assert sorted(rulebook.options) == sorted(CONTRACT_OPTIONS)
    assert len(rulebook.options) == len(CONTRACT_OPTIONS)


def test_ways_to_hold_a_bone_come_before_treatments_that_do_not(rulebook):
    order = list(rulebook.options)
    holds = max(order.index("surgery"), order.index("cast_brace_splint"))
    for o in ("external_beam_radiation", "stereotactic_radiation", "re_irradiation", "bone_cement",
              "ablation", "focused_ultrasound", "radium_223", "bone_seeking_radionuclide",
              "lutetium_psma", "radioactive_iodine"):
        assert order.index(o) > holds, o


def test_every_contract_flag_and_caution_exists(rulebook):
    for fid, urgency in CONTRACT_FLAGS.items():
        assert rulebook.flags[fid]["urgency"] == urgency
    for cid in CONTRACT_CAUTIONS:
        assert cid in rulebook.cautions


@pytest.mark.parametrize("answers", [{}, {"primary_cancer": "unknown"},
                                     {"primary_cancer": "prostate", "symptoms_now": ["leg_weakness"]}])
def test_every_option_exactly_once_in_one_group(rulebook, answers):
    plan = rulebook.plan(answers)
    ids = [o.id for o in plan.options]
    assert sorted(ids) == sorted(CONTRACT_OPTIONS)
    assert len(ids) == len(set(ids))
    assert all(o.group in GROUPS for o in plan.options)


def test_options_are_ordered_by_group_then_catalog(rulebook, typical):
    plan = rulebook.plan(typical)
    catalog = list(rulebook.options)
    order = [(GROUPS.index(o.group), catalog.index(o.id)) for o in plan.options]
    assert order == sorted(order)


def test_empty_answers_give_questions_for_every_unknown(rulebook):
    plan = rulebook.plan({})
    asked = {q["rule"] for q in plan.questions}
    for rid in ["ask-primary-cancer", "ask-organ-spread", "ask-bone-sites", "ask-site-count",
                "ask-bone-damage", "ask-kidney", "ask-dental", "ask-calcium", "ask-pain-control",
                "ask-symptoms", "ask-outlook", "ask-activity", "ask-mri"]:
        assert rid in asked
    # Follow-up questions only where they apply.
    assert "ask-hormone-receptor" not in asked
    assert "ask-prostate-status" not in asked
    assert not plan.red_flags


def test_unknown_value_and_missing_answer_mean_the_same(rulebook):
    a = rulebook.plan({"kidney_function": "unknown"})
    b = rulebook.plan({})
    assert [(o.id, o.group) for o in a.options] == [(o.id, o.group) for o in b.options]
    assert {q["rule"] for q in a.questions} == {q["rule"] for q in b.questions}


def test_follow_up_question_for_breast_unknown_receptor(rulebook):
    plan = rulebook.plan({"primary_cancer": "breast", "hormone_receptor": "unknown"})
    assert "ask-hormone-receptor" in {q["rule"] for q in plan.questions}
    assert plan.option("hormone_therapy").group == "consider"


def test_precedence_unlikely_beats_discuss(rulebook):
    # CRPC with painful metastases would be "discuss" for radium-223, but abiraterone forbids it.
    answers = {"primary_cancer": "prostate", "prostate_status": "castration_resistant",
               "organ_spread": "no", "site_count": "two_to_five", "painful_sites": "one_or_two",
               "current_medicines": ["abiraterone_prednisone"]}
    radium = rulebook.plan(answers).option("radium_223")
    assert radium.group == "unlikely"
    groups = [r.group for r in radium.reasons]
    assert groups[0] == "unlikely" and "consider" in groups, "all matching reasons are kept"
    assert "not_with_abiraterone" in [c["id"] for c in radium.cautions]


def test_precedence_discuss_beats_consider(rulebook):
    plan = rulebook.plan({"pain_control": "not_controlled"})
    pc = plan.option("palliative_care")
    assert pc.group == "discuss"
    assert [r.group for r in pc.reasons] == ["discuss", "consider"]


def test_untouched_option_is_other(rulebook):
    plan = rulebook.plan({})
    assert plan.option("surgery").group == "other"
    assert plan.option("surgery").reasons == []


def test_reason_names_rule_answers_text_and_sources(rulebook, typical):
    plan = rulebook.plan(typical)
    ebrt = plan.option("external_beam_radiation")
    r = next(r for r in ebrt.reasons if r.rule == "ebrt-painful-bone")
    assert r.because == ["painful_sites=one_or_two"]
    assert r.text and r.sources and all(s in plan.sources for s in r.sources)


def test_red_flags_sorted_by_urgency_and_merged(rulebook):
    plan = rulebook.plan({"symptoms_now": ["jaw_symptoms", "leg_weakness", "numbness",
                                           "new_back_pain"]})
    assert [f.urgency for f in plan.red_flags] == ["emergency", "today", "soon"]
    mscc = plan.red_flags[0]
    assert mscc.id == "spinal_cord_compression"
    assert {r.rule for r in mscc.reasons} == {"flag-mscc-leg-weakness", "flag-mscc-numbness"}
    assert plan.has_emergency


def test_pain_score_bounds(rulebook):
    assert "uncontrolled_pain" in {f.id for f in rulebook.plan({"pain_score": 7}).red_flags}
    assert "uncontrolled_pain" not in {f.id for f in rulebook.plan({"pain_score": 6}).red_flags}
    assert rulebook.plan({"pain_score": 0}).option("pain_medicine").group == "other"


def test_cautions_merge_texts_from_several_rules(rulebook):
    plan = rulebook.plan({"prior_treatments": ["chemotherapy"]})
    c = [c for c in plan.option("radium_223").cautions if c["id"] == "blood_counts_check"][0]
    assert c["rules"] == ["caution-radium-blood-counts", "caution-radionuclide-after-chemo"]


@pytest.mark.parametrize("primary", ["breast", "lung", "kidney", "thyroid", "myeloma", "other"])
def test_a_psma_scan_is_never_read_for_a_cancer_that_is_not_prostate(rulebook, primary):
    # The form asks about a PSMA scan only for prostate cancer; a program may still send one.
    # Lutetium-177-PSMA is a prostate cancer medicine: no other cancer is told its scan result
    # decides it.
    for scan in ("positive", "negative", "not_done", "unknown"):
        plan = rulebook.plan({"primary_cancer": primary, "psma_scan": scan})
        rules = {r for c in plan.option("lutetium_psma").cautions for r in c["rules"]}
        assert not rules & {"caution-lutetium-psma-positive", "caution-lutetium-psma-scan"}, scan


def test_plan_is_pure(rulebook, typical):
    before = copy.deepcopy(typical)
    a = rulebook.plan(typical).to_dict()
    b = rulebook.plan(typical).to_dict()
    assert a == b
    assert typical == before


def test_plan_json_shape(rulebook, typical):
    d = rulebook.plan(typical).to_dict()
    assert set(d) >= {"caveat", "rules_version", "reviewed", "red_flags", "options", "questions",
                      "sources"}
    assert d["caveat"].startswith("This is not medical advice")
    assert "decide together with your care team" in d["caveat"]
    opt = d["options"][0]
    assert set(opt) >= {"id", "name", "group", "reasons", "cautions"}
    assert set(opt["reasons"][0]) >= {"rule", "because", "text", "sources"}
    for key, s in d["sources"].items():
        assert set(s) >= {"title", "org", "year", "url"}


@pytest.mark.parametrize("raw, clean, errors", [
    ({"primary_cancer": "breast"}, {"primary_cancer": "breast"}, {}),
    ({"primary_cancer": None, "bone_sites": []}, {}, {}),
    ({"bone_sites": "spine"}, {"bone_sites": ["spine"]}, {}),
    ({"bone_sites": ["pelvis", "spine", "spine"]}, {"bone_sites": ["spine", "pelvis"]}, {}),
    ({"prior_treatments": ["none", "chemotherapy"]}, {"prior_treatments": ["chemotherapy"]}, {}),
    ({"symptoms_now": ["none"]}, {"symptoms_now": ["none"]}, {}),
    ({"pain_score": "7"}, {"pain_score": 7}, {}),
    ({"pain_score": 0}, {"pain_score": 0}, {}),
])
def test_validate_answers_accepts_and_normalises(rulebook, raw, clean, errors):
    assert rulebook.validate_answers(raw) == (clean, errors)


@pytest.mark.parametrize("raw, field", [
    ({"primary_cancer": "liver"}, "primary_cancer"),
    ({"primary_cancer": ["breast"]}, "primary_cancer"),
    ({"primary_cancer": 3}, "primary_cancer"),
    ({"bone_sites": ["spine", "toe"]}, "bone_sites"),
    ({"bone_sites": [1]}, "bone_sites"),
    ({"pain_score": 11}, "pain_score"),
    ({"pain_score": -1}, "pain_score"),
    ({"pain_score": 2.5}, "pain_score"),
    ({"pain_score": True}, "pain_score"),
    ({"pain_score": "seven"}, "pain_score"),
    ({"favourite_colour": "blue"}, "favourite_colour"),
])
def test_validate_answers_rejects(rulebook, raw, field):
    clean, errors = rulebook.validate_answers(raw)
    assert field in errors and errors[field]


@pytest.mark.parametrize("body", [[], "breast", 3, None])
def test_validate_answers_needs_an_object(rulebook, body):
    assert "_body" in rulebook.validate_answers(body)[1]


def test_condition_matchers():
    norm = {"a": frozenset({"x", "y"}), "b": frozenset({"unknown"}), "n": 5, "m": None}
    assert Condition((Matcher("a", any=frozenset({"x"})),)).matches(norm)
    assert not Condition((Matcher("a", none=frozenset({"y"})),)).matches(norm)
    assert Condition((Matcher("a", all=frozenset({"x", "y"})),)).matches(norm)
    assert not Condition((Matcher("a", all=frozenset({"x", "z"})),)).matches(norm)
    assert Condition((Matcher("b", known=False),)).matches(norm)
    assert not Condition((Matcher("b", known=True),)).matches(norm)
    assert Condition((Matcher("n", min=5, max=5),)).matches(norm)
    assert not Condition((Matcher("m", min=0),)).matches(norm)
    assert Condition((Matcher("m", known=False),)).matches(norm)
    assert Condition(()).matches(norm), "an empty condition always matches"


def test_describe_in_plain_words(rulebook):
    # Conditions are put into words by the presenter (the engine holds no wording).
    from bonemets.present import describe
    rule = rulebook.rules_by_id["radium-with-abiraterone"]
    text = describe(rulebook, rule.when)
    assert text.startswith("If Medicines now includes")
    assert "Abiraterone" in text
    assert describe(rulebook, rulebook.rules_by_id["palliative-care-always"].when).startswith("Always")


def test_priorities_never_change_which_options_are_listed(rulebook, typical):
    base = [(o.id, o.group) for o in rulebook.plan({**typical, "priorities": []}).options]
    for p in rulebook.fields["priorities"].values:
        plan = rulebook.plan({**typical, "priorities": [p]})
        assert [(o.id, o.group) for o in plan.options] == base, p
    assert not any("priorities" in m.field for r in rulebook.placement for m in r.when.matchers)


@pytest.mark.parametrize("activity", ["fully_active", "light_activity"])
@pytest.mark.parametrize("damage", [[], ["fractured"], ["fracture_risk"]])
def test_no_years_of_control_when_the_team_said_weeks(rulebook, activity, damage):
    # Evidence pack 1C rule 14: with weeks to live, major surgery is not usually offered; the
    # kidney single-metastasis reason ("may give years of control") must not be given then.
    answers = {"primary_cancer": "kidney", "site_count": "one", "organ_spread": "no",
               "activity_level": activity, "outlook": "weeks", "bone_damage": damage}
    rules = [r.rule for r in rulebook.plan(answers).option("surgery").reasons]
    assert "surgery-single-metastasis-kidney" not in rules
    answers["outlook"] = "months"
    if not damage:
        assert "surgery-single-metastasis-kidney" in [
            r.rule for r in rulebook.plan(answers).option("surgery").reasons]


@pytest.mark.parametrize("damage", ["spine_collapse", "spine_unstable", "near_spinal_cord"])
def test_repeat_radiation_to_a_damaged_spine_names_the_stability_check(rulebook, damage):
    # Evidence pack 1B: spine stability and the need for surgery are checked first; as for a
    # first course of radiation.
    plan = rulebook.plan({"bone_damage": [damage], "prior_radiation_same_site": "over_month",
                          "pain_control": "partly_controlled"})
    assert "spine_stability_check" in {c["id"] for c in plan.option("re_irradiation").cautions}


@pytest.mark.parametrize("sites", [None, ["ribs"], ["other"], ["unknown"], ["femur"], ["spine", "ribs"]])
def test_pain_worse_on_moving_is_a_warning_wherever_it_is(rulebook, sites):
    # Evidence pack 2, tier 2: bone pain worse when standing or walking may mean a bone about to
    # break; the pack sets no limit on where. (Before: only femur, pelvis, humerus or spine.)
    answers = {"pain_with_movement": "yes"}
    if sites is not None:
        answers["bone_sites"] = sites
    assert "impending_fracture" in {f.id for f in rulebook.plan(answers).red_flags}
    answers["pain_with_movement"] = "no"
    assert "impending_fracture" not in {f.id for f in rulebook.plan(answers).red_flags}
