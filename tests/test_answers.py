"""One answer validator (bonemets/answers.py) for the one-page form, the steps and the JSON API:
the three accept and refuse exactly the same answers."""
from __future__ import annotations

import pytest

from bonemets.answers import Problem, validate

CASES = [
    ("pain_score", "-3"), ("pain_score", "07"), ("pain_score", " 7 "), ("pain_score", "7.0"),
    ("pain_score", "²"), ("pain_score", "11"), ("pain_score", "0"), ("pain_score", "10"),
    ("pain_score", "1e1"), ("pain_score", "9" * 7), ("primary_cancer", "liver"),
    ("primary_cancer", "breast"), ("bone_sites", "toe"), ("bone_sites", "spine"),
]


@pytest.mark.parametrize("field, value", CASES)
def test_form_steps_and_api_agree(client, rulebook, field, value):
    api = client.post("/api/plan", json={field: value})
    form = client.post("/plan", data={field: value})
    section = next(i for i, s in enumerate(rulebook.sections, start=1) if field in s.fields)
    step = client.post("/steps", data={field: value, "step": str(section), "go": "next"})
    refused = {"api": api.status_code == 400, "form": form.status_code == 400,
               "steps": step.status_code == 400}
    assert len(set(refused.values())) == 1, refused
    expected = validate(rulebook.fields, {field: value})[1]
    assert refused["api"] == bool(expected)


def test_problems_are_codes_with_parameters(rulebook):
    _, problems = validate(rulebook.fields, {"pain_score": "-3", "primary_cancer": "liver",
                                             "height": 1, "bone_sites": ["spine", 3]})
    assert problems == {"pain_score": Problem("out_of_range", {"min": 0, "max": 10}),
                        "primary_cancer": Problem("not_a_choice", {"value": "liver"}),
                        "height": Problem("unknown_field", {}),
                        "bone_sites": Problem("not_a_list", {})}
    assert validate(rulebook.fields, [])[1] == {"_body": Problem("not_an_object", {})}


def test_the_interface_words_each_problem(client):
    d = client.post("/api/plan", json={"pain_score": "-3", "primary_cancer": ["breast"]}).get_json()
    assert d["errors"]["pain_score"] == "Enter a whole number from 0 to 10."
    assert d["errors"]["primary_cancer"] == "Choose one answer, not a list."
    html = client.post("/plan", data={"pain_score": "-3"}).get_data(as_text=True)
    assert "Enter a whole number from 0 to 10 for" in html

