"""The presenter (bonemets/present.py) and the pages it feeds: options ordered by how strongly the
answers point to them (the order is rule-book data), one reason up front, no paragraph twice,
checks only where an option is listed, benefits and downsides in equal detail, rule ids and
source keys behind "Where this comes from", the comparison's rows and choices, paper sizes, and
the results page read as a person reads it (grade 8 or lower)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import textstat

from bonemets import present as pr

MAX_GRADE = 8.0
FRACTURE_RISK = {"primary_cancer": "breast", "hormone_receptor": "positive", "bone_sites": ["femur"],
                 "bone_damage": ["fracture_risk"], "painful_sites": "one_or_two",
                 "activity_level": "light_activity", "pain_control": "partly_controlled"}
FRACTURED = {**FRACTURE_RISK, "bone_damage": ["fractured"]}
DONT_KNOW = None  # every question answered "I don't know" (built from the rule book below)


def shown_for(rulebook, answers, compare=None):
    clean, problems = rulebook.validate_answers(answers)
    assert not problems, problems
    return pr.present(rulebook, rulebook.plan(clean), clean, compare=compare)


def all_unknown(rulebook):
    dk = rulebook.meta["vocabulary"]["dont_know"]
    out = {}
    for name, f in rulebook.fields.items():
        if f.kind != "number" and dk in f.values:
            out[name] = [dk] if f.kind == "many" else dk
    return out


# -- ordering ------------------------------------------------------------------------------------
def test_lead_rules_name_rules_of_the_rule_book(rulebook):
    lead = pr.lead_rules(rulebook)
    assert lead, "rules/meta.yaml ordering: lead_rules"
    for rid in lead:
        assert rid in rulebook.rules_by_id, rid
        assert rulebook.rules_by_id[rid].kind == "placement"


@pytest.mark.parametrize("answers", [FRACTURE_RISK, FRACTURED], ids=["at-risk", "broken"])
def test_a_broken_or_at_risk_long_bone_puts_stabilising_first(rulebook, answers):
    shown = shown_for(rulebook, answers)
    for g in shown.groups:
        ids = [c["id"] for c in g["cards"]]
        lead = [c for c in g["cards"] if c["lead_rank"] < len(pr.lead_rules(rulebook))]
        # every option a lead rule placed comes before every other option of its group
        assert ids[:len(lead)] == [c["id"] for c in lead], (g["id"], ids)
    first = shown.groups[0]["cards"][0]["id"]
    assert first in ("surgery", "cast_brace_splint"), first


def test_within_a_group_options_more_rules_point_to_come_first(rulebook, typical):
    shown = shown_for(rulebook, typical)
    for g in shown.groups:
        keys = [(c["lead_rank"], -c["strength"]) for c in g["cards"]]
        assert keys == sorted(keys), g["id"]
    discuss = shown.groups[0]["cards"]
    assert discuss[0]["strength"] > discuss[-1]["strength"]


def test_ordering_never_changes_groups(rulebook, typical):
    plan = rulebook.plan(rulebook.validate_answers(typical)[0])
    shown = shown_for(rulebook, typical)
    assert {c["id"]: c["group"] for g in shown.groups for c in g["cards"]} == \
        {o.id: o.group for o in plan.options}


# -- one reason up front, no repeats, checks only where listed -----------------------------------
def _cards(shown):
    return [c for g in shown.groups for c in g["cards"]]


@pytest.mark.parametrize("name", ["typical", "fracture", "unknown"])
def test_no_reason_or_check_text_is_shown_twice_on_a_page(rulebook, typical, name):
    answers = {"typical": typical, "fracture": FRACTURE_RISK, "unknown": all_unknown(rulebook)}[name]
    shown = shown_for(rulebook, answers)
    texts, checks = [], []
    for c in _cards(shown):
        texts += [r["text"] for r in ([c["lead"]] if c["lead"] else []) + c["more"] if not r["same_as"]]
        checks += [k["text"] for k in c["checks"] if not k["same_as"]]
    assert len(texts) == len(set(texts))
    assert len(checks) == len(set(checks))


def test_checks_only_where_an_option_is_listed(rulebook):
    shown = shown_for(rulebook, all_unknown(rulebook))
    listed = rulebook.meta["vocabulary"]["listed_groups"]
    assert any(c["cautions"] and c["group"] not in listed for c in _cards(shown)), \
        "the test needs an unlisted option with a caution"
    for c in _cards(shown):
        assert bool(c["checks"]) == (bool(c["cautions"]) and c["group"] in listed), c["id"]


def test_results_page_shows_checks_only_on_listed_cards(client, rulebook):
    html = client.post("/plan", data=all_unknown(rulebook)).get_data(as_text=True)
    for art in re.findall(r'<article class="option[^"]*"[^>]*data-group="(\w+)"(.*?)</article>', html, re.S):
        group, body = art
        has = "data-caution=" in body
        assert not has or group in rulebook.meta["vocabulary"]["listed_groups"], group


def test_dont_know_answers_lead_with_their_questions(client, rulebook, typical):
    html = client.post("/plan", data=all_unknown(rulebook)).get_data(as_text=True)
    assert html.index('id="questions"') < html.index("data-option=")
    html = client.post("/plan", data=typical).get_data(as_text=True)
    assert html.index('id="questions"') > html.index("data-option=")


# -- plain words: rule ids and source keys behind "Where this comes from" ------------------------
class _Main(HTMLParser):
    """Text outside folded detail (<details> other than its <summary>) and outside the lists of
    sources: what a person reads before opening anything."""

    def __init__(self):
        super().__init__()
        self.depth_details = 0
        self.in_summary = 0
        self.out = []

    def handle_starttag(self, tag, attrs):
        if tag == "details":
            self.depth_details += 1
        if tag == "summary":
            self.in_summary += 1

    def handle_endtag(self, tag):
        if tag == "details":
            self.depth_details -= 1
        if tag == "summary":
            self.in_summary -= 1

    def handle_data(self, data):
        if (self.depth_details == 0 or self.in_summary) and data.strip():
            self.out.append(data.strip())


def test_no_rule_id_or_source_key_in_the_main_text(client, rulebook, typical):
    html = client.post("/plan", data=typical).get_data(as_text=True)
    p = _Main()
    p.feed(html.split('<main', 1)[1])
    text = " ".join(p.out)
    plan = rulebook.plan(rulebook.validate_answers(typical)[0])
    for o in plan.options:
        for r in o.reasons:
            assert r.rule not in text, r.rule
    for key in plan.sources:
        assert key not in text, key
    assert "Where this comes from" in html
    for o in plan.options:
        for r in o.reasons:
            # the link lands on the rule's copy for this option (rule--option, see rule_anchor)
            assert (f'href="/rules#{r.rule}"' in html or f'href="/rules#{r.rule}--{o.id}"' in html
                    or r.rule not in html)


# -- balance ---------------------------------------------------------------------------------------
def test_every_listed_card_shows_a_benefit_and_a_downside_in_the_same_way(client, rulebook, typical):
    shown = shown_for(rulebook, typical)
    html = client.post("/plan", data=typical).get_data(as_text=True)
    for c in shown.listed:
        body = html.split(f'id="option-{c["id"]}"', 1)[1].split("</article>", 1)[0]
        main = body.split("<details", 1)[0]
        b, d = c["catalog"]["benefits"][0], c["catalog"]["downsides"][0]
        assert b in main and d in main, c["id"]
        assert main.count("balance-side--benefit") == main.count("balance-side--downside") == 1


def test_no_benefit_figure_shown_where_the_harms_are_hidden(client, rulebook):
    """A card whose up-front reason quotes a number also shows its main downside up front."""
    seen = 0
    for answers in (all_unknown(rulebook), FRACTURE_RISK,
                    {"primary_cancer": "prostate", "prostate_status": "castration_resistant"}):
        shown = shown_for(rulebook, answers)
        for c in _cards(shown):
            if c["lead"] and re.search(r"\d", c["lead"]["text"]) and not c["against"]:
                seen += 1
                assert c["listed"], c["id"]  # listed cards show the main downside up front
    html = client.post("/plan", data=all_unknown(rulebook)).get_data(as_text=True)
    assert "Main downside" in html


def test_grid_has_a_benefits_row_and_a_downsides_row_of_equal_detail(rulebook, typical):
    shown = shown_for(rulebook, typical)
    rows = {r["key"]: r for r in shown.grid["rows"]}
    assert "benefits" in rows and "downsides" in rows
    for i, card in enumerate(shown.grid["options"]):
        b, d = rows["benefits"]["cells"][i], rows["downsides"]["cells"][i]
        assert b["full"] == card["catalog"]["benefits"] and d["full"] == card["catalog"]["downsides"]
        assert b["brief"] == card["catalog"]["benefits"][0] and d["brief"] == card["catalog"]["downsides"][0]


# -- comparison ------------------------------------------------------------------------------------
def test_compare_defaults_to_the_first_listed_and_follows_a_choice(rulebook, typical, client):
    shown = shown_for(rulebook, typical)
    ids = [c["id"] for c in shown.listed]
    assert [c["id"] for c in shown.grid["options"]] == ids[:pr.COMPARE_FIRST]
    pick = [ids[-1], ids[0]]
    shown = shown_for(rulebook, typical, compare=pick + ["not-an-option"])
    assert [c["id"] for c in shown.grid["options"]] == [ids[0], ids[-1]]
    assert [o["id"] for o in shown.grid["choices"] if o["checked"]] == [ids[0], ids[-1]]
    html = client.post("/plan", data={**typical, "compare": [ids[-1]]}).get_data(as_text=True)
    assert "Show the table of 1 option<" in html
    assert html.count('name="compare"') >= len(ids)
    # the choice is carried to the summary, and the summary's table has the same rows
    summary = client.post("/summary", data={**typical, "compare": [ids[-1]]}).get_data(as_text=True)
    table = summary.split('class="option-grid option-grid--print', 1)[1].split("</table>", 1)[0]
    assert shown.cards[ids[-1]]["name"] in table and shown.cards[ids[0]]["name"] not in table
    for key, label in __import__("bonemets.messages", fromlist=["GRID_ROWS"]).GRID_ROWS:
        assert str(label) in table and str(label) in html


def test_default_paper_follows_the_browser_region():
    assert pr.default_paper(["en-US", "en"]) == "letter"
    assert pr.default_paper(["en-GB"]) == "a4"
    assert pr.default_paper(["es_MX"]) == "letter"
    assert pr.default_paper(["en", "de-DE"]) == "a4"
    assert pr.default_paper([]) == "a4"


# -- the results page read as a person reads it --------------------------------------------------
class _Sentences(HTMLParser):
    """Visible page text where each heading, list item, label, cell, summary and paragraph is a
    sentence of its own (a full stop is added where it has none); the lists of sources, the
    source keys and the site chrome are left out."""
    BLOCK = {"h1", "h2", "h3", "h4", "h5", "h6", "li", "label", "summary", "p", "dt", "dd", "th",
             "td", "caption", "legend", "button", "a"}
    SKIP = {"sources-list", "cite", "rule-meta"}

    def __init__(self):
        super().__init__()
        self.stack, self.parts, self.cur = [], [], []

    def _flush(self):
        t = " ".join(" ".join(self.cur).split())
        if t:
            self.parts.append(t if t[-1] in ".!?:" else t + ".")
        self.cur = []

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "br", "meta", "link", "img"):
            return
        classes = set((dict(attrs).get("class") or "").split())
        skip = bool(classes & self.SKIP) or tag in ("script", "style", "title", "header")
        self.stack.append(skip or (self.stack[-1] if self.stack else False))
        if tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag):
        if tag in ("input", "br", "meta", "link", "img"):
            return
        if tag in self.BLOCK:
            self._flush()
        if self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]) and data.strip():
            self.cur.append(data.strip())


def sentences(html):
    p = _Sentences()
    p.feed(html)
    p._flush()
    return " ".join(p.parts)


@pytest.mark.parametrize("name", ["typical", "fracture", "unknown"])
def test_results_page_read_sentence_by_sentence_is_grade_8_or_lower(client, rulebook, typical, name):
    answers = {"typical": typical, "fracture": FRACTURE_RISK, "unknown": all_unknown(rulebook)}[name]
    html = client.post("/plan", data=answers).get_data(as_text=True)
    text = sentences(html)
    assert len(text.split()) > 800
    g = textstat.flesch_kincaid_grade(text)
    assert g <= MAX_GRADE, f"{name}: grade {g:.1f}"


def test_summary_read_sentence_by_sentence_is_grade_8_or_lower(client, typical):
    html = client.post("/summary", data=typical).get_data(as_text=True)
    g = textstat.flesch_kincaid_grade(sentences(html))
    assert g <= MAX_GRADE, f"summary: grade {g:.1f}"
