"""Who published a source (``org:``) and where we read it (``note:``) are kept apart in
rules/sources.yaml. The org is shown to everyone, in every sources list; the note is for the
rule book's maintainers and reviewers and shown only on the rule book page (/rules), in English
like the org and title (lang="en"), never on the results page, the summary or the JSON plan."""
from __future__ import annotations

import re
import shutil

import pytest
import yaml
from markupsafe import escape

from bonemets.rules import load_rulebook
from conftest import RULES_DIR
from test_rulebook_validation import _edit_source, expect_error

# The words of our own notes on how a text was read, as they stood in org: before they moved to
# note: (the sites we read a copy on, the kind of copy). Org keeps the issuer or the authors with
# the journal citation, and what identifies the document (a trial's name, "systematic review",
# "living guideline", "(Zometa text)"), and what is part of an issuer's name ("(OrthoGuidelines)").
NOTE_WORDS = re.compile(
    r"\bPMC\b|PubMed Central|\babstract\b|text read|\bread (?:in|on)\b|mirror|summary on"
    r"|Guideline Central|ASCO Post|Cancer Therapy Advisor|MDApp|Scribd|BlackBoxRx"
    r"|Researcher\.Life|alpfmedical|Medthority|reported by|news report|reposted|calculator"
    r"|guideline page|publications list", re.I)
# The brief's own pattern: a parenthesis whose (last) part is a note on where we read it.
NOTE_IN_BRACKETS = re.compile(r"\((?:[^)]*;)?\s*(?:PMC|PubMed Central|abstract|text read|read in"
                              r"|mirror|summary on|Guideline Central)[^)]*\)", re.I)


@pytest.fixture()
def rules_copy(tmp_path):
    dst = tmp_path / "rules"
    shutil.copytree(RULES_DIR, dst)
    return dst


def _sources():
    with open(f"{RULES_DIR}/sources.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_no_org_carries_a_note_on_where_we_read_it():
    bad = {k: s["org"] for k, s in _sources().items()
           if NOTE_WORDS.search(s["org"]) or NOTE_IN_BRACKETS.search(s["org"])}
    assert not bad, f"move where we read it from org: to note: {bad}"


def test_notes_are_read_and_kept_apart_from_the_plan_sources(rulebook):
    data = _sources()
    noted = {k for k, s in data.items() if "note" in s}
    assert len(noted) >= 20
    assert rulebook.source_notes == {k: data[k]["note"] for k in noted}
    assert rulebook.source_notes["ALSYMPCA-2013"] == "text read in a copy of the article"
    assert rulebook.sources["ALSYMPCA-2013"]["org"] == "Parker et al., N Engl J Med 369:213 (ALSYMPCA trial)"
    # the plan's sources (JSON plan, results, summary, PDF) have no note
    assert not any("note" in s for s in rulebook.sources.values())


def test_loader_accepts_a_note_and_still_refuses_an_unknown_key(rules_copy):
    _edit_source(rules_copy, "ASTRO-2024", lambda s: s.update({"note": "read on the ASTRO site"}))
    assert load_rulebook(str(rules_copy)).source_notes["ASTRO-2024"] == "read on the ASTRO site"
    _edit_source(rules_copy, "ASTRO-2024", lambda s: s.update({"notes": "a misspelt key"}))
    expect_error(rules_copy, "sources.yaml", "ASTRO-2024", ["unknown keys", "notes"])


def test_loader_refuses_an_empty_note(rules_copy):
    _edit_source(rules_copy, "ASTRO-2024", lambda s: s.update({"note": " "}))
    expect_error(rules_copy, "sources.yaml", "ASTRO-2024", ["needs 'note'"])


def _item(page: str, key: str) -> str:
    anchor = "src-" + key.replace("/", "-").replace(".", "-")
    m = re.search(rf'<li id="{re.escape(anchor)}">(.*?)</li>', page, re.S)
    return m.group(1) if m else ""


@pytest.mark.parametrize("lang", ["en", "es"])
def test_rules_page_shows_each_note_in_english(client, rulebook, lang):
    page = client.get(f"/rules?lang={lang}").get_data(as_text=True)
    for key, note in rulebook.source_notes.items():
        item = _item(page, key)
        assert f'<span class="source-note">(<span lang="en">{escape(note)}</span>)</span>' in item, key
    # an org that ends in a full stop gets no second one
    assert "Chow et al.. " not in page and "Chow et al. <cite>" in _item(page, "Chow-LancetOncol-2015")
    # an entry without a note has no note span
    plain = next(k for k in rulebook.sources if k not in rulebook.source_notes)
    assert 'class="source-note"' not in _item(page, plain)


def test_results_summary_and_json_plan_show_no_note(client, rulebook, typical):
    client.post("/plan", data=typical)
    results = client.get("/plan").get_data(as_text=True)
    summary = client.get("/summary").get_data(as_text=True)
    plan = client.post("/api/plan", json=typical).get_json()
    cited = [k for k in rulebook.source_notes if _item(results, k)]
    assert cited, "the typical plan cites a source that has a note"
    for page in (results, summary):
        assert 'class="source-note"' not in page
        for key in cited:
            assert escape(rulebook.source_notes[key]) not in _item(page, key), key
    assert plan["sources"] and not any("note" in s for s in plan["sources"].values())
    assert any(k in plan["sources"] for k in cited)
