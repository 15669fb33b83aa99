"""Every rule's patient wording fits the answers that trigger it.

A reason is shown only when its rule's ``when`` matches, so a reason that names an answer
("one area", "your spine", "breast", "You said no place hurts") must only be shown when the
person gave that answer. These checks hold each text against its ``when`` mechanically:

- WORDS: a phrase in a rule's text that names a field value, and the values that phrase
  stands for. The rule's ``when`` must guarantee one of those values: it must have a matcher
  on that field whose "any of" set lies inside them (or whose "all of" set meets them).
- ALLOWED: (rule id, phrase) pairs where the mention is deliberate, each with why (for example
  an "unlikely" reason that explains the option is for another cancer type).
- Punctuation: no doubled marks ("things.."), no double spaces, every text ends a sentence,
  every sentence starts with a capital letter.

The second reading of rule book 2026.12.1 found reasons that broke these (e.g. "bone pain in
one area" shown to people with three or more painful areas, focused-ultrasound sites other
than the one named); the tests at the bottom show that each check can fail.
"""
from __future__ import annotations

import os
import re

import pytest

from bonemets.rules import Condition, Matcher, Rule, load_rulebook

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rules")
BOOK = load_rulebook(ROOT)

# phrase (regex, case-insensitive) -> (field, values the phrase stands for)
WORDS: list[tuple[str, str, frozenset]] = [
    (r"\bone area\b|\bone painful (spot|area)\b|\bone spot that hurts\b",
     "painful_sites", frozenset({"one_or_two"})),
    (r"\bmany places hurt\b|\bmany spots hurt\b|\bthree or more (places|areas)\b",
     "painful_sites", frozenset({"three_or_more"})),
    (r"\bno place hurts\b", "painful_sites", frozenset({"none"})),
    (r"\byou have no bone pain\b", "pain_control", frozenset({"no_pain"})),
    (r"\byou have bone pain\b", "painful_sites", frozenset({"one_or_two", "three_or_more"})),
    (r"\bonly one bone metastasis\b|\bsingle bone metastasis\b", "site_count", frozenset({"one"})),
    (r"\bfive or fewer spots\b", "site_count", frozenset({"one", "two_to_five"})),
    (r"\bmore than five spots\b|\bmany spots in the bones\b|\bin many bones\b",
     "site_count", frozenset({"more_than_five"})),
    (r"\bbreast\b|\bHER2\b|\bCDK4/6\b", "primary_cancer", frozenset({"breast"})),
    (r"\bprostate\b|\btestosterone\b|\bPSMA\b|\bsipuleucel\b|\bcastration\b",
     "primary_cancer", frozenset({"prostate"})),
    (r"\blung cancer\b|\bEGFR\b|\bALK\b", "primary_cancer", frozenset({"lung"})),
    (r"\bkidney cancer\b|\bcabozantinib\b", "primary_cancer", frozenset({"kidney"})),
    (r"\bthyroid\b|\bTSH\b|\bradioactive iodine\b", "primary_cancer", frozenset({"thyroid"})),
    (r"\bmyeloma\b|\bbortezomib\b|\blenalidomide\b|\bdaratumumab\b",
     "primary_cancer", frozenset({"myeloma"})),
    (r"\bhormone receptor positive\b", "hormone_receptor", frozenset({"positive"})),
    (r"\bhormone receptor negative\b", "hormone_receptor", frozenset({"negative"})),
    (r"\bcastration-resistant\b|\bno longer (responds|keeps it in check)\b|\bgrows despite hormone therapy\b",
     "prostate_status", frozenset({"castration_resistant"})),
    (r"\bstill responds to hormone therapy\b|\bhormone-sensitive\b",
     "prostate_status", frozenset({"hormone_sensitive"})),
    (r"\bhas spread to organs\b|\bspread to organs is\b", "organ_spread", frozenset({"yes"})),
    (r"\byour PSMA scan showed\b", "psma_scan", frozenset({"positive"})),
    (r"\byour PSMA scan did not\b", "psma_scan", frozenset({"negative"})),
    (r"\bthigh\b|\bfemur\b", "bone_sites", frozenset({"femur"})),
    (r"\bupper arm\b|\bshoulder\b|\barm bone\b", "bone_sites", frozenset({"humerus"})),
    (r"\bpelvis\b|\bhip socket\b", "bone_sites", frozenset({"pelvis"})),
    (r"\bskull\b", "bone_sites", frozenset({"skull"})),
    (r"\byour spine\b|\bcancer in the spine\b", "bone_sites", frozenset({"spine"})),
    (r"\bcollapsed spine bone\b", "bone_damage", frozenset({"spine_collapse"})),
    (r"\byour bone has broken\b|\byour broken bone\b", "bone_damage", frozenset({"fractured"})),
    (r"\bspoke of weeks\b|\bwhen time may be short\b", "outlook", frozenset({"weeks"})),
    (r"\bexpects months or more\b", "outlook", frozenset({"months", "years"})),
    (r"\bin a bed or chair\b", "activity_level", frozenset({"limited_self_care", "bedbound"})),
    (r"\bin good health\b", "activity_level", frozenset({"fully_active", "light_activity"})),
    (r"\byour radiation was less than a month ago\b",
     "prior_radiation_same_site", frozenset({"within_month"})),
    (r"\bhas not had radiation\b", "prior_radiation_same_site", frozenset({"no"})),
    (r"\bmore than a month after radiation\b|\bafter radiation\b",
     "prior_radiation_same_site", frozenset({"over_month"})),
    (r"\byou have had hormone therapy\b", "prior_treatments", frozenset({"hormone_therapy"})),
    (r"\byou have had a bone drug\b", "prior_treatments", frozenset({"bone_drug"})),
    (r"\bcalcium is high\b", "calcium", frozenset({"high"})),
    (r"\bcalcium is low\b", "calcium", frozenset({"low"})),
    (r"\byour kidneys work less well\b", "kidney_function", frozenset({"reduced"})),
    (r"\byou cannot have an MRI\b", "mri_possible", frozenset({"no"})),
    (r"\byou take a blood thinner\b", "current_medicines", frozenset({"blood_thinner"})),
    (r"\bjaw symptoms\b", "symptoms_now", frozenset({"jaw_symptoms"})),
    (r"\bcramps or tingling\b", "symptoms_now", frozenset({"cramps_tingling"})),
]

# (rule id, field) where the mention is deliberate; each with why.
ALLOWED: dict[tuple[str, str], str] = {
    # "unlikely" reasons that say the option belongs to another cancer type or answer
    ("hormone-therapy-not-hormone-driven", "primary_cancer"): "names the cancers it works in",
    ("radium-not-prostate", "primary_cancer"): "says it is for prostate cancer only",
    ("lutetium-not-prostate", "primary_cancer"): "says it is for prostate cancer only",
    ("rai-not-thyroid", "primary_cancer"): "says it is for thyroid cancer only",
    ("radium-hormone-sensitive", "prostate_status"): "says it is for castration-resistant cancer",
    ("lutetium-hormone-sensitive", "prostate_status"): "says it is for castration-resistant cancer",
    ("radionuclide-hormone-sensitive", "prostate_status"): "says it waits for castration resistance",
    ("immunotherapy-prostate-hormone-sensitive", "prostate_status"):
        "says the vaccine is for castration-resistant cancer",
    ("radionuclide-lytic-cancers", "primary_cancer"): "names myeloma and kidney together",
    ("lutetium-poor-fitness", "primary_cancer"): "names the trial population (prostate only)",
    ("fus-many-painful", "painful_sites"): "contrasts one spot at a time with many",
    ("radionuclide-single-site", "painful_sites"): "contrasts many places with one spot",
    ("hormone-therapy-breast-hr-unknown", "hormone_receptor"): "explains which result matters",
    # texts that name a cancer type to say when an option is used, not what the person said
    ("surgery-single-metastasis-good-outlook", "primary_cancer"):
        "says 'especially in kidney and breast cancer'",
    ("caution-surgery-bleeding", "primary_cancer"): "rule needs kidney or thyroid; names both",
    ("caution-radium-alone", "primary_cancer"):
        "shown in prostate cancer or when the cancer type is not known (radium-223 is a prostate "
        "medicine); excluded for every other type",
    ("caution-lutetium-psma-scan", "primary_cancer"): "as above, for lutetium-177-PSMA",
    ("caution-long-bone-fracture-risk", "bone_sites"): "rule needs thigh or arm bone",
    ("caution-surgery-fracture-score", "bone_sites"): "rule needs thigh or arm bone",
    ("caution-fus-skull", "bone_sites"): "rule needs skull or spine",
    ("cement-load-pain", "bone_sites"): "rule needs spine or pelvis",
}


def guarantees(cond: Condition, field: str, values: frozenset) -> bool:
    """True when every answer set matching ``cond`` has one of ``values`` in ``field``.

    A matcher on a follow-up question (e.g. ``psma_scan``, asked only in prostate cancer)
    guarantees what that question needs, when it asks for a real answer."""
    for m in cond.matchers:
        if m.field != field:
            needs = BOOK.fields[m.field].only_if.get(field)
            if needs and set(needs) <= values and m.any is not None and "unknown" not in m.any:
                return True
            continue
        if m.any is not None and m.any <= values:
            return True
        if m.all is not None and m.all & values:
            return True
    return False


def texts():
    """Texts shown on an option card: placement reasons and cautions. (Red flags name the
    symptom, not an answer about the bones; questions ask about answers on purpose.)"""
    for rule in BOOK.all_rules():
        if rule.kind in ("placement", "caution"):
            yield rule.id, rule.kind, rule.when, rule.text


def all_texts():
    for rule in BOOK.all_rules():
        yield rule.id, rule.kind, rule.when, rule.text


# Mentions that say where an option is NOT used name no answer: dropped before matching.
NOT_HERE = re.compile(r"\b(outside|away from) the (spine|skull) (and|or) (the )?(skull|spine)\b", re.I)


def mismatches(rule_id: str, when: Condition, text: str, allowed=ALLOWED) -> list:
    out = []
    text = NOT_HERE.sub("", text)
    for pattern, field, values in WORDS:
        found = re.search(pattern, text, re.I)
        if found and not guarantees(when, field, values) and (rule_id, field) not in allowed:
            out.append(f"{rule_id}: says {found.group(0)!r} but its 'when' does not make sure "
                       f"{field} is {' or '.join(sorted(values))}")
    return out


SENTENCE_START = re.compile(r"[.!?]\s+([a-z])")


def punctuation_problems(rule_id: str, text: str) -> list:
    out = []
    t = text.strip()
    if re.search(r"[.,;:!?]\s*[.,;:!?]", t.replace("...", "")):
        out.append(f"{rule_id}: doubled punctuation in {t!r}")
    if "  " in t:
        out.append(f"{rule_id}: double space in {t!r}")
    if not t.endswith((".", "?", "!")):
        out.append(f"{rule_id}: does not end a sentence: ...{t[-40:]!r}")
    if t[:1].islower():
        out.append(f"{rule_id}: starts with a small letter")
    m = SENTENCE_START.search(t.replace("e.g. ", "for example "))
    if m:
        out.append(f"{rule_id}: a sentence starts with a small letter near {t[m.start():m.start()+30]!r}")
    return out


RULES = list(texts())
ALL_RULES = list(all_texts())


@pytest.mark.parametrize("rule_id,kind,when,text", RULES, ids=[r[0] for r in RULES])
def test_reason_names_only_what_its_answers_say(rule_id, kind, when, text):
    problems = mismatches(rule_id, when, text)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rule_id,kind,when,text", ALL_RULES, ids=[r[0] for r in ALL_RULES])
def test_reason_is_whole_sentences(rule_id, kind, when, text):
    problems = punctuation_problems(rule_id, text)
    assert not problems, "\n".join(problems)


def test_flag_and_caution_texts_are_whole_sentences():
    problems = []
    for fid, d in BOOK.flags.items():
        problems += punctuation_problems(f"flag {fid} action", d["action"])
        problems += punctuation_problems(f"flag {fid} title", d["title"] + ".")
    assert not problems, "\n".join(problems)


def test_allow_list_has_no_stale_entries():
    """An allow-list entry for a rule that is gone, or that no longer needs it, is removed."""
    by_id = {rid: (when, text) for rid, _, when, text in RULES}
    stale = []
    for (rid, field), why in ALLOWED.items():
        if rid not in by_id:
            stale.append(f"{rid}: no such rule")
            continue
        when, text = by_id[rid]
        if not any(f == field and re.search(p, text, re.I) and not guarantees(when, f, v)
                   for p, f, v in WORDS):
            stale.append(f"{rid} / {field}: not needed ({why})")
    assert not stale, "\n".join(stale)


# --- the checks can fail -------------------------------------------------------------------
def _cond(**fields) -> Condition:
    return Condition(tuple(Matcher(f, any=frozenset(v)) for f, v in fields.items()))


def test_check_catches_one_area_shown_to_many_painful_areas():
    when = _cond(pain_control=["not_controlled"])
    text = "Radiation is the standard treatment for bone pain in one area that is not well controlled."
    assert mismatches("planted", when, text)
    assert not mismatches("planted", _cond(painful_sites=["one_or_two"]), text)


def test_check_catches_a_site_the_person_did_not_name():
    text = "Focused ultrasound has treated painful spots in the pelvis, shoulder and upper arm."
    found = mismatches("planted", _cond(bone_sites=["pelvis", "humerus", "femur", "other"]), text)
    assert any("pelvis" in p for p in found) and any("humerus" in p for p in found)


def test_check_catches_a_breast_drug_on_a_prostate_card():
    text = "HER2 drugs are advised if the cancer is HER2 positive."
    assert mismatches("planted", _cond(primary_cancer=["prostate"]), text)
    assert not mismatches("planted", _cond(primary_cancer=["breast"]), text)


def test_check_catches_broken_punctuation():
    assert punctuation_problems("planted", "It can help with things..")
    assert punctuation_problems("planted", "It can help with")
    assert punctuation_problems("planted", "It helps. and then")
    assert not punctuation_problems("planted", "It helps. Ask your team.")


# --- red flags that can be raised together do not contradict each other ----------------------
WEIGHT_ADVICE = [re.compile(r"do not put weight", re.I), re.compile(r"careful with weight", re.I)]


def test_flags_give_the_same_advice_about_weight():
    """The fracture flag says 'do not put weight on it'; no other flag may say 'be careful with
    weight', which reads as permission (the second reading found this pair)."""
    says = {fid: [bool(p.search(d["action"])) for p in WEIGHT_ADVICE] for fid, d in BOOK.flags.items()}
    strict = [f for f, (no, careful) in says.items() if no]
    loose = [f for f, (no, careful) in says.items() if careful]
    assert not (strict and loose), f"{strict} say no weight, {loose} say be careful with weight"
