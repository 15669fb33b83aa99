"""Languages (issue 15): the rule book's texts per language (rules/i18n/<lang>/), the interface
catalog (translations/), choosing a language, and the checks every language must pass:
readability, no English left on its pages, the same plan in every language."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html import escape as html_escape
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
import textstat
import yaml
from babel.messages.pofile import read_po

from app import create_app
from bonemets import i18n, scenarios
from bonemets.paths import RULES_DIR, SCENARIOS_DIR, TRANSLATIONS_DIR
from bonemets.rules import RuleBookError
from test_content import visible_text

LANGS = ["es"]  # every language but English (the source); a new one is added here only


@pytest.fixture(scope="module")
def books():
    return i18n.load_rulebooks(RULES_DIR, ["en", *LANGS])


def _copy_rules(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    return rules


def _edit_yaml(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# The loader: every text, no unknown ids, the same shape
# ---------------------------------------------------------------------------------------------
def test_a_missing_text_stops_the_app_naming_file_and_id(tmp_path):
    rules = _copy_rules(tmp_path)
    _edit_yaml(rules / "i18n/es/placement/radiation.yaml", lambda d: d.pop("ebrt-painful-bone"))
    with pytest.raises(RuleBookError) as err:
        create_app({"TESTING": True, "SECRET_KEY": "t", "RULES_DIR": str(rules)})
    assert err.value.file == "i18n/es/placement/radiation.yaml"
    assert err.value.rule_id == "ebrt-painful-bone" and "because" in err.value.message


def test_a_new_english_rule_needs_its_translation(tmp_path):
    """An author adds a question rule in English only: the Spanish rule book is incomplete."""
    rules = _copy_rules(tmp_path)
    _edit_yaml(rules / "questions.yaml", lambda d: d["rules"].append(
        {**d["rules"][0], "id": "ask-something-new", "text": "A new question?"}))
    with pytest.raises(RuleBookError) as err:
        i18n.load_rulebooks(str(rules), ["en", "es"])
    assert (err.value.file, err.value.rule_id) == ("i18n/es/questions.yaml", "rules")
    assert "ask-something-new" in err.value.message
    assert i18n.load_rulebooks(str(rules), ["en"])  # English alone still loads


@pytest.mark.parametrize("rel,change,words", [
    ("i18n/es/options.yaml", lambda d: d.__setitem__("no_such_option", {"name": "X"}), "does not have"),
    ("i18n/es/options.yaml", lambda d: d["surgery"].__setitem__("colour", "rojo"), "does not have"),
    ("i18n/es/options.yaml", lambda d: d["surgery"]["benefits"].pop(), "list of 3"),
    ("i18n/es/meta.yaml", lambda d: d.__setitem__("caveat", "  "), "non-empty"),
    ("i18n/es/glossary.yaml", lambda d: d.__setitem__("Not a term", {"term": "x", "means": "y"}), "does not have"),
])
def test_unknown_or_misshapen_texts_are_refused(tmp_path, rel, change, words):
    rules = _copy_rules(tmp_path)
    _edit_yaml(rules / rel, change)
    with pytest.raises(RuleBookError) as err:
        i18n.load_rulebooks(str(rules), ["en", "es"])
    assert err.value.file == rel and words in err.value.message


def test_a_stray_translation_file_and_an_undeclared_language_are_refused(tmp_path):
    rules = _copy_rules(tmp_path)
    (rules / "i18n/es/optoins.yaml").write_text("surgery: {name: Cirugía}\n", encoding="utf-8")
    with pytest.raises(RuleBookError, match="matches no text file"):
        i18n.load_rulebooks(str(rules), ["en", "es"])
    with pytest.raises(RuleBookError, match="'fr' is configured but not declared"):
        i18n.load_rulebooks(RULES_DIR, ["en", "fr"])


def test_safety_statements_need_their_texts_too(tmp_path):
    rules = _copy_rules(tmp_path)
    _edit_yaml(rules / "i18n/es/safety.yaml", lambda d: d.pop("safety-radium-only-prostate"))
    with pytest.raises(RuleBookError) as err:
        i18n.load_rulebooks(str(rules), ["en", "es"])
    assert (err.value.file, err.value.rule_id) == ("i18n/es/safety.yaml", "safety-radium-only-prostate")
    assert "reason" in err.value.message
    rules = _copy_rules(tmp_path / "b")
    _edit_yaml(rules / "i18n/es/safety.yaml", lambda d: d.__setitem__("safety-no-such", {"reason": "x"}))
    with pytest.raises(RuleBookError, match="does not have") as err:
        i18n.load_rulebooks(str(rules), ["en", "es"])
    assert (err.value.file, err.value.rule_id) == ("i18n/es/safety.yaml", "safety-no-such")


# ---------------------------------------------------------------------------------------------
# Stale translations: the English a text was translated from
# ---------------------------------------------------------------------------------------------
def _reword(path, rid, field, new):
    _edit_yaml(path, lambda d: next(i for i in d if i["id"] == rid).__setitem__(field, new))


def _flask(*args, env=None):
    e = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args],
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          env=e, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("lang", LANGS)
def test_every_translated_text_records_the_english_it_came_from(lang):
    assert i18n.stale_texts(RULES_DIR, lang) == {"changed": [], "unrecorded": []}


def test_a_changed_english_text_makes_its_translation_stale(tmp_path):
    rules = _copy_rules(tmp_path)
    _reword(rules / "placement/radiation.yaml", "ebrt-painful-bone", "because",
            "Radiation is the usual first treatment for a painful bone. It works in a few weeks.")
    with pytest.raises(RuleBookError) as err:
        i18n.load_rulebooks(str(rules), ["en", "es"])
    assert (err.value.file, err.value.rule_id) == ("i18n/es/placement/radiation.yaml", "ebrt-painful-bone")
    assert "'because' was translated from an earlier English text" in err.value.message
    with pytest.raises(RuleBookError, match="earlier English"):  # the app does not start
        create_app({"TESTING": True, "SECRET_KEY": "t", "RULES_DIR": str(rules)})
    assert i18n.stale_texts(str(rules), "es")["changed"] == [
        ("i18n/es/placement/radiation.yaml", "ebrt-painful-bone", "because")]
    assert i18n.load_rulebooks(str(rules), ["en"])  # English alone still loads
    # A reviewer has checked (and the translator updated) the Spanish: record it.
    assert i18n.main(["es", "--confirm", "placement/radiation.yaml", "--rules", str(rules)]) == 0
    assert i18n.stale_texts(str(rules), "es") == {"changed": [], "unrecorded": []}
    assert i18n.load_rulebooks(str(rules), ["en", "es"])["es"].rules_by_id["ebrt-painful-bone"].text


def test_rewrapping_the_english_is_not_a_change(tmp_path):
    rules = _copy_rules(tmp_path)
    en = yaml.safe_load((rules / "placement/radiation.yaml").read_text(encoding="utf-8"))
    old = next(i for i in en if i["id"] == "ebrt-painful-bone")["because"]
    _reword(rules / "placement/radiation.yaml", "ebrt-painful-bone", "because", old.replace(" ", "\n  ", 2) + " ")
    assert i18n.stale_texts(str(rules), "es")["changed"] == []


def test_rules_check_lists_every_stale_text(tmp_path):
    rules = _copy_rules(tmp_path)
    _reword(rules / "placement/radiation.yaml", "ebrt-painful-bone", "because", "Radiation helps a painful bone.")
    _reword(rules / "safety.yaml", "safety-radium-only-prostate", "reason",
            "Radium-223 is only for prostate cancer in the bones.")
    _edit_yaml(rules / "options.yaml", lambda d: next(o for o in d if o["id"] == "surgery")["benefits"]
               .__setitem__(0, "It can make a weak bone strong again."))
    # A new text with no record yet (just translated) is a warning, not a failure.
    _edit_yaml(rules / "i18n/es/_translated_from.yaml", lambda d: d["questions.yaml"]["rules"].pop("ask-bone-sites"))
    r = _flask("rules", "check", env={"BONEMETS_RULES_DIR": str(rules)})
    assert r.returncode == 1, r.stdout + r.stderr
    for line in ["FAIL i18n/es/placement/radiation.yaml, id 'ebrt-painful-bone': 'because' is out of date",
                 "FAIL i18n/es/safety.yaml, id 'safety-radium-only-prostate': 'reason' is out of date",
                 "FAIL i18n/es/options.yaml, id 'surgery': 'benefits' is out of date",
                 "WARNING i18n/es/questions.yaml, id 'rules': 'ask-bone-sites.text' has no record"]:
        assert line in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    ok = _flask("rules", "check")
    assert ok.returncode == 0 and "Languages: en, es; 0 problem(s)" in ok.stdout, ok.stderr


def _string_leaves(node, at=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _string_leaves(v, at + (str(k),))
    elif isinstance(node, list):
        for item in node:
            key = item.get("id", item.get("term")) if isinstance(item, dict) else None
            yield from _string_leaves(item, at + (("[]", str(key)) if key is not None else ("[]",)))
    elif isinstance(node, str):
        yield at, node


def test_every_string_in_rules_is_a_text_or_declared_not_text():
    """A new text file or field in rules/ is translated or says why not (rules/i18n/texts.yaml):
    otherwise it would show in English on every Spanish page."""
    spec, not_text = i18n.text_paths(RULES_DIR)
    for dirpath, dirs, names in os.walk(RULES_DIR):
        dirs[:] = [d for d in dirs if d != "i18n"]
        for name in names:
            if not name.endswith((".yaml", ".yml")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), RULES_DIR).replace(os.sep, "/")
            data = yaml.safe_load(open(os.path.join(dirpath, name), encoding="utf-8"))
            covered = set()
            for segs in i18n.patterns_for(spec, rel) + i18n.patterns_for(not_text, rel):
                if segs == ["*"]:
                    covered.add("*")
                for _at, container, slot in i18n.select(data, segs):
                    covered.add(id(container[slot]) if isinstance(container[slot], (list, dict))
                                else (id(container), slot))
            if "*" in covered:
                continue
            _assert_covered(rel, data, covered)


def _assert_covered(rel, node, covered, at=(), inside=False):
    if isinstance(node, dict):
        for k, v in node.items():
            here = inside or (id(node), k) in covered or id(v) in covered
            _assert_covered(rel, v, covered, at + (str(k),), here)
    elif isinstance(node, list):
        for item in node:
            key = item.get("id", item.get("term")) if isinstance(item, dict) else None
            _assert_covered(rel, item, covered, at + ((str(key),) if key else ()), inside)
    elif isinstance(node, str):
        assert inside, (f"{rel}: {'.'.join(at)} is a string that is neither a text "
                        "(translated) nor listed under not_text in rules/i18n/texts.yaml")


# ---------------------------------------------------------------------------------------------
# The content: same plan, same numbers, plain Spanish
# ---------------------------------------------------------------------------------------------
def test_the_plan_is_the_same_in_every_language(books):
    """Ids, groups, facts and sources never change by language: only the words do."""
    def skeleton(plan):
        d = plan.to_dict()
        return {
            "answers": d["answers"], "sources": list(d["sources"]),
            "flags": [(f["id"], f["urgency"], [r["rule"] for r in f["reasons"]]) for f in d["red_flags"]],
            "options": [(o["id"], o["group"], [(r["rule"], r["because"], r["facts"], r["sources"])
                                               for r in o["reasons"]],
                         [(c["id"], c["rules"]) for c in o["cautions"]]) for o in d["options"]],
            "questions": [(q["rule"], q["because"]) for q in d["questions"]],
        }
    en = books["en"]
    cases = scenarios.load_scenarios(SCENARIOS_DIR)
    assert len(cases) > 20
    for lang in LANGS:
        for case in cases:
            answers, _ = en.validate_answers(case["answers"])
            a, b = en.plan(answers), books[lang].plan(answers)
            assert skeleton(a) == skeleton(b), case["name"]
            assert a.caveat != b.caveat


def _texts(rb_root, lang):
    spec, _ = i18n.text_paths(rb_root)
    for rel in i18n._english_files(rb_root, spec):
        en = i18n.english_texts(yaml.safe_load(open(os.path.join(rb_root, rel), encoding="utf-8")),
                                i18n.patterns_for(spec, rel))
        tr = dict(i18n._leaves(yaml.safe_load(open(os.path.join(rb_root, "i18n", lang, rel),
                                                   encoding="utf-8"))))
        for at, text in en.items():
            yield rel, at, text, tr[at]


def _join(v):
    return " ".join(v) if isinstance(v, list) else v


@pytest.mark.parametrize("lang", LANGS)
def test_translations_keep_every_number(lang):
    """A figure in a benefit, a harm or a dose is the same in every language."""
    wrong = []
    for rel, at, en, tr in _texts(RULES_DIR, lang):
        nums = [sorted(re.findall(r"\d+(?:\.\d+)?", _join(t))) for t in (en, tr)]
        if nums[0] != nums[1]:
            wrong.append((rel, ".".join(at), nums))
    assert not wrong, wrong


# Readability (README, "Languages"): Fernández-Huerta (1959), as textstat 0.7.8 computes it:
# 206.84 - 60 x (syllables per word) - 1.02 x (words per sentence); 60-70 reads like grades 7-8
# ("normal"), 70-80 like grade 6. And Szigriszt-Pazos (1992, INFLESZ scale): 206.835 - 62.3 x
# (syllables per word) - (words per sentence); 55-65 is "normal", over 65 "fairly easy".
MIN_FERNANDEZ_HUERTA = {"es": 60.0}   # grade 8 or lower, like MAX_GRADE for English
MIN_SZIGRISZT_PAZOS = {"es": 55.0}
MIN_FH_ONE_TEXT = {"es": 40.0}        # no long sentence reads like a university text


@pytest.fixture()
def spanish_textstat():
    textstat.set_lang("es")
    yield textstat
    textstat.set_lang("en_US")  # the English checks count syllables the English way


@pytest.mark.parametrize("lang", LANGS)
def test_content_reads_at_grade_8_or_lower(books, lang, spanish_textstat):
    ts = spanish_textstat
    ts.set_lang(lang)
    rb = books[lang]
    keys = ["name", "what_it_is", "how_given", "how_soon", "visits", "benefits", "downsides",
            "daily_life", "questions", "priorities"]

    def flat(v):
        return [v] if isinstance(v, str) else [x for y in (v.values() if isinstance(v, dict) else v)
                                               for x in flat(y)]
    parts = {oid: " ".join(t for k in keys for t in flat(e[k])) for oid, e in rb.options.items()}
    parts["rules"] = " ".join(r.text for r in rb.all_rules())
    parts["warnings"] = " ".join(f["title"] + ". " + f["action"] for f in rb.flags.values())
    parts["glossary"] = " ".join(g["term"] + ". " + g["means"] for g in rb.glossary)
    parts["caveat"] = rb.caveat + " " + rb.meta["emergency_notice"]
    parts["safety"] = " ".join(inv.reason for inv in rb.safety)  # shown on /rules
    for name, text in parts.items():
        fh, sp = ts.fernandez_huerta(text), ts.szigriszt_pazos(text)
        assert fh >= MIN_FERNANDEZ_HUERTA[lang], f"{name}: Fernández-Huerta {fh:.0f}"
        assert sp >= MIN_SZIGRISZT_PAZOS[lang], f"{name}: Szigriszt-Pazos {sp:.0f}"
    hard = [(r.id, ts.fernandez_huerta(r.text))
            for r in [*rb.all_rules(), *(SimpleNamespace(id=i.id, text=i.reason) for i in rb.safety)]
            if len(r.text.split()) >= 10 and ts.fernandez_huerta(r.text) < MIN_FH_ONE_TEXT[lang]]
    assert not hard, hard


def test_the_readability_check_can_fail(spanish_textstat):
    hard = ("La administración concomitante de radiofármacos emisores alfa con inhibidores de la "
            "biosíntesis de andrógenos incrementa significativamente la incidencia de fracturas "
            "patológicas y la mortalidad, según los resultados del ensayo aleatorizado.")
    assert spanish_textstat.fernandez_huerta(hard) < MIN_FH_ONE_TEXT["es"]


# ---------------------------------------------------------------------------------------------
# The interface catalog
# ---------------------------------------------------------------------------------------------
def _catalog(lang):
    with open(os.path.join(TRANSLATIONS_DIR, lang, "LC_MESSAGES", "messages.po"), "rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("lang", LANGS)
def test_the_catalog_translates_every_extracted_message(lang):
    """translations/messages.pot is what the code and templates mark (scripts/compile_
    translations.sh --extract); every message has a translation that keeps its placeholders."""
    with open(os.path.join(TRANSLATIONS_DIR, "messages.pot"), "rb") as fh:
        pot = {m.id for m in read_po(fh) if m.id}
    cat = {m.id: m for m in _catalog(lang) if m.id}
    assert pot and pot <= set(cat), sorted(pot - set(cat))
    ph = re.compile(r"%\(\w+\)s")
    for mid in pot:
        m = cat[mid]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        ids = mid if isinstance(mid, tuple) else (mid,)
        assert all(strings) and not m.fuzzy, f"untranslated: {mid!r}"
        for s in strings:
            assert sorted(set(ph.findall(ids[0]))) == sorted(set(ph.findall(s))), mid


def test_compiled_catalogs_are_not_in_git():
    ignore = open(os.path.join(os.path.dirname(TRANSLATIONS_DIR), ".gitignore")).read().split()
    assert "*.mo" in ignore


def test_a_catalog_left_uncompiled_is_compiled_at_start_up(tmp_path):
    from bonemets import translations
    shutil.copytree(TRANSLATIONS_DIR, tmp_path / "t", ignore=shutil.ignore_patterns("*.mo"))
    where = translations.catalog_dir(["en", "es"], root=str(tmp_path / "t"))
    assert where != str(tmp_path / "t")
    assert os.path.exists(os.path.join(where, "es", "LC_MESSAGES", "messages.mo"))
    assert not os.path.exists(tmp_path / "t" / "es" / "LC_MESSAGES" / "messages.mo")
    with pytest.raises(translations.CatalogError, match="'fr'"):
        translations.catalog_dir(["en", "fr"], root=str(tmp_path / "t"))


@pytest.mark.parametrize("change,words", [
    (lambda m: m.flags.add("fuzzy"), "fuzzy (its English changed"),
    (lambda m: setattr(m, "string", ""), "untranslated"),
])
def test_a_catalog_with_a_fuzzy_or_untranslated_entry_stops_the_app(tmp_path, change, words):
    """Babel marks an entry fuzzy when its English changed and the old translation was kept as
    a guess: it would show in English (pybabel compile leaves it out) or with an old meaning."""
    from babel.messages.pofile import write_po

    from bonemets import translations
    shutil.copytree(TRANSLATIONS_DIR, tmp_path / "t", ignore=shutil.ignore_patterns("*.mo"))
    po = tmp_path / "t" / "es" / "LC_MESSAGES" / "messages.po"
    cat = _catalog("es")
    entry = cat["Treatment options"]
    change(entry)
    with open(po, "wb") as fh:
        write_po(fh, cat, width=100)
    with pytest.raises(translations.CatalogError, match=re.escape(words)) as err:
        translations.catalog_dir(["en", "es"], root=str(tmp_path / "t"))
    assert "'Treatment options'" in str(err.value)
    assert translations.problems(os.path.join(TRANSLATIONS_DIR, "es", "LC_MESSAGES", "messages.po")) == []


# ---------------------------------------------------------------------------------------------
# Choosing a language, and what every page in it shows
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def es_app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "t"})


@pytest.fixture()
def es_client(es_app):
    return es_app.test_client()  # a new browser: no language chosen yet


def test_accept_language_and_lang_choose_the_language(es_client):
    c = es_client
    assert '<html lang="es">' in c.get("/", headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(as_text=True)
    en = c.get("/questionnaire", headers={"Accept-Language": "en-US"})
    assert '<html lang="en">' in en.get_data(as_text=True)
    assert "Accept-Language" in en.headers["Vary"]
    assert '<html lang="en">' in c.get("/?lang=xx").get_data(as_text=True)  # unknown: default
    # ?lang= wins, and the choice is kept for the pages that follow (posted forms have no ?lang=)
    assert '<html lang="es">' in c.get("/questionnaire?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in c.post("/plan", data={"primary_cancer": "breast"}, follow_redirects=True,
                                        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in c.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in c.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)


def test_json_plan_in_spanish_keeps_every_id(es_client, books, typical):
    en = es_client.post("/api/plan", json=typical).get_json()
    es = es_client.post("/api/plan", json=typical, headers={"Accept-Language": "es"}).get_json()
    assert es["caveat"] == books["es"].caveat != en["caveat"]
    assert [o["id"] for o in es["options"]] == [o["id"] for o in en["options"]]
    assert [o["group"] for o in es["options"]] == [o["group"] for o in en["options"]]
    hormone = next(o for o in es["options"] if o["id"] == "hormone_therapy")
    assert hormone["name"] == "Terapia hormonal"
    assert hormone["reasons"][0]["because"] == next(
        o for o in en["options"] if o["id"] == "hormone_therapy")["reasons"][0]["because"]
    bad = es_client.post("/api/plan", json={"pain_score": 11}, headers={"Accept-Language": "es"})
    assert bad.status_code == 400
    assert bad.get_json()["errors"]["pain_score"] == "Escriba un número entero de 0 a 10."
    assert bad.get_json()["caveat"] == books["es"].caveat


def _switch_forms(html):
    from _pages import Page
    return [f for f in Page(html).forms if "lang=" in f["action"]]


def test_the_switch_keeps_the_answers(es_client, typical):
    """Pages of a plan are GET pages (their answers are in the answers cookie): the switch is a
    link to the same page. A page shown straight from a POST (answers to fix) re-posts them."""
    from _pages import submitted
    from werkzeug.datastructures import MultiDict
    for path in ["/plan", "/summary"]:
        en = es_client.post(path + "?lang=en", data=typical, follow_redirects=True)
        assert '<html lang="en">' in en.get_data(as_text=True) and not _switch_forms(en.get_data(as_text=True))
        here = en.request.path
        assert f'href="{here}?lang=es"' in en.get_data(as_text=True)
        es = es_client.get(f"{here}?lang=es").get_data(as_text=True)
        assert '<html lang="es">' in es and "Terapia hormonal" in es
    bad = {**typical, "pain_score": "11"}
    en = es_client.post("/plan?lang=en", data=bad)
    assert en.status_code == 400
    (form,) = _switch_forms(en.get_data(as_text=True))
    assert form["action"] == "/plan?lang=es" and form["method"] == "post"
    pairs = submitted(form, skip=("csrf_token",))
    assert all(k.startswith("lang-switch:") for k, _ in pairs)  # never the page's own names
    assert sorted((k.split(":", 1)[1], v) for k, v in pairs) == sorted(
        (k, v) for k, vs in bad.items() for v in (vs if isinstance(vs, list) else [vs]))
    es = es_client.post(form["action"], data=MultiDict(pairs))
    assert es.status_code == 400
    html = es.get_data(as_text=True)
    assert '<html lang="es">' in html and "Escriba un número entero de 0 a 10" in html
    assert re.search(r'name="primary_cancer" value="breast"[^>]*checked|checked[^>]*value="breast"', html) \
        or 'value="breast" checked' in html


def test_every_get_page_links_to_the_other_language(es_client):
    for path in ["/", "/questionnaire", "/steps/1", "/rules", "/about", "/questionnaire/import",
                 "/no-such-page"]:
        html = es_client.get(path + "?lang=es").get_data(as_text=True)
        assert f'href="{path}?lang=en"' in html and 'lang="en"' in html, path
        html = es_client.get(path + "?lang=en").get_data(as_text=True)
        assert f'href="{path}?lang=es"' in html, path


def test_an_error_after_a_post_never_echoes_the_answers(es_client):
    html = es_client.post("/steps", data={"step": "1", "pain_score": "x" * 100000}).get_data(as_text=True)
    assert "x" * 1000 not in html


def test_unreviewed_notice_until_a_reviewer_is_recorded(es_client, tmp_path):
    notice = "Un traductor médico calificado todavía no ha revisado esta traducción."
    for path in ["/", "/questionnaire", "/rules", "/about"]:
        assert notice in es_client.get(path + "?lang=es").get_data(as_text=True), path
        assert notice not in es_client.get(path + "?lang=en").get_data(as_text=True)
    rules = _copy_rules(tmp_path)
    _edit_yaml(rules / "meta.yaml", lambda d: d["translations"]["es"].update(
        reviewed_by="A. Traductora, CMI", reviewed_on="2026-12-01"))
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "RULES_DIR": str(rules)})
    assert notice not in app.test_client().get("/?lang=es").get_data(as_text=True)


def test_start_page_taglines_in_the_other_language(es_client):
    en = es_client.get("/").get_data(as_text=True)
    assert '<li lang="es"><a href="/?lang=es" hreflang="es">Esta guía también está en español.</a>' in en
    es = es_client.get("/?lang=es").get_data(as_text=True)
    assert '<li lang="en"><a href="/?lang=en" hreflang="en">This guide is also in English.</a>' in es


# ---------------------------------------------------------------------------------------------
# No English left on a Spanish page
# ---------------------------------------------------------------------------------------------
# Words that are the same in both languages, names of medicines, tests and codes.
SAME_IN_BOTH = {"No", "Normal", "TSH", "Error:", "PSMA", "HER2", "EGFR", "ALK", "BRCA", "MRI"}


def _english_strings(lang):
    """Every English text of the rule book and the interface catalog whose translation differs,
    with three words or more (shorter ones, such as "Breast", can be part of other words)."""
    out = set()
    for _rel, _at, en, tr in _texts(RULES_DIR, lang):
        for e, t in zip(en if isinstance(en, list) else [en], tr if isinstance(tr, list) else [tr]):
            e = " ".join(e.split())
            if e != t and e not in SAME_IN_BOTH and len(e.split()) >= 3:
                out.add(e)
    for m in _catalog(lang):
        if m.id and isinstance(m.id, str) and m.string != m.id and "%(" not in m.id \
                and "<" not in m.id and len(m.id.split()) >= 3:
            out.add(m.id)
    return out


def _spanish_pages(client, typical):
    pages = {p: client.get(p + "?lang=es").get_data(as_text=True)
             for p in ["/", "/questionnaire", "/steps/1", "/rules", "/about", "/questionnaire/import"]}
    for p in ["/plan", "/summary"]:  # posted answers are shown on the page they redirect to
        pages[p] = client.post(p + "?lang=es", data=typical, follow_redirects=True).get_data(as_text=True)
    return pages


class _PageLanguageText(HTMLParser):
    """The text a page shows in its own language: everything but scripts, styles, code, web
    addresses and elements marked with another language (``lang="en"``: titles of sources, the
    language switch), with the labels screen readers read (aria-label, title, alt). Unlike
    test_content.visible_text it keeps the sources and the rule meta."""
    VOID = {"input", "br", "meta", "link", "img", "hr", "source", "wbr", "area", "col"}

    def __init__(self, lang):
        super().__init__()
        self.lang, self.stack, self.out, self.marked = lang, [], [], []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        other = a.get("lang") not in (None, self.lang)
        if other and not (self.stack and self.stack[-1]):
            self.marked.append((tag, a))
        skip = (other or tag in ("script", "style", "code")
                or "url" in (a.get("class") or "").split())
        self.stack.append(skip or (self.stack[-1] if self.stack else False))
        if not (other or (len(self.stack) > 1 and self.stack[-2])):  # what screen readers say
            self.out += [a[k] for k in ("aria-label", "title", "alt", "placeholder") if a.get(k)]

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]) and data.strip():
            self.out.append(data.strip())


def page_language_text(html, lang):
    """(the page's text in ``lang``, [(tag, attributes) of each element marked otherwise])."""
    p = _PageLanguageText(lang)
    p.feed(html)
    return re.sub(r"\s+", " ", " ".join(p.out)), p.marked


# Short English words that are not Spanish words: any of them left on a Spanish page, outside an
# element marked lang="en", is English that was not translated (or not marked as a citation).
ENGLISH_WORDS = {"the", "and", "of", "with", "your", "you", "is", "for", "this", "not", "are",
                 "to", "what", "when", "how", "which", "from", "or", "be", "it", "that", "an",
                 "has", "have", "can", "will", "in", "on", "at", "by"}


def english_words(text):
    return [w for w in re.findall(r"[^\W\d_]+", text) if w.lower() in ENGLISH_WORDS]


@pytest.mark.parametrize("lang", LANGS)
def test_no_english_rule_book_or_catalog_text_on_a_spanish_page(es_client, typical, lang):
    english = _english_strings(lang)
    assert len(english) > 500
    for path, html in _spanish_pages(es_client, typical).items():
        text, _marked = page_language_text(html, lang)
        left = sorted(e for e in english if e in text)
        assert not left, f"{path}: {left[:5]}"
        assert not english_words(text), f"{path}: {english_words(text)[:10]}"


def test_only_titles_of_sources_and_language_names_are_marked_english(es_client, typical):
    """What a Spanish page marks lang="en" (so the checks above pass it by) is what is right to
    leave in English: who published a source and its title, where we read it (its note, on
    /rules), a source's key (whose tooltip is the title), and the link to the English pages."""
    pages = _spanish_pages(es_client, typical)
    for path, html in pages.items():
        for tag, a in page_language_text(html, "es")[1]:
            assert a.get("lang") == "en", (path, tag, a)
            ok = ((tag == "span" and not a.get("class")) or (tag == "a" and "cite" in a.get("class", ""))
                  or a.get("hreflang") == "en" or tag == "li")
            assert ok, (path, tag, a)
    rules = pages["/rules"]
    assert re.search(r'<span lang="en">[^<]*\. <cite>', rules)
    title = next(iter(i18n.load_rulebooks(RULES_DIR, ["en"])["en"].sources.values()))["title"]
    assert f"<cite>{html_escape(title)}</cite></span>" in rules
    # Marked English is passed by; the same English unmarked is caught.
    text, marked = page_language_text(rules, "es")
    assert len(marked) > 100 and not english_words(text)
    unmarked = re.sub(r' lang="en"', "", rules)
    assert len(english_words(page_language_text(unmarked, "es")[0])) > 100


def test_the_english_left_check_can_fail(es_client, typical):
    english = _english_strings("es")
    html = es_client.post("/plan", data=typical, follow_redirects=True).get_data(as_text=True)  # English
    shown = visible_text(html)  # once (it was read again for each string)
    assert sum(1 for e in english if e in shown) > 50
    assert not page_language_text(html, "es")[0].strip()  # <html lang="en">: all of it English
    text, _ = page_language_text(html.replace('<html lang="en">', '<html lang="es">'), "es")
    assert sum(1 for e in english if e in text) > 50 and len(english_words(text)) > 200
    planted = "<p>Radiation to the painful bone is the usual first treatment.</p>"
    assert english_words(page_language_text(planted, "es")[0])
    assert not english_words(page_language_text(planted.replace("<p>", '<p lang="en">'), "es")[0])


def test_fhir_questionnaire_in_the_page_language(es_client):
    en = es_client.get("/fhir/Questionnaire").get_json()
    es = es_client.get("/fhir/Questionnaire", headers={"Accept-Language": "es"}).get_json()
    assert (en["language"], es["language"]) == ("en", "es")

    def items(q):
        for it in q.get("item", []):
            yield it
            yield from items(it)
    pairs = list(zip(items(en), items(es)))
    assert len(pairs) > 30
    for a, b in pairs:
        assert a["linkId"] == b["linkId"]
        assert [o["valueCoding"]["code"] for o in a.get("answerOption", [])] == \
            [o["valueCoding"]["code"] for o in b.get("answerOption", [])]
    texts = {b["linkId"]: b.get("text") for a, b in pairs}
    assert texts["primary_cancer"] == "¿Dónde empezó su cáncer?"


def test_the_pdf_is_in_spanish_with_every_character(es_client, typical):
    """The PDF's font (DejaVu Sans, static/print.css) has a glyph for every character of the
    Spanish texts, and the PDF carries them."""
    import subprocess

    from fontTools.ttLib import TTFont
    from werkzeug.datastructures import MultiDict
    pairs = [(k, v) for k, vs in typical.items() for v in (vs if isinstance(vs, list) else [vs])]
    r = es_client.post("/summary.pdf?lang=es", data=MultiDict(pairs), follow_redirects=True)
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=r.data, capture_output=True,
                          check=True).stdout.decode()
    assert "Un traductor médico calificado" in text and "Terapia hormonal" in text
    fonts = subprocess.run(["pdffonts", "-"], input=r.data, capture_output=True).stdout.decode()
    assert "DejaVu" in fonts
    path = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans"], capture_output=True,
                          text=True, check=True).stdout
    cmap = TTFont(path).getBestCmap()
    used = set()
    for _rel, _at, _en, tr in _texts(RULES_DIR, "es"):
        used |= set(_join(tr))
    used |= {ch for m in _catalog("es") if m.string
             for s in (m.string if isinstance(m.string, tuple) else (m.string,)) for ch in s}
    missing = sorted(ch for ch in used if not ch.isspace() and ord(ch) not in cmap)
    assert not missing, missing
    assert {"á", "é", "í", "ó", "ú", "ñ", "¿"} <= used


def test_import_problems_in_spanish(es_client):
    html = es_client.post("/questionnaire/import?lang=es", data={"response": "{not json"}).get_data(as_text=True)
    assert "Esto no es un JSON válido." in html and "This is not valid JSON" not in html
    html = es_client.post("/questionnaire/import?lang=en", data={"response": "{not json"}).get_data(as_text=True)
    assert "This is not valid JSON. Paste the whole QuestionnaireResponse file." in html


def test_rules_page_safety_statements_in_spanish(es_app, es_client, books):
    """/rules in Spanish: each safety statement's requirement worded from the Spanish option
    names, group headings, warning and check titles, and its reason from rules/i18n/es/."""
    import html as _html

    from flask_babel import force_locale
    es, en = books["es"], books["en"]
    page = es_client.get("/rules?lang=es").get_data(as_text=True)
    with es_app.test_request_context("/?lang=es"), force_locale("es"):
        statements = {inv.id: inv.describe(es) for inv in es.safety}
    for inv, en_inv in zip(es.safety, en.safety):
        start = page.index(f'id="{inv.id}"')
        block = " ".join(_html.unescape(page[start:page.index("</div>", start)]).split())
        assert inv.reason in block and inv.reason != en_inv.reason, inv.id
        assert statements[inv.id] in block, inv.id
        raw = page[page.rfind("<div", 0, start):page.index("</div>", start)]
        assert not english_words(page_language_text(raw, "es")[0]), (inv.id, block)
    heading = es.meta["groups"]["discuss"]["heading"]
    assert statements["safety-radium-only-prostate"] == (
        f"La opción {es.options['radium_223']['name']} nunca está en “{heading}”.")
    assert statements["safety-cord-symptoms-flag"] == (
        f"Siempre se muestra el aviso “{es.flags['spinal_cord_compression']['title']}”.")
    assert "Las opciones" in statements["safety-cord-symptoms-no-pain-only-procedure"]
    assert " y " in statements["safety-cord-symptoms-no-pain-only-procedure"]
    assert "siempre lleva la revisión" in statements["safety-zoledronic-kidney-check"]
    assert "nunca aparece primero" in statements["safety-broken-long-bone-stabilise-first"]
    # English (no request language): the English wording, as before.
    assert en.safety[0].describe(en).startswith("The warning “")
