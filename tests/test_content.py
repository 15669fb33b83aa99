"""Content gates: plain language (reading grade 8 or lower), balance between benefits and
downsides, and consistency of the rule book."""
from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

import pytest
import textstat

MAX_GRADE = 8.0
CATALOG_TEXT = ["name", "what_it_is", "how_given", "how_soon", "visits", "benefits", "downsides",
                "daily_life", "questions", "priorities"]


def flatten(value):
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [v for x in value.values() for v in flatten(x)]
    return [v for x in value for v in flatten(x)]


def grade(text):
    return textstat.flesch_kincaid_grade(text)


def option_ids():
    from conftest import RULES_DIR
    from bonemets.rules import load_rulebook
    return list(load_rulebook(RULES_DIR).options)


@pytest.mark.parametrize("oid", option_ids())
def test_option_text_reads_at_grade_8_or_lower(rulebook, oid):
    entry = rulebook.options[oid]
    texts = [t for key in CATALOG_TEXT for t in flatten(entry[key])]
    whole = " ".join(texts)
    assert grade(whole) <= MAX_GRADE, f"{oid}: grade {grade(whole):.1f}"
    for t in texts:
        if len(t.split()) >= 8:
            assert grade(t) <= MAX_GRADE + 2, f"{oid}: '{t}' grade {grade(t):.1f}"


@pytest.mark.parametrize("oid", option_ids())
def test_downsides_are_not_much_shorter_than_benefits(rulebook, oid):
    entry = rulebook.options[oid]
    benefits = len(" ".join(entry["benefits"]))
    downsides = len(" ".join(entry["downsides"]))
    assert downsides >= 0.6 * benefits, f"{oid}: downsides {downsides} vs benefits {benefits}"


def test_every_option_has_the_same_fields_filled(rulebook):
    keys = {oid: set(k for k, v in e.items() if v) for oid, e in rulebook.options.items()}
    first = next(iter(keys.values()))
    assert all(k == first for k in keys.values())
    for e in rulebook.options.values():
        assert 2 <= len(e["benefits"]) <= 4 and 2 <= len(e["downsides"]) <= 4
        assert len(e["questions"]) >= 3


def test_rule_reasons_and_warnings_are_plain(rulebook):
    texts = [r.text for r in rulebook.all_rules()]
    texts += [f["title"] + " " + f["action"] for f in rulebook.flags.values()]
    assert grade(" ".join(texts)) <= MAX_GRADE
    hard = [(t, grade(t)) for t in texts if len(t.split()) >= 10 and grade(t) > 12]
    assert not hard, hard


def test_questionnaire_wording_is_plain(rulebook):
    texts = []
    for f in rulebook.fields.values():
        texts += [f.label, f.hint] + [label for _, label in f.choices]
    assert grade(" ".join(t for t in texts if t)) <= MAX_GRADE


class _Visible(HTMLParser):
    """Visible page text, leaving out the source list and the rule trace (citations)."""
    SKIP = {"sources-list", "trace", "sources", "also-called", "rule-meta"}

    def __init__(self):
        super().__init__()
        self.stack, self.out = [], []

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "br", "meta", "link", "img"):
            return
        classes = set((dict(attrs).get("class") or "").split())
        skip = bool(classes & self.SKIP) or tag in ("script", "style", "title", "code")
        self.stack.append(skip or (self.stack[-1] if self.stack else False))

    def handle_endtag(self, tag):
        if tag in ("input", "br", "meta", "link", "img"):
            return
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]) and data.strip():
            self.out.append(data.strip())


def visible_text(html):
    p = _Visible()
    p.feed(html)
    text = " ".join(p.out)
    return re.sub(r"\s+", " ", text)


def test_rendered_results_page_reads_at_grade_8_or_lower(client, typical):
    html = client.post("/plan", data=typical).get_data(as_text=True)
    text = visible_text(html)
    assert len(text.split()) > 1000
    assert grade(text) <= MAX_GRADE, f"results page grade {grade(text):.1f}"


def test_rendered_start_page_reads_at_grade_8_or_lower(client):
    assert grade(visible_text(client.get("/").get_data(as_text=True))) <= MAX_GRADE


def test_glossary_terms_are_explained(client):
    html = client.get("/questionnaire").get_data(as_text=True)
    for term, explained in [("Castration-resistant", "even though the hormone testosterone"),
                            ("Lytic", "eats away bone"),
                            ("bone metastasis", "Cancer that has spread to a bone")]:
        assert term.lower() in html.lower() and explained in html, term


def test_no_two_rules_contradict(rulebook):
    """Rules with the same condition on the same option must agree on the group."""
    seen = {}
    for r in rulebook.placement:
        key = (tuple(sorted(r.when.matchers, key=lambda m: m.field)),)
        for oid in r.options:
            other = seen.get((oid, key))
            assert other is None or other.group == r.group, \
                f"{r.id} and {other.id} have the same condition for {oid} but different groups"
            seen[(oid, key)] = r


def test_precedence_is_documented(rulebook):
    assert list(rulebook.precedence) == ["unlikely", "discuss", "consider"]
    import bonemets.rules as mod
    assert "unlikely > discuss > consider" in mod.__doc__


def test_every_rule_has_sources_and_a_reviewed_date(rulebook):
    for r in rulebook.all_rules():
        assert r.sources and all(s in rulebook.sources for s in r.sources)
        assert r.reviewed.year >= 2024


def test_no_rule_is_a_duplicate(rulebook):
    for a, b in itertools.combinations(rulebook.placement, 2):
        if a.options == b.options and a.group == b.group:
            assert a.when.matchers != b.when.matchers, f"{a.id} duplicates {b.id}"


def test_glossary_explains_the_unavoidable_terms(rulebook, client):
    terms = " ".join(g["term"] for g in rulebook.glossary).lower()
    for word in ["metastasis", "lytic", "castration-resistant"]:
        assert word in terms
    assert grade(" ".join(g["term"] + ". " + g["means"] for g in rulebook.glossary)) <= MAX_GRADE
    for url in ["/questionnaire", "/about"]:
        assert "Words you may hear" in client.get(url).get_data(as_text=True)
