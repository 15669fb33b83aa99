"""The only chances a person sees are the outcomes' "N of 100", with time frame and certainty.

Issue 11 (IPDASi QL3-QL9): figures given side by side in mixed forms ("3 in 10", "35%",
"42.3%", "10.8% versus 5.8%", "2.6 points") in the catalog, the reasons, the cautions and the
questions duplicated or contradicted rules/outcomes.yaml, mostly with no time frame or
certainty. Those texts now say the fact in plain words and the number lives in outcomes.yaml.
This test keeps it that way: it fails when one of those texts holds a percentage, an
"N in M" / "N out of M" / "N of M" figure, a figure with a decimal point, an "N vs M" pair or a
score change in points.

Numbers that are not chances are allowed (ALLOWED, each with why): doses, pain scores out of
10, ages, ECOG levels; counts such as "every 4 weeks", "one visit", "1 to 5 spots" or "phase 2"
never match the figure patterns in the first place. The tests at the bottom show that each
pattern catches what it is for and lets the allowed numbers through.
"""
from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rules")

_NUM_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|a hundred)"
_N = rf"(?:\d+|{_NUM_WORD})"

# name -> pattern of a figure that belongs in outcomes.yaml, not in the text
FIGURES: dict[str, re.Pattern] = {
    "percentage": re.compile(r"\d+(?:\.\d+)?\s*(?:%|per ?cent\b)", re.I),
    "N in M": re.compile(rf"(?<![\d.]){_N}\s+(?:in|out of|of)\s+{_N}\b(?!\s*(?:weeks|days|months|years))",
                         re.I),
    "decimal figure": re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])"),
    "N vs M": re.compile(r"\d+\s*(?:vs\.?|versus|against|compared with)\s*\d+", re.I),
    "points": re.compile(r"\b\d+(?:\.\d+)?\s+points?\b", re.I),
}

_NOT_PEOPLE = r"(?!\s+(?:people|persons|men|women|patients|of them|had|have|got|get))"

# Numbers that are not chances: removed from a text before FIGURES are looked for.
ALLOWED: list[tuple[re.Pattern, str]] = [
    (re.compile(r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms?|Gy|ml|mL|units?)\b"),
     "a dose (Xgeva 120 mg, a single 8 Gy fraction)"),
    (re.compile(rf"(?:\bpain\b|\bscore\b|\bscale\b)[^.;]{{0,30}}?(?<![\d.])(?:10|[0-9])\s+(?:out of|of|in)\s+10\b{_NOT_PEOPLE}"
                rf"|(?<![\d.])(?:10|[0-9])\s+(?:out of|of|in)\s+10\s+(?:on\s+(?:the|a)\s+)?(?:pain\s+)?(?:scale|score)\b",
                re.I),
     "a pain score out of 10 (a number the person gives, not a chance)"),
    (re.compile(r"\b(?:aged?|age of|ages)\s+\d+(?:\s*(?:to|-|or)\s*\d+)?\b", re.I), "an age"),
    (re.compile(r"\bECOG\s+(?:score\s+|level\s+)?\d(?:\s*(?:to|-|or)\s*\d)?\b", re.I),
     "an ECOG activity level"),
]


def figures_in(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for every chance-like figure in `text`, after the allow-list."""
    for pattern, _why in ALLOWED:
        text = pattern.sub(" ", text)
    return [(kind, m.group(0)) for kind, p in FIGURES.items() for m in p.finditer(text)]


def _strings(value, where):
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]")


def _load(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return yaml.safe_load(f)


def patient_texts():
    """(where, text) for every catalog text, reason, caution and question a person can read."""
    for entry in _load("options.yaml"):
        for key, value in entry.items():
            if key not in {"id", "sources", "reviewed"}:
                yield from _strings(value, f"options.yaml {entry['id']}.{key}")
    for path in sorted(glob.glob(os.path.join(ROOT, "placement", "*.yaml"))):
        data = yaml.safe_load(open(path, encoding="utf-8"))
        rules = data["rules"] if isinstance(data, dict) else data
        for rule in rules:
            if rule.get("because"):
                yield f"placement/{os.path.basename(path)} {rule['id']}.because", rule["because"]
    cautions = _load("cautions.yaml")
    for cid, caution in cautions["cautions"].items():
        yield from _strings(caution, f"cautions.yaml {cid}")
    for rule in cautions["rules"]:
        yield f"cautions.yaml {rule['id']}.text", rule["text"]
    for rule in _load("questions.yaml")["rules"]:
        yield f"questions.yaml {rule['id']}.text", rule["text"]


TEXTS = list(patient_texts())


def test_the_texts_are_found():
    files = {where.split(" ")[0] for where, _ in TEXTS}
    assert {"options.yaml", "cautions.yaml", "questions.yaml"} <= files
    assert any(f.startswith("placement/") for f in files)
    assert len(TEXTS) > 500, len(TEXTS)


def test_no_chance_figures_outside_the_outcomes():
    found = [(where, figures_in(text)) for where, text in TEXTS if figures_in(text)]
    assert not found, "figures belong in rules/outcomes.yaml (N of 100 with time frame and " \
                      "certainty); say the fact in plain words here:\n" + \
                      "\n".join(f"  {w}: {f}" for w, f in found)


# -- the checker itself can fail ---------------------------------------------------------------
@pytest.mark.parametrize("text, kind", [
    ("About 3 in 10 people are free of pain within a month.", "N in M"),
    ("About 1 in 3 people get a short pain flare.", "N in M"),
    ("about one in three people", "N in M"),
    ("Serious side effects: 53 in 100 men, against 38 in 100.", "N in M"),
    ("A few, about 7 out of 10 people, get relief.", "N in M"),
    ("About 1 to 9 in 100 people get jaw bone damage.", "N in M"),
    ("35% were free of pain at 3 months.", "percentage"),
    ("5-year survival was 42.3% versus 17.7%.", "percentage"),
    ("Low calcium: 10.8% versus 5.8% in one trial.", "percentage"),
    ("Serious side effects happened in about 5 per cent.", "percentage"),
    ("Pain fell by 2.6 points out of 10 by week 8.", "decimal figure"),
    ("Pain fell by 2.6 points out of 10 by week 8.", "points"),
    ("Pain fell 3 points by week 8.", "points"),
    ("Men lived 14.9 months versus 11.3 months.", "decimal figure"),
    ("A disability score fell from 17.6 to 9.1.", "decimal figure"),
    ("More broken bones (29 vs 11).", "N vs M"),
])
def test_a_figure_is_caught(text, kind):
    assert kind in {k for k, _ in figures_in(text)}, figures_in(text)


@pytest.mark.parametrize("text", [
    "Denosumab (Xgeva 120 mg); a single 8 Gy fraction.",
    "If your pain is 7 out of 10 or worse, call your team.",
    "Rate your pain from 0 to 10; a score of 4 in 10 on the pain scale.",
    "It is for people aged 18 or over.",
    "In the trial, people were ECOG 0 to 2.",
    "One visit is often enough; some plans use 5 to 10 short daily visits.",
    "A drip every 3 to 4 weeks, or every 12 weeks; up to 6 times; 1 to 5 spots; phase 2.",
    "It lasts about 2 to 6 months, and it starts in 1 to 4 weeks.",
])
def test_numbers_that_are_not_chances_are_allowed(text):
    assert figures_in(text) == []


def test_the_allow_list_does_not_hide_a_chance():
    # A pain score is allowed only as a score: "7 out of 10 people" is still a chance.
    assert figures_in("About 7 out of 10 people get useful relief.")
    assert figures_in("Pain fell by 2.6 points out of 10.")
    assert figures_in("Less pain at 3 months: 7 out of 10 people.")
    assert figures_in("Less pain at 3 months in 6 of 10 patients.")
