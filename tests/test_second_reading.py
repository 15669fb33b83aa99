"""Second reading of rule book 2026.12.1: what the scenario format cannot say.

A thigh or upper-arm bone that has broken or may break is held first (Mirels; ESMO 2020;
ASTRO 2024): among the options often discussed, an operation or a support should be listed
before any treatment that does not stabilise the bone (safety statement
safety-broken-long-bone-stabilise-first on branch `safety`).

The catalog (rules/options.yaml) lists both ways to hold a bone before every treatment that
does not, and plans keep catalog order within a group; this test holds every such person to it.
"""
from __future__ import annotations

import itertools

import pytest

from bonemets.rules import load_rulebook
from conftest import RULES_DIR

BOOK = load_rulebook(RULES_DIR)
HOLDS = {"surgery", "cast_brace_splint"}
DOES_NOT_HOLD = {"external_beam_radiation", "stereotactic_radiation", "re_irradiation",
                 "bone_cement", "ablation", "focused_ultrasound", "radium_223",
                 "bone_seeking_radionuclide", "lutetium_psma", "radioactive_iodine"}


def first_discussed(answers):
    plan = BOOK.plan(answers)
    return [o.id for o in plan.options if o.group == "discuss" and o.id in HOLDS | DOES_NOT_HOLD]


CASES = [
    {"bone_sites": [site], "bone_damage": [damage], "painful_sites": pain,
     "activity_level": act, "outlook": out}
    for site, damage, pain, act, out in itertools.product(
        ["femur", "humerus"], ["fracture_risk", "fractured"], ["one_or_two", "three_or_more"],
        ["fully_active", "self_care_only", "bedbound"], ["weeks", "years"])
]


@pytest.mark.parametrize("answers", CASES)
def test_broken_or_weak_long_bone_is_held_first(answers):
    order = first_discussed(answers)
    assert order, f"nothing aimed at the bone is discussed for {answers}"
    assert order[0] in HOLDS, f"{order[0]} is discussed before any way to hold the bone: {answers}"

