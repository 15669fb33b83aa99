"""HTTP tests of the pages with the Flask test client."""
from __future__ import annotations

import re

import pytest



def form_data(answers):
    return {k: v for k, v in answers.items()}


def checked(html, name, value):
    return re.search(rf'name="{name}" value="{re.escape(value)}" checked', html) is not None


@pytest.mark.parametrize("url", ["/", "/questionnaire", "/rules", "/about", "/steps/1", "/steps/8"])
def test_pages_have_the_caveat_and_version(client, rulebook, url):
    r = client.get(url)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert rulebook.caveat in html
    assert rulebook.version in html
    assert '<html lang="en">' in html


def test_start_page_explains_and_links(client, rulebook):
    html = client.get("/").get_data(as_text=True)
    for words in ["What this guide does", "What it does not do", "Your privacy", "/steps/1",
                  "/questionnaire"]:
        assert words in html
    assert " ".join(rulebook.meta["emergency_notice"].split()) in " ".join(html.split())


def test_questionnaire_has_every_field_once_per_value(client, rulebook):
    html = client.get("/questionnaire").get_data(as_text=True)
    for name, f in rulebook.fields.items():
        if f.kind == "number":
            assert f'name="{name}"' in html
            continue
        for value in f.values:
            assert html.count(f'name="{name}" value="{value}"') == 1, (name, value)
        # "I don't know" on every question
        assert any(v in f.values for v in ("unknown", "not_sure", "not_discussed")), name
    for s in rulebook.sections:
        assert f'href="#section-{s.id}"' in html
    assert html.count("<fieldset") == sum(1 for f in rulebook.fields.values() if f.kind != "number")


def test_valid_post_shows_results(client, rulebook, typical):
    r = client.post("/plan", data=form_data(typical))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert html.count(rulebook.caveat) >= 2, "caveat at the top and the bottom"
    for oid in rulebook.options:
        assert html.count(f'data-option="{oid}"') == 1, oid
    assert 'data-option="external_beam_radiation" data-group="discuss"' in html
    assert "Because you said: Places that hurt: One or two" in html
    assert 'href="/rules#ebrt-painful-bone"' in html
    assert "Options often discussed for situations like yours" in html
    assert "Questions to ask your care team" in html
    assert 'id="src-ASTRO-2024"' in html
    assert "Print my summary" in html and "Download PDF" in html
    assert "Options side by side" in html


def test_red_flag_comes_first(client):
    r = client.post("/plan", data={"primary_cancer": "breast", "symptoms_now": ["leg_weakness"]})
    html = r.get_data(as_text=True)
    assert 'data-flag="spinal_cord_compression" data-urgency="emergency"' in html
    assert html.index('data-flag="spinal_cord_compression"') < html.index('data-option=')
    assert "Get emergency help now" in html
    assert "for\n  later" in html or "for later" in html.replace("\n  ", " ")


def test_empty_questionnaire_is_valid(client):
    r = client.post("/plan", data={})
    assert r.status_code == 200
    assert "What type of cancer is in my bones" in r.get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("pain_score", "12", "Enter a whole number from 0 to 10"),
    ("pain_score", "a lot", "Enter a whole number from 0 to 10"),
    ("primary_cancer", "liver", "is not one of the answers"),
    ("bone_sites", "toe", "is not one of the answers"),
])
def test_invalid_answer_reshows_form_and_keeps_answers(client, typical, field, value, message):
    data = form_data(typical)
    data[field] = value
    r = client.post("/plan", data=data)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "There is a problem" in html
    assert message in html
    assert f'<a href="#{field}-0">' in html, "error summary links to the field"
    assert 'aria-describedby="' in html and f"{field}-error" in html
    assert html.startswith("<!doctype html>") and "<title>Error:" in html
    for name, v in typical.items():
        if name == field:
            continue
        for item in (v if isinstance(v, list) else [v]):
            assert checked(html, name, item), f"answer {name}={item} was lost"
    if field == "pain_score":
        assert f'value="{value}"' in html, "what the person typed is kept"


def test_missing_csrf_token_is_refused_and_answers_kept(csrf_client, typical):
    r = csrf_client.post("/plan", data=form_data(typical))
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Please send your answers again" in html
    assert checked(html, "primary_cancer", "breast")
    assert checked(html, "bone_sites", "spine")


def test_real_csrf_token_is_accepted(csrf_client, typical):
    page = csrf_client.get("/questionnaire").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = form_data(typical)
    data["csrf_token"] = token
    r = csrf_client.post("/plan", data=data)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    # The results page carries the answers (and a token) to the summary and PDF.
    token2 = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html)
    assert ("primary_cancer", "breast") in hidden and ("bone_sites", "spine") in hidden
    fields = {}
    for k, v in hidden:
        fields.setdefault(k, []).append(v)
    fields["csrf_token"] = token2
    r2 = csrf_client.post("/summary", data=fields)
    assert r2.status_code == 200
    assert "My discussion summary" in r2.get_data(as_text=True)


def test_edit_answers_prefills_the_form(client, typical):
    r = client.post("/questionnaire", data=form_data(typical))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert checked(html, "primary_cancer", "breast") and checked(html, "priorities", "stay_mobile")
    assert "There is a problem" not in html


# -- step by step ---------------------------------------------------------------------------
def post_step(client, step, answers, go="next"):
    data = dict(answers)
    data.update({"step": str(step), "go": go})
    return client.post("/steps", data=data)


def step_of(rulebook, field):
    return next(i for i, s in enumerate(rulebook.sections, start=1) if field in s.fields)


def test_steps_walk_back_and_change(client, rulebook):
    total = len(rulebook.sections)
    c, b = step_of(rulebook, "primary_cancer"), step_of(rulebook, "bone_sites")
    assert b == c + 1
    r = client.get(f"/steps/{c}")
    html = r.get_data(as_text=True)
    assert f"Step {c} of {total}" in html and f"<title>Step {c} of" in html
    assert 'name="primary_cancer"' in html and 'name="bone_sites"' not in html
    answers = {"primary_cancer": "prostate", "prostate_status": "castration_resistant"}
    html = post_step(client, c, answers).get_data(as_text=True)
    assert f"Step {b} of {total}" in html
    # answers from the earlier step travel as hidden fields
    assert '<input type="hidden" name="primary_cancer" value="prostate">' in html
    answers["bone_sites"] = ["spine", "pelvis"]
    html = post_step(client, b, answers, go="back").get_data(as_text=True)
    assert f"Step {c} of" in html and checked(html, "primary_cancer", "prostate")
    assert '<input type="hidden" name="bone_sites" value="pelvis">' in html
    for n in range(1, total):
        html = post_step(client, n, answers).get_data(as_text=True)
        assert f"Step {n + 1} of {total}" in html
    html = post_step(client, total, answers).get_data(as_text=True)
    assert "Check your answers" in html
    assert "Spine (backbone or neck); Pelvis or hip socket" in html
    assert f'value="edit-{b}"' in html
    html = client.post("/steps", data={**answers, "step": "check", "go": f"edit-{b}"}).get_data(as_text=True)
    assert f"Step {b} of" in html and checked(html, "bone_sites", "pelvis")
    # "Change" returns to the check page after saving, not through the later steps.
    assert '<input type="hidden" name="then" value="check">' in html
    answers["bone_sites"] = ["ribs"]
    html = client.post("/steps", data={**answers, "step": str(b), "go": "next", "then": "check"}
                       ).get_data(as_text=True)
    assert "<title>Check your answers" in html and "Ribs" in html


def test_step_error_stays_on_step_and_keeps_answers(client, rulebook):
    n = step_of(rulebook, "pain_score")
    r = post_step(client, n, {"primary_cancer": "lung", "pain_score": "15", "pain_control": "controlled"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert f"Step {n} of" in html and "<title>Error:" in html
    assert 'value="15"' in html and checked(html, "pain_control", "controlled")
    assert '<input type="hidden" name="primary_cancer" value="lung">' in html


def test_unknown_step_is_404(client):
    assert client.get("/steps/99").status_code == 404


# -- summary and PDF --------------------------------------------------------------------------
def test_summary_contents(client, rulebook, typical):
    r = client.post("/summary", data=form_data(typical))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    plan = rulebook.plan(rulebook.validate_answers(typical)[0])
    assert rulebook.caveat in html
    assert plan.rules_version in html and plan.reviewed in html
    for o in plan.by_group("discuss"):
        assert rulebook.options[o.id]["name"] in html
    for q in plan.questions:
        assert q["text"] in html
    for heading in ["My situation", "Options to talk about", "The options side by side",
                    "What matters most to me", "Questions to ask", "Am I ready to decide?",
                    "My notes", "Sources"]:
        assert heading in html
    assert "Going to hospital as few times as possible" in html
    assert "print.css" in html


def test_empty_summary_is_still_useful(client, rulebook):
    html = client.post("/summary", data={}).get_data(as_text=True)
    assert "What type of cancer is in my bones" in html
    assert "Not answered" in html
    assert "Things people often weigh up" in html


def _pdftotext(data, tmp_path):
    import subprocess
    pdf = tmp_path / "s.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_pdf_download(client, rulebook, typical, tmp_path):
    r = client.post("/summary.pdf", data=form_data(typical))
    assert r.status_code == 200
    assert r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")
    assert re.match(r'attachment; filename="bone-mets-discussion-\d{4}-\d{2}-\d{2}\.pdf"',
                    r.headers["Content-Disposition"])
    text = " ".join(_pdftotext(r.data, tmp_path).split())
    plan = rulebook.plan(rulebook.validate_answers(typical)[0])
    assert text.count("This is not medical advice") >= 2, "caveat on every page"
    for o in plan.by_group("discuss"):
        assert rulebook.options[o.id]["name"] in text
    for q in plan.questions[:5]:
        assert " ".join(q["text"].split()[:6]) in text
    assert "ASTRO-2024" in text and "Sources" in text
    assert "Page 1 of" in text


def test_pdf_of_an_empty_questionnaire(client, tmp_path):
    r = client.post("/summary.pdf", data={})
    assert r.status_code == 200
    text = " ".join(_pdftotext(r.data, tmp_path).split())
    assert "What type of cancer is in my bones" in text


def test_pdf_invalid_input_reshows_form(client):
    r = client.post("/summary.pdf", data={"pain_score": "99"})
    assert r.status_code == 400 and r.mimetype == "text/html"


# -- rules and about ---------------------------------------------------------------------------
def test_rules_page_lists_every_rule_with_sources_and_date(client, rulebook):
    html = client.get("/rules").get_data(as_text=True)
    for rule in rulebook.all_rules():
        options = getattr(rule, "options", None) or ()
        if rule.kind == "placement" and len(options) > 1:
            # shown under each option it places, each copy with its own id
            for oid in options:
                assert html.count(f'id="{rule.id}--{oid}"') == 1, (rule.id, oid)
        # every rule answers to its own id (the contract's "each rule anchored by its id": a
        # rule of several options at its first copy, around the copy's own id)
        assert html.count(f'id="{rule.id}"') == 1, rule.id
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert "If Places that hurt is" in html
    assert "Reviewed 2026-11-27" in html
    for key in rulebook.sources:
        assert f'id="src-{key.replace("/", "-").replace(".", "-")}"' in html


def test_every_reason_on_results_links_to_a_rule_on_rules_page(client, typical):
    results = client.post("/plan", data=form_data(typical)).get_data(as_text=True)
    rules = client.get("/rules").get_data(as_text=True)
    links = set(re.findall(r'href="/rules#([\w-]+)"', results))
    assert links
    for rid in links:
        assert f'id="{rid}"' in rules


def test_about_page_covers_ipdas_items(client):
    html = client.get("/about").get_data(as_text=True)
    for words in ["How the rule book was made", "Version and updates", "no funding",
                  "conflicts of interest", "Report a problem", "Known gaps"]:
        assert words in html


def test_healthz(client, rulebook):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok", "rules_version": rulebook.version}


def test_404_page_has_caveat(client, rulebook):
    r = client.get("/nope")
    assert r.status_code == 404 and rulebook.caveat in r.get_data(as_text=True)


def test_405_is_friendly(client):
    r = client.get("/summary.pdf")
    assert r.status_code == 405
