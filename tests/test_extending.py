"""The structure keeps its promises (docs/ARCHITECTURE.md, "How to ..."):

* a new answer value and a rule that uses it touch only rules/ (with their Spanish texts in
  rules/i18n/es/) and a scenario: the form, the validator, the engine, the presenter, the pages
  and the JSON API pick them up, in every language;
* a new output is one module (here a blueprint in this file), one route and one template, made
  from the presenter's ``Shown``.
"""
from __future__ import annotations

import shutil

import pytest
from flask import Blueprint, Response, render_template_string

from app import create_app
from bonemets import scenarios
from bonemets.paths import RULES_DIR

NEW_RULE = """
  - id: ask-breastbone-test
    when: {bone_sites: sternum}
    text: Could the cancer in my breastbone affect my breathing or heart tests?
    sources: [SOURCES]
    reviewed: 2026-12-01
"""


@pytest.fixture(scope="module")
def extended(tmp_path_factory, rulebook):
    rules = tmp_path_factory.mktemp("extended") / "rules"
    cited = ", ".join(rulebook.rules_by_id["ask-bone-sites"].sources)  # sources of a like question
    shutil.copytree(RULES_DIR, rules)
    q = rules / "questionnaire.yaml"
    text = q.read_text()
    old = "      skull: Skull\n"
    assert text.count(old) == 1
    q.write_text(text.replace(old, old + "      sternum: Breastbone (sternum)\n"))
    qs = rules / "questions.yaml"
    qs.write_text(qs.read_text().rstrip("\n") + "\n" + NEW_RULE.replace("SOURCES", cited))
    # Its texts in Spanish (rules/i18n/es/, the same keys): without them the app would not start.
    es_q = rules / "i18n" / "es" / "questionnaire.yaml"
    old = "      skull: Cráneo\n"
    assert es_q.read_text().count(old) == 1
    es_q.write_text(es_q.read_text().replace(old, old + "      sternum: Esternón\n"))
    es_qs = rules / "i18n" / "es" / "questions.yaml"
    es_qs.write_text(es_qs.read_text().rstrip("\n") + "\n  ask-breastbone-test:\n    text: "
                     "¿El cáncer en mi esternón podría afectar mis pruebas de la respiración o del corazón?\n")
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "RULES_DIR": str(rules)})


def test_new_value_and_rule_need_no_code(extended):
    c = extended.test_client()
    html = c.get("/questionnaire").get_data(as_text=True)
    assert 'name="bone_sites" value="sternum"' in html and "Breastbone (sternum)" in html

    r = c.post("/api/plan", json={"bone_sites": ["sternum", "ribs"]})
    assert r.status_code == 200, r.get_json()
    q = next(q for q in r.get_json()["questions"] if q["rule"] == "ask-breastbone-test")
    assert q["facts"] == [{"field": "bone_sites", "values": ["ribs", "sternum"]}]
    assert q["because"] == ["bone_sites=ribs,sternum"]

    page = c.post("/plan", data={"bone_sites": ["sternum"]}, follow_redirects=True).get_data(as_text=True)
    assert "Could the cancer in my breastbone affect my breathing" in page
    summary = c.post("/summary", data={"bone_sites": ["sternum"]},
                     follow_redirects=True).get_data(as_text=True)
    assert "Breastbone (sternum)" in summary  # the answers in plain words
    assert "/rules" in page and "ask-breastbone-test" in c.get("/rules").get_data(as_text=True)
    es = c.post("/plan?lang=es", data={"bone_sites": ["sternum"]}, follow_redirects=True).get_data(as_text=True)
    assert "¿El cáncer en mi esternón podría afectar" in es
    es = c.post("/summary?lang=es", data={"bone_sites": ["sternum"]}, follow_redirects=True).get_data(as_text=True)
    assert "Esternón" in es

    case = {"name": "breastbone", "answers": {"bone_sites": ["sternum"]},
            "expect": {"questions": ["ask-breastbone-test"]}, "file": "new.yaml"}
    assert scenarios.run(extended.extensions["bonemets"], case)[1] == []


def test_unknown_value_is_still_refused(extended):
    r = extended.test_client().post("/api/plan", json={"bone_sites": ["toe"]})
    assert r.status_code == 400 and "bone_sites" in r.get_json()["errors"]


BRIEF = """{{ caveat }}
{% for card in shown.listed %}- {{ card.name }} ({{ card.group_short }}): {{ card.reasons[0].text }}
{% endfor %}{% for q in shown.questions %}? {{ q }}
{% endfor %}"""


def test_new_output_is_one_module_one_route_one_template():
    from bonemets.views.common import parse_form, plan_context

    brief = Blueprint("brief", __name__)

    @brief.post("/brief.txt")
    def brief_txt():
        answers, error = parse_form()
        if error:
            return error
        return Response(render_template_string(BRIEF, **plan_context(answers)),
                        mimetype="text/plain")

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"})
    app.register_blueprint(brief)
    c = app.test_client()
    r = c.post("/brief.txt", data={"painful_sites": "one_or_two"})
    assert r.status_code == 200 and r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    rb = app.extensions["bonemets"]
    assert text.startswith(rb.caveat)
    assert f"- {rb.options['external_beam_radiation']['name']} (" in text
    assert "? " in text
    bad = c.post("/brief.txt", data={"pain_score": "-3"})
    assert bad.status_code == 400 and "Enter a whole number from 0 to 10" in bad.get_data(as_text=True)


OUTPUT_MODULE = """\"\"\"A one-page handout: an output made as docs/ARCHITECTURE.md says.\"\"\"
from flask import Blueprint, render_template

from bonemets.views.common import parse_form, plan_context

bp = Blueprint("handout", __name__, template_folder="templates")


@bp.post("/handout")
def handout():
    answers, error = parse_form()
    if error:
        return error
    return render_template("handout.html", **plan_context(answers))
"""
OUTPUT_TEMPLATE = """{% import "_macros.html" as m with context %}
<!doctype html><title>{{ _("Options to talk about with your care team") }}</title>
<p class="caveat">{{ caveat }}</p>
{% for card in shown.listed %}{{ m.option_card(card, "print") }}{% endfor %}
{{ m.grid(shown.grid, "print") }}
"""


def test_new_output_is_a_module_a_template_and_one_line(tmp_path, monkeypatch):
    """The write-up of "Add an output", tried with real files: a module with a blueprint (its
    route), its template, and the one line that registers it."""
    import importlib

    (tmp_path / "handout_output").mkdir()
    (tmp_path / "handout_output" / "__init__.py").write_text(OUTPUT_MODULE)
    (tmp_path / "handout_output" / "templates").mkdir()
    (tmp_path / "handout_output" / "templates" / "handout.html").write_text(OUTPUT_TEMPLATE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("handout_output")

    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"})
    app.register_blueprint(module.bp)  # the one line (in bonemets/web.py init_app)
    c = app.test_client()
    r = c.post("/handout", data={"painful_sites": "one_or_two"})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    html = r.get_data(as_text=True)
    rb = app.extensions["bonemets"]
    assert rb.caveat in html
    assert rb.options["external_beam_radiation"]["name"] in html
    es = c.post("/handout?lang=es", data={"painful_sites": "one_or_two"}).get_data(as_text=True)
    assert app.extensions["bonemets_books"]["es"].caveat in es  # every language, no more work
    bad = app.test_client().post("/handout", data={"pain_score": "-3"})
    assert bad.status_code == 400 and "Enter a whole number from 0 to 10" in bad.get_data(as_text=True)


def _imports(path):
    import ast
    tree = ast.parse(open(path, encoding="utf-8").read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            out |= {base} | {f"{base.rstrip('.')}.{a.name}" for a in node.names}
    return out


def test_imports_run_one_way():
    """The engine and the validator know nothing of Flask; nothing but web.py imports a view."""
    import glob
    import os

    from bonemets.paths import PACKAGE
    for name in ("rules.py", "answers.py", "paths.py", "scenarios.py"):
        imports = _imports(os.path.join(PACKAGE, name))
        assert not any(i.split(".")[0] in ("flask", "flask_babel", "flask_wtf", "jinja2")
                       for i in imports), (name, imports)
        assert not any("present" in i or "views" in i or "web" in i for i in imports), (name, imports)
    for path in glob.glob(os.path.join(PACKAGE, "**", "*.py"), recursive=True):
        rel = os.path.relpath(path, PACKAGE)
        if rel in ("web.py",) or rel.startswith("views" + os.sep):
            continue
        assert not any("views" in i for i in _imports(path)), rel


def test_templates_build_no_lists_and_parse_no_engine_strings():
    import glob
    import os

    from bonemets.paths import TEMPLATES_DIR
    for path in glob.glob(os.path.join(TEMPLATES_DIR, "*.html")):
        text = open(path, encoding="utf-8").read()
        assert ".append(" not in text, path
        assert ".because" not in text and "|said" not in text, path  # words come from facts
