"""The vocabulary lives in rules/: no answer value, field name, option, red flag or caution id is
typed into Python, templates or CSS; what the code must know about the vocabulary is declared
in rules/meta.yaml ('vocabulary') and rules/questionnaire.yaml (only_if, exclusive)."""
from __future__ import annotations

import ast
import glob
import os
import re

import pytest

from bonemets import rules as engine
from bonemets.paths import REPO

# Where a vocabulary word may appear in code, and why. Keys: (file relative to the repo, word).
ALLOWED = {
    ("bonemets/rules.py", "unknown"): "the engine's definition of \"I don't know\" (UNKNOWN), "
                                      "checked equal to meta.yaml's vocabulary.dont_know below",
    ("bonemets/loader.py", "priorities"): "the catalog field 'priorities' of options.yaml "
                                          "(OPTION_FIELDS); the question it names is "
                                          "meta.yaml's vocabulary.priorities_field",
    ("bonemets/present.py", "priorities"): "the catalog field 'priorities' of options.yaml",
    ("bonemets/outcomes.py", "high"): "GRADE certainty levels (the contract's outcome 'certainty' "
                                      "codes high/moderate/low/very_low), not answers",
    ("bonemets/outcomes.py", "low"): "GRADE certainty levels, as above",
    ("bonemets/iconarray.py", "high"): "GRADE certainty levels, as above (their plain words)",
    ("bonemets/iconarray.py", "low"): "GRADE certainty levels, as above (their plain words)",
    ("bonemets/present_values.py", "priorities"): "the catalog field 'priorities' of options.yaml "
                                                  "(the facts beside each value in the steps)",
}
# Words of the rule book's own structure that are also answer values: question kinds (one),
# the group of an option no rule places (other), a condition key (none), and environment
# switches in app.py (yes). They are never used as answers in code.
STRUCTURE = {"one", "other", "none", "yes"}


@pytest.fixture(scope="module")
def vocabulary(rulebook):
    words = {v for f in rulebook.fields.values() for v in f.values}
    words |= set(rulebook.fields) | set(rulebook.options) | set(rulebook.flags) | set(rulebook.cautions)
    return words - STRUCTURE


def _docstrings(tree) -> set:
    return {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}


def _python_literals(path: str):
    tree = ast.parse(open(path, encoding="utf-8").read())
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


def _template_literals(path: str):
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"\{\{.*?\}\}|\{%.*?%\}", text, re.S):
        line = text.count("\n", 0, m.start()) + 1
        for a, b in re.findall(r"'([^']*)'|\"([^\"]*)\"", m.group(0)):
            yield line, a or b
    # data-only-if tokens and the like written straight into the HTML
    for m in re.finditer(r"=\"([^\"{}]*)\"", text):
        yield text.count("\n", 0, m.start()) + 1, m.group(1)


def _css_words(path: str):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for m in re.finditer(r"\"([^\"]*)\"|'([^']*)'|\.([a-z][a-z0-9_-]*)", text):
        line = text.count("\n", 0, m.start()) + 1
        lit = m.group(1) or m.group(2) or m.group(3) or ""
        for word in re.split(r"[=\s~]|--", lit):
            yield line, word


def _found(vocabulary):
    hits = []
    for path in sorted(glob.glob(os.path.join(REPO, "bonemets", "**", "*.py"), recursive=True)) + [
            os.path.join(REPO, "app.py")]:
        hits += [(path, line, lit) for line, lit in _python_literals(path) if lit in vocabulary]
    for path in sorted(glob.glob(os.path.join(REPO, "templates", "*.html"))):
        hits += [(path, line, w) for line, lit in _template_literals(path)
                 for w in re.split(r"[=\s]", lit) if w in vocabulary]
    for path in sorted(glob.glob(os.path.join(REPO, "static", "*.css"))):
        hits += [(path, line, w) for line, w in _css_words(path) if w in vocabulary]
    return [(os.path.relpath(p, REPO), line, w) for p, line, w in hits]


def test_no_vocabulary_outside_rules(vocabulary):
    hits = [h for h in _found(vocabulary) if (h[0], h[2]) not in ALLOWED]
    assert not hits, ("vocabulary typed into code (declare it in rules/meta.yaml 'vocabulary' or "
                      "rules/questionnaire.yaml instead): "
                      + "; ".join(f"{p}:{line} {w!r}" for p, line, w in hits))


def test_the_grep_finds_what_it_should(vocabulary, tmp_path, monkeypatch):
    """The check can fail: a value typed into Python, a template and CSS is found."""
    (tmp_path / "bonemets").mkdir()
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "app.py").write_text('"""doc: breast"""\nX = 1\n')
    (tmp_path / "bonemets" / "x.py").write_text('def f(a):\n    return a.get("primary_cancer") == "breast"\n')
    (tmp_path / "templates" / "x.html").write_text("{% if v == 'leg_weakness' %}<p data-x=\"surgery\">{% endif %}")
    (tmp_path / "static" / "x.css").write_text('/* breast */ [value="prostate"] .choice { }\n')
    import test_vocabulary as me
    monkeypatch.setattr(me, "REPO", str(tmp_path))
    words = {w for _, _, w in _found(vocabulary)}
    assert words == {"primary_cancer", "breast", "leg_weakness", "surgery", "prostate"}


def test_allow_list_is_needed(vocabulary):
    """Every allow-list entry still matches something (no stale exceptions)."""
    found = {(p, w) for p, _, w in _found(vocabulary)}
    assert set(ALLOWED) <= found, set(ALLOWED) - found


def test_meta_vocabulary_names_real_answers(rulebook):
    v = rulebook.meta["vocabulary"]
    assert v["dont_know"] == engine.UNKNOWN
    every_value = {x for f in rulebook.fields.values() for x in f.values}
    assert set(v["unsure_answers"]) <= every_value and v["dont_know"] in v["unsure_answers"]
    assert v["priorities_field"] in rulebook.fields
    assert rulebook.fields[v["priorities_field"]].kind == "many"
    assert set(v["listed_groups"]) <= set(engine.GROUPS)
    assert list(rulebook.meta["groups"]) == list(engine.GROUPS), "meta.yaml lists every group in page order"
    # Every question can be answered "I don't know" (or "not sure", "not discussed").
    for name, f in rulebook.fields.items():
        if f.kind != "number" and name != "symptoms_now":
            assert set(f.values) & (set(v["unsure_answers"]) | {"not_discussed"}), name


def test_follow_up_css_is_made_from_the_questionnaire(client, rulebook):
    r = client.get("/followup.css")
    assert r.status_code == 200 and r.mimetype == "text/css"
    css = r.get_data(as_text=True)
    followups = [(name, lead, v) for name, f in rulebook.fields.items()
                 for lead, values in f.only_if.items() for v in values]
    assert followups, "the questionnaire has follow-up questions"
    for name, lead, v in followups:
        assert f'input[name="{lead}"][value="{v}"]:checked) [data-only-if~="{lead}={v}"]' in css
    html = client.get("/questionnaire").get_data(as_text=True)
    assert 'href="/followup.css"' in html
    for name, lead, v in followups:
        assert f'data-only-if="{lead}={v}"' in html.split(f'id="q-{name}"')[1][:200]


# --------------------------------------------------------------------------------------------
# No interface wording in Python: the words a person reads come from rules/ (clinical) or
# bonemets/messages.py (the interface, with its Spanish in translations/), never from a string
# typed into another module.
# --------------------------------------------------------------------------------------------
# Modules whose English sentences are not shown to the people the guide is for, and why.
WORDING_FILES = {
    "bonemets/messages.py": "the interface's message catalog itself",
    "bonemets/loader.py": "RuleBookError messages for rule authors (flask rules check)",
    "bonemets/rules.py": "RuleBookError and AttributeError for authors and developers",
    "bonemets/outcomes.py": "RuleBookError messages for rule authors",
    "bonemets/decision.py": "RuleBookError messages for rule authors",
    "bonemets/i18n.py": "RuleBookError messages and file headers for translators",
    "bonemets/safety.py": "RuleBookError messages and the prover's report for rule authors "
                          "(describe()'s words are messages.safety_statement)",
    "bonemets/engine.py": "the Python source the engine writes and compiles (code, not words; "
                          "the words in it are the rule book's own, written in with repr())",
    "bonemets/cli.py": "the command line for rule authors",
    "bonemets/scenarios.py": "scenario failures for rule authors (flask rules test)",
    "bonemets/translations.py": "start-up errors and logs for the operator",
    "bonemets/fhir.py": "record.yaml errors for rule authors (RuleBookError) and FHIRPath "
                        "expressions (the resources' titles are messages.FHIR_TEXTS)",
}
# Single strings elsewhere that are not interface wording, and why.
WORDING_STRINGS = {
    ("bonemets/errors.py", "Error page failed: %s"): "a log line for the operator",
    ("bonemets/errors.py", "Unhandled error on %s %s: %s"): "a log line for the operator",
    ("bonemets/security.py", "The request body could not be read."):
        "werkzeug's description of the 400, never shown: the page says messages.HTTP_ERRORS[400]",
    ("bonemets/iconarray.py", "count must be a whole number from 0 to {}"): "a ValueError for developers",
    ("bonemets/pdf.py", "refusing to fetch {} while rendering a PDF"): "an exception for the log",
    ("bonemets/pdf_pool.py", "the PDF helper process stopped"):
        "pdf.Busy's reason, for the log: the page says messages.HTTP_ERRORS[503]",
    ("bonemets/pdf_pool.py", "the PDF took too long"):
        "pdf.Busy's reason, for the log: the page says messages.HTTP_ERRORS[503]",
    ("bonemets/fragments.py", "once({}): only ids, words, numbers, flags and tuples of them"):
        "a TypeError for developers",
    ("bonemets/templating.py", "install the template environment before app.jinja_env"):
        "a RuntimeError for developers (the app's set-up order)",
    ("bonemets/web.py", "/* Made from rules/questionnaire.yaml (only_if) by bonemets/web.py. */"):
        "the comment at the top of /followup.css",
    ("bonemets/proxy_words.py", "# Made by `flask --app app deploy nginx-words`"):
        "the comment at the top of deploy/nginx/bonemets-words.conf",
    ("bonemets/proxy_words.py", "{}: nginx cannot send a '$'"): "a ValueError for developers",
}


def _sentence(s: str) -> bool:
    """Looks like words for a person (not a markup or FHIRPath fragment): three words or more,
    two of them side by side; or a label such as "Time: " before a value."""
    if "<" in s or '="' in s:
        return False
    words = len(re.findall(r"[A-Za-z]{2,}", s)) >= 3 and re.search(
        r"(?<![-\w])[A-Za-z]{2,}:? [a-z]{2,}(?![-\w])", s)
    return bool(words or re.search(r"(?<![-\w])[A-Z][a-z]+: ", s))


def _allowed(rel: str, s: str) -> bool:
    return any(rel == r and s.startswith(a) for r, a in WORDING_STRINGS)


def _python_strings(path: str):
    """Every string literal but docstrings; an f-string as one string, {} for each value."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    docs = _docstrings(tree)
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}"
                                       for v in node.values)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docs and id(node) not in parts):
            yield node.lineno, node.value


def _wording(repo):
    hits = []
    for path in sorted(glob.glob(os.path.join(repo, "bonemets", "**", "*.py"), recursive=True)):
        rel = os.path.relpath(path, repo).replace(os.sep, "/")
        if rel in WORDING_FILES:
            continue
        hits += [(rel, line, s) for line, s in _python_strings(path)
                 if _sentence(s) and not _allowed(rel, s)]
    return hits


def test_no_interface_wording_in_python():
    hits = _wording(REPO)
    assert not hits, ("interface wording typed into Python (put it in bonemets/messages.py with "
                      "_l(...) and its Spanish in translations/es/LC_MESSAGES/messages.po): "
                      + "; ".join(f"{p}:{line} {s[:60]!r}" for p, line, s in hits))


def test_the_wording_grep_finds_what_it_should(tmp_path):
    """The check can fail: a sentence in a string, in an f-string and in a ngettext call is found;
    a docstring, a CSS class and messages.py are not."""
    (tmp_path / "bonemets").mkdir()
    (tmp_path / "bonemets" / "messages.py").write_text('X = "Words that belong here."\n')
    (tmp_path / "bonemets" / "x.py").write_text(
        '"""A docstring with many words."""\n'
        'TITLE = "Options you could ask about"\n'
        'def f(n, name):\n'
        '    """Another docstring here too."""\n'
        '    cls = "ia-svg ia-area"\n'
        '    return f"Time: {n} months from {name}", f"{n} of the people", f"{name}. Time: {n}."\n')
    found = sorted(s for _, _, s in _wording(str(tmp_path)))
    assert found == ["Options you could ask about", "Time: {} months from {}", "{} of the people",
                     "{}. Time: {}."]


def test_every_allowed_wording_string_is_still_there():
    for (rel, s), why in WORDING_STRINGS.items():
        assert any(x.startswith(s) for _, x in _python_strings(os.path.join(REPO, rel))), (rel, s, why)
    for rel in WORDING_FILES:
        assert os.path.exists(os.path.join(REPO, rel)), rel
