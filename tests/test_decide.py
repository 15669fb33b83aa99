"""The decision, stated; values and steps; the SURE check on screen, in the summary and the PDF;
/about (method, people, readability, next review); the CDC Clear Communication Index script
(issue 11, deliverables 4-7)."""
from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from bonemets.paths import REPO, RULES_DIR
from bonemets.present import present
from bonemets.present_values import LEANING, PREFIX, SURE_ANSWERS, SURE_ITEMS, UNDECIDED
from bonemets.rules import RuleBookError, load_rulebook
from test_content import MAX_GRADE, grade, visible_text

YES, NO = SURE_ANSWERS


def _section(html: str, element_id: str, attr: str = "id") -> str:
    """The HTML of the element whose ``attr`` is ``element_id``, up to its closing tag."""
    start = html.index(f'{attr}="{element_id}"')
    start = html.rindex("<", 0, start)
    tag = re.match(r"<(\w+)", html[start:]).group(1)
    depth, i = 0, start
    for m in re.finditer(rf"<(/?){tag}\b", html[start:]):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            i = start + m.end()
            break
    return html[start:html.index(">", i) + 1]


def _plan(client, answers):
    r = client.post("/plan", data=answers)
    assert r.status_code == 200
    return r.get_data(as_text=True)


def _nnt(rulebook):
    return rulebook.decision["nothing_new"]["option"]


# ----------------------------------------------------------------------------------------------
# 4. The decision, stated; the explainer; no new treatment
# ----------------------------------------------------------------------------------------------
def test_decision_box_is_at_the_top_and_states_the_decision(client, typical, rulebook):
    html = _plan(client, typical)
    box = _section(html, "decision")
    d = rulebook.decision["decision"]
    for key in ("what", "combine", "no_right_answer"):
        assert d[key] in box, key
    # before every option card, the steps and the sources
    assert html.index('id="decision"') < html.index('class="option ')
    assert html.index('id="decision"') < html.index('id="steps"')


def test_decision_box_names_the_options_most_often_discussed(client, typical, rulebook):
    html = _plan(client, typical)
    plan = rulebook.plan(typical)
    box = _section(html, "decision")
    discussed = [o for o in plan.options if o.group == "discuss"]
    assert discussed
    for o in discussed:
        assert f'href="#option-{o.id}"' in box and rulebook.options[o.id]["name"] in box
    for o in plan.options:
        if o.group not in ("discuss",) and o.id != _nnt(rulebook):
            assert f'href="#option-{o.id}"' not in box, o.id


def test_explainer_says_what_bone_metastases_can_cause(client, typical, rulebook):
    html = _plan(client, typical)
    ex = _section(html, "explainer")
    e = rulebook.decision["explainer"]
    assert e["intro"] in ex and e["aim"] in ex
    for p in e["problems"]:
        assert p["text"] in ex
    # its sources are behind "where this comes from", with the full reference
    for k in {k for p in e["problems"] for k in p["sources"]}:
        assert rulebook.sources[k]["title"] in ex


@pytest.mark.parametrize("answers", [
    "typical",
    {"primary_cancer": "lung"},
    {"symptoms_now": ["leg_weakness"], "calcium": "high"},
    {"activity_level": "bedbound", "outlook": "weeks", "primary_cancer": "breast"},
])
def test_no_new_treatment_is_on_every_plan_with_what_usually_happens(client, typical, rulebook, answers):
    answers = typical if answers == "typical" else answers
    html = _plan(client, answers)
    oid = _nnt(rulebook)
    plan = rulebook.plan(answers)
    group = {o.id: o.group for o in plan.options}[oid]
    assert group in rulebook.meta["vocabulary"]["listed_groups"], group
    assert html.count(f'data-option="{oid}"') == 1
    card = _section(html, f"option-{oid}")
    cat = rulebook.options[oid]
    for line in cat["downsides"] + cat["benefits"]:  # what usually happens, in balance
        assert line in card
    box = _section(html, "decision")
    assert rulebook.decision["nothing_new"]["lead"] in box and f'href="#option-{oid}"' in box


# ----------------------------------------------------------------------------------------------
# 5. Values and steps
# ----------------------------------------------------------------------------------------------
def test_four_steps_in_order(client, typical):
    steps = _section(_plan(client, typical), "steps")
    ids = re.findall(r'id="step-(\w+)"', steps)
    assert ids == ["learn", "weigh", "check", "decide"]
    assert "<script" not in steps
    assert re.search(r'<form method="post" action="/summary"', steps)


def _listed(rulebook, answers) -> list:
    """Every listed option's id, in the order the page lists them (bonemets/present.py
    order_cards): exactly the options of the listed groups."""
    plan = rulebook.plan(answers)
    listed = [c["id"] for c in present(rulebook, plan, answers).listed]
    assert set(listed) == {o.id for o in plan.options
                           if o.group in rulebook.meta["vocabulary"]["listed_groups"]}
    return listed


def test_each_chosen_priority_has_how_much_and_every_listed_options_fact(client, typical, rulebook):
    steps = _section(_plan(client, typical), "steps")
    listed = _listed(rulebook, typical)
    rows = re.findall(r'<fieldset class="value-row" data-priority="(\w+)">(.*?)</fieldset>', steps, re.S)
    assert [p for p, _ in rows] == typical["priorities"]
    for p, body in rows:
        assert len(re.findall(rf'name="{PREFIX}matter_{p}"', body)) == 3
        # every listed option, in the order listed: the same order in every row (never a ranking)
        assert re.findall(r'data-fact-option="(\w+)"', body) == listed
        for oid in listed:
            fact = rulebook.options[oid]["priorities"].get(p)
            if fact:
                assert fact in body, (p, oid)
        for word in ("best", "winner", "score:", "points", "ranked", "rank"):
            assert not re.search(rf"\b{word}\b", visible_text(body), re.I), word


def test_no_values_rows_when_no_priority_is_chosen(client, typical):
    for priorities in (None, ["not_sure"]):
        answers = {k: v for k, v in typical.items() if k != "priorities"}
        if priorities:
            answers["priorities"] = priorities
        steps = _section(_plan(client, answers), "steps")
        assert 'class="value-row"' not in steps
        assert 'class="no-values"' in steps
        assert 'id="step-check"' in steps and 'id="step-decide"' in steps


def test_leaning_offers_every_listed_option_and_not_sure(client, typical, rulebook):
    steps = _section(_plan(client, typical), "steps")
    listed = _listed(rulebook, typical)
    values = re.findall(rf'name="{LEANING}" value="(\w+)"', steps)
    assert values == listed + [UNDECIDED]


def test_sure_check_on_screen(client, typical):
    steps = _section(_plan(client, typical), "steps")
    for item in SURE_ITEMS:
        assert f'data-sure="{item}"' in steps
        for v in SURE_ANSWERS:
            assert f'name="{PREFIX}sure_{item}" value="{v}"' in steps
    assert "Ottawa Hospital Research Institute" in steps
    # every radio of the steps has its own label
    ids = re.findall(r'<input type="radio" id="([^"]+)"', steps)
    assert len(ids) == len(set(ids)) > 8
    for i in ids:
        assert f'<label for="{i}">' in steps, i


def _chosen(typical, rulebook):
    lean = next(o.id for o in rulebook.plan(typical).options if o.group == "discuss")
    return lean, dict(typical, **{
        f"{PREFIX}matter_{typical['priorities'][0]}": "a_lot",
        LEANING: lean,
        f"{PREFIX}sure_sure": NO, f"{PREFIX}sure_understand": YES,
        f"{PREFIX}sure_risk_benefit": YES, f"{PREFIX}sure_encouragement": NO})


def test_step_answers_are_carried_into_the_summary(client, typical, rulebook):
    lean, posted = _chosen(typical, rulebook)
    r = client.post("/summary", data=posted)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    sure = _section(html, "s-sure", "aria-labelledby")
    assert sure.count("X<span") == 4
    assert re.search(rf'data-sure="sure">.*?<td class="box"></td>\s*<td class="box">X', sure, re.S)
    assert re.search(rf'data-sure="understand">.*?<td class="box">X', sure, re.S)
    assert 'My SURE score: 2 of 4 answered "Yes".' in sure
    assert "ask about a nurse or a decision coach" in sure
    steps = _section(html, "s-steps", "aria-labelledby")
    assert rulebook.options[lean]["name"] in steps
    assert re.search(rf'data-priority="{typical["priorities"][0]}"><strong>[^<]+:</strong>\s*A lot</li>', steps)
    # carried on as hidden fields, so "Back to my options" keeps them
    assert f'name="{LEANING}" value="{lean}"' in html
    back = client.post("/plan", data=posted).get_data(as_text=True)
    assert re.search(rf'name="{LEANING}" value="{lean}" checked', back)
    assert re.search(rf'name="{PREFIX}sure_sure" value="{NO}" checked', back)


def test_summary_without_step_answers_has_empty_boxes(client, typical):
    html = client.post("/summary", data=typical).get_data(as_text=True)
    sure = _section(html, "s-sure", "aria-labelledby")
    assert sure.count('<td class="box"></td>') == 8 and "SURE score" not in sure
    assert "(not chosen yet)" in _section(html, "s-steps", "aria-labelledby")


def test_bad_step_answers_are_dropped_never_an_error(client, typical, rulebook):
    posted = dict(typical, **{LEANING: "<script>", f"{PREFIX}sure_sure": "maybe",
                              f"{PREFIX}matter_{typical['priorities'][0]}": "x" * 5000,
                              f"{PREFIX}matter_longer_life": "a_lot", f"{PREFIX}other": "1"})
    for url in ("/plan", "/summary"):
        r = client.post(url, data=posted)
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert "<script>" not in html and "maybe" not in html and "xxxxx" not in html
        assert f'{PREFIX}matter_longer_life" value="a_lot"' not in html  # not a chosen priority
        assert f'name="{PREFIX}other"' not in html


def test_sure_and_steps_in_the_pdf(client, typical, rulebook):
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is needed: apt-get install poppler-utils")
    lean, posted = _chosen(typical, rulebook)
    r = client.post("/summary.pdf", data=posted)
    assert r.status_code == 200 and r.data[:4] == b"%PDF"
    text = subprocess.run(["pdftotext", "-", "-"], input=r.data, capture_output=True,
                          check=True).stdout.decode()
    flat = " ".join(text.split())
    assert "Am I ready to decide?" in flat
    assert 'My SURE score: 2 of 4 answered "Yes".' in flat
    assert "Do you feel SURE about the best choice for you?" in flat
    assert f"Which way I am leaning: {rulebook.options[lean]['name']}" in flat
    assert "My steps to decide" in flat and rulebook.decision["decision"]["what"] in flat
    assert f"{rulebook.fields['priorities'].label_for(typical['priorities'][0])}: A lot" in flat


# ----------------------------------------------------------------------------------------------
# Plain words
# ----------------------------------------------------------------------------------------------
def test_decision_wording_reads_at_grade_8_or_lower(rulebook):
    d = rulebook.decision
    texts = [d["decision"][k] for k in ("what", "combine", "no_right_answer")]
    texts += [d["nothing_new"]["lead"], d["explainer"]["intro"], d["explainer"]["aim"]]
    texts += [p["text"] for p in d["explainer"]["problems"]]
    assert grade(" ".join(texts)) <= MAX_GRADE
    for t in texts:
        assert grade(t) <= MAX_GRADE + 2, t


def test_decision_box_and_steps_read_at_grade_8_or_lower(client, typical):
    html = _plan(client, typical)
    for element_id in ("decision", "explainer", "steps"):
        text = visible_text(_section(html, element_id))
        assert grade(text) <= MAX_GRADE, (element_id, grade(text))


def test_about_reads_at_grade_8_or_lower(client):
    assert grade(visible_text(client.get("/about").get_data(as_text=True))) <= MAX_GRADE


# ----------------------------------------------------------------------------------------------
# The loader
# ----------------------------------------------------------------------------------------------
def _broken(tmp_path, change):
    root = tmp_path / "rules"
    shutil.copytree(RULES_DIR, root)
    path = root / "decision.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))
    return str(root)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["decision"].pop("no_right_answer"), "no_right_answer"),
    (lambda d: d["decision"].update(combine="  "), "combine"),
    (lambda d: d["explainer"]["problems"][0].update(sources=["Nobody-2099"]), "Nobody-2099"),
    (lambda d: d["explainer"].update(problems=[]), "problems"),
    (lambda d: d["nothing_new"].update(option="no_such_option"), "no_such_option"),
    (lambda d: d.pop("reviewed"), "reviewed"),
    (lambda d: d.update(extra="x"), "extra"),
    (lambda d: d["decision"].pop("sources"), "sources"),
])
def test_loader_rejects_a_bad_decision_file(tmp_path, change, message):
    with pytest.raises(RuleBookError) as e:
        load_rulebook(_broken(tmp_path, change))
    assert "decision.yaml" in str(e.value) and message in str(e.value)


def test_loader_rejects_bad_readability(tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(RULES_DIR, root)
    meta = yaml.safe_load((root / "meta.yaml").read_text())
    meta["readability"]["scores"][0].pop("smog_index")
    (root / "meta.yaml").write_text(yaml.safe_dump(meta))
    with pytest.raises(RuleBookError, match="meta.yaml.*readability"):
        load_rulebook(str(root))


# ----------------------------------------------------------------------------------------------
# 7. /about
# ----------------------------------------------------------------------------------------------
def test_about_states_method_people_readability_review_and_reporting(client, rulebook):
    html = client.get("/about").get_data(as_text=True)
    meta = rulebook.meta
    due = meta["reviewed"] + dt.timedelta(days=int(meta["review_interval_days"]))
    assert f"due by <strong>{due.isoformat()}</strong>" in html
    assert " ".join(meta["review_note"].split()) in html
    assert "No named doctor or nurse has signed off this content yet." in html
    assert "software developers, not doctors or nurses" in html
    r = meta["readability"]
    assert r["measured"].isoformat() in html and r["tool"] in html
    for s in r["scores"]:
        assert f"<td>{s['flesch_kincaid_grade']}</td><td>{s['smog_index']}</td>" in html
    assert "0.39 times the words per sentence" in html and "1.043 times the square root" in html
    for heading in ('id="method"', 'id="people"', 'id="reading"', 'id="updates"',
                    'id="field-test"', 'id="report"'):
        assert heading in html
    report = html[html.index('id="report"'):html.index("</main>")]
    assert "Patients and families" in report and "Clinicians" in report
    assert "do not include any personal health details" in report


def test_next_review_follows_the_interval_not_a_typed_date(tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(RULES_DIR, root)
    meta = yaml.safe_load((root / "meta.yaml").read_text())
    meta["review_interval_days"] = 30
    (root / "meta.yaml").write_text(yaml.safe_dump(meta))
    from bonemets.present_values import about_facts
    facts = about_facts(load_rulebook(str(root)))
    assert facts["next_review"] == meta["reviewed"] + dt.timedelta(days=30)


# ----------------------------------------------------------------------------------------------
# 6. The CDC Clear Communication Index script; readability still holds
# ----------------------------------------------------------------------------------------------
SCRIPT = os.path.join(REPO, "scripts", "cdc_index.py")


def _script():
    spec = importlib.util.spec_from_file_location("cdc_index", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cdc_script_scores_one_plan():
    out = subprocess.run([sys.executable, SCRIPT, "--plan", "typical"], capture_output=True,
                         text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    m = re.search(r"typical: automatic CDC Clear Communication Index items met (\d+) of (\d+) -> "
                  r"score (\d+)/100", out.stdout)
    assert m, out.stdout
    met, of, score = map(int, m.groups())
    assert 0 <= met <= of and of >= 10 and score == round(100 * met / of)
    assert out.stdout.count("  [") == of


def test_cdc_script_tells_a_bad_page_from_a_good_one(app, typical):
    mod = _script()
    good = mod.score_page(app.test_client().post("/plan", data=typical).get_data(as_text=True))
    bad = mod.score_page("<html><body><main><p>" + "Administration of the 42.3% regimen "
                         "was associated with statistically significant amelioration. " * 10
                         + "</p></main></body></html>")
    assert mod.score(bad) < mod.score(good)
    ids = {i["id"]: i["met"] for i in bad}
    assert not ids["1"] and not ids["15"] and not ids["7"]


def test_readability_on_about_still_holds(app):
    mod = _script()
    stored = {s["what"]: s for s in app.extensions["bonemets"].meta["readability"]["scores"]}
    for s in mod.readability(app):
        old = stored[s["what"]]
        for key in ("flesch_kincaid_grade", "smog_index"):
            assert abs(old[key] - s[key]) <= 1.0, (
                f"{s['what']}: {key} is now {s[key]}, /about says {old[key]}: re-measure with "
                "python scripts/cdc_index.py --readability and update rules/meta.yaml")
