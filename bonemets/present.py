"""The presenter: a Plan -> what every output shows.

The results page, the summary, the PDF, the rule book page and every later export (FHIR, CDS
Hooks cards, another language) show the same things, made here once from the Plan, the answers
and the rule book: the answers in plain words, red flags, option cards by group, the option grid,
the priorities, the questions to ask, and the sources cited by whatever is shown.

Words come from the rule book's data (labels, catalog, meta.yaml) or from the interface's message
catalog (``bonemets/messages.py``); nothing here parses engine strings: reasons carry ``facts``
(field and values), which are turned into words here.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from . import messages as msg
from .rules import Plan, RuleBook


# --------------------------------------------------------------------------------------------
# The vocabulary's roles (rules/meta.yaml, 'vocabulary')
# --------------------------------------------------------------------------------------------
def vocabulary(rb: RuleBook) -> dict:
    return rb.meta["vocabulary"]


def group_order(rb: RuleBook) -> list:
    """Group ids in the order every page shows them (rules/meta.yaml, 'groups')."""
    return list(rb.meta["groups"])


def unsure_values(rb: RuleBook) -> frozenset:
    return frozenset(vocabulary(rb)["unsure_answers"])


# --------------------------------------------------------------------------------------------
# Answers and facts in plain words
# --------------------------------------------------------------------------------------------
def _answer_text(f, values: list) -> str:
    if not values:
        return str(msg.NOT_ANSWERED)
    if f.kind == "number":
        return str(values[0])
    return msg.SAID_JOIN.join(f.label_for(v) for v in values)


def answer_rows(rb: RuleBook, answers: dict) -> list:
    """The person's answers in plain words, one row per question that applies, "I don't know"
    and "Not answered" included."""
    rows = []
    unsure = frozenset((vocabulary(rb)["dont_know"],))
    for section in rb.sections:
        for name in section.fields:
            f = rb.fields[name]
            if not f.applies(answers) and name not in answers:
                continue
            v = answers.get(name)
            values = [] if v is None or v == [] else (list(v) if isinstance(v, list) else [v])
            rows.append({"field": name, "section": section.id, "question": f.summary_label,
                         "answer": _answer_text(f, values), "answered": bool(values),
                         "unsure": not values or set(values) <= unsure})
    return rows


def sentence(text) -> str:
    """Text ending in exactly one full stop (or its own ? or !): never "..", never none (the
    templates' ``sentence`` filter)."""
    t = str(text).rstrip()
    return t if t.endswith((".", "?", "!", "…")) else t + "."


def said_sentence(said_list: list) -> str:
    """What the person said, as the sentence after "Because you said:" ("" for nothing)."""
    return sentence(msg.SAID_JOIN.join(said_list)) if said_list else ""


def said(rb: RuleBook, facts: list) -> list:
    """A reason's facts (the answers that triggered it) in plain words."""
    out = []
    for fact in facts or ():
        f = rb.fields[fact["field"]]
        text = _answer_text(f, fact["values"]) if fact["values"] else str(msg.NOT_ANSWERED_SAID)
        out.append(f"{f.summary_label}: {text}")
    return out


def only_if_tokens(f) -> list:
    """``field=value`` tokens of the answers that make a follow-up question apply (the
    questionnaire marks each follow-up with them; the follow-up stylesheet matches them)."""
    return [f"{lead}={v}" for lead, values in f.only_if.items() for v in values]


@functools.lru_cache(maxsize=4096)
def first_sentence(text: str) -> str:
    """The first sentence of a catalog text (the compact printed grid and summary notes).
    Catalog texts do not depend on the answers: each is cut once per process."""
    for i, ch in enumerate(text):
        if ch in ".!?" and (i + 1 == len(text) or text[i + 1] == " ") and i > 20:
            return text[: i + 1]
    return text


def hidden_pairs(values: dict, skip=()) -> list:
    """(name, value) pairs that carry answers to the next page as hidden fields."""
    pairs = []
    for name, v in values.items():
        if name in skip:
            continue
        for item in (v if isinstance(v, list) else [v]):
            if item not in (None, ""):
                pairs.append((name, str(item)))
    return pairs


# --------------------------------------------------------------------------------------------
# Conditions in plain words (the rule book page)
# --------------------------------------------------------------------------------------------
def _labels(f, values, joiner) -> str:
    ordered = [f'"{f.label_for(v)}"' for v in f.values if v in values]
    if len(ordered) <= 1:
        return "".join(ordered)
    return ", ".join(ordered[:-1]) + f" {joiner} " + ordered[-1]


def describe_matcher(rb: RuleBook, m) -> str:
    f = rb.fields[m.field]
    c = msg.COND
    q = f.summary_label
    either, both = str(c["or"]), str(c["and"])
    parts = []
    if m.any is not None:
        parts.append(str(c["is" if f.kind == "one" else "includes"]) % {"q": q, "names": _labels(f, m.any, either)})
    if m.all is not None:
        parts.append(str(c["includes_all"]) % {"q": q, "names": _labels(f, m.all, both)})
    if m.none is not None:
        parts.append(str(c["is_not" if f.kind == "one" else "not_includes"])
                     % {"q": q, "names": _labels(f, m.none, either)})
    if m.known is True:
        parts.append(str(c["known"]) % {"q": q})
    if m.known is False:
        parts.append(str(c["not_known"]) % {"q": q})
    if m.min is not None and m.max is not None:
        parts.append(str(c["between"]) % {"q": q, "min": m.min, "max": m.max})
    elif m.min is not None:
        parts.append(str(c["at_least"]) % {"q": q, "min": m.min})
    elif m.max is not None:
        parts.append(str(c["at_most"]) % {"q": q, "max": m.max})
    return f" {both} ".join(parts)


def describe(rb: RuleBook, condition) -> str:
    """A rule's condition in plain words."""
    if not condition.matchers:
        return str(msg.COND["always"])
    return str(msg.COND["if"]) % {
        "conditions": str(msg.COND["join"]).join(describe_matcher(rb, m) for m in condition.matchers)}


# --------------------------------------------------------------------------------------------
# What an output shows
# --------------------------------------------------------------------------------------------
def reason_view(rb: RuleBook, r) -> dict:
    """A reason: ``said`` the answers behind it in plain words, ``said_text`` them as one
    sentence."""
    s = said(rb, r.facts)
    return {"rule": r.rule, "group": r.group, "text": r.text, "sources": r.sources,
            "said": s, "said_text": said_sentence(s)}


def option_card(rb: RuleBook, o, lead_order: dict | None = None) -> dict:
    """One option as every output shows it: catalog entry, group, reasons on both sides, checks.

    ``lead`` is the one reason shown up front (the first of the option's own group: reasons come
    in precedence order), ``more`` the rest (folded); ``strength`` how many rules of its own group
    placed it (the order within a group, see ``order_cards``). ``checks`` are the cautions shown:
    only where the option is listed to talk about (meta.yaml ``listed_groups``). ``lead_order``:
    ``lead_order(rb)``, made once per page by ``present``."""
    reasons = [reason_view(rb, r) for r in o.reasons]
    rank = rb.precedence[0]  # the group that always wins (a safety rule) is shown as "against"
    own = [r for r in reasons if r["group"] == o.group]
    listed = o.group in vocabulary(rb)["listed_groups"]
    return {
        "id": o.id, "group": o.group, "group_short": rb.meta["groups"][o.group]["short"],
        "catalog": rb.options[o.id], "name": rb.options[o.id]["name"],
        "reasons": reasons,
        "against": [r for r in reasons if r["group"] == rank],
        "fits": [r for r in reasons if r["group"] != rank],
        "cautions": o.cautions,
        "checks": [dict(c) for c in o.cautions] if listed else [],
        "listed": listed,
        "lead": reasons[0] if reasons else None,
        "more": reasons[1:],
        "strength": len(own),
        "lead_rank": _lead_rank(rb, own, lead_order),
    }


def lead_rules(rb: RuleBook) -> list:
    """Rule ids whose options come first in their group, in this order (rules/meta.yaml,
    ``ordering: lead_rules``: a broken or at-risk bone is made stable before anything else)."""
    return list((rb.meta.get("ordering") or {}).get("lead_rules") or ())


def lead_order(rb: RuleBook) -> dict:
    """Rule id -> its place in ``lead_rules``."""
    return {rid: i for i, rid in enumerate(lead_rules(rb))}


def _lead_rank(rb: RuleBook, own: list, order: dict | None = None) -> int:
    order = lead_order(rb) if order is None else order
    ranks = [order[r["rule"]] for r in own if r["rule"] in order]
    return min(ranks) if ranks else len(order)


def order_cards(cards: list) -> list:
    """Within a group: options placed by a lead rule first (in meta.yaml's order), then those
    more of the group's rules placed (how strongly the answers point to them), then catalog
    order (the plan's order; ``sorted`` is stable)."""
    return sorted(cards, key=lambda c: (c["lead_rank"], -c["strength"]))


def dedupe(cards: list) -> None:
    """No paragraph twice on a page: a reason or check whose words an earlier card (in page
    order) already shows points to that card (``same_as``) instead of repeating them; repeats
    within one card are dropped."""
    seen_reason: dict = {}
    seen_check: dict = {}
    for card in cards:
        mine = set()
        shown = [r for r in card["reasons"] if not (r["text"] in mine or mine.add(r["text"]))]
        for r in shown:
            first = seen_reason.setdefault(r["text"], card)
            r["same_as"] = None if first is card else {"id": first["id"], "name": first["name"]}
        card["lead"] = shown[0] if shown else None
        card["more"] = shown[1:]
        for c in card["checks"]:
            first = seen_check.setdefault((c["id"], c["text"]), card)
            c["same_as"] = None if first is card else {"id": first["id"], "name": first["name"]}


def _same(x: dict) -> tuple:
    same = x.get("same_as")
    return (same["id"], same["name"]) if same else (None, None)


def plain_keys(card: dict) -> None:
    """The card's parts as plain values (ids and the rule book's words, in tuples: what the plan
    shows, never what the person said or chose, which each page renders itself), which is all
    its screen parts are rendered from (templates/_macros.html ``option_card``), so each part can
    be rendered once per process for its values (bonemets/fragments.py): a reason's ``key`` is
    (rule id, its words, same-as id, same-as name); ``check_keys`` one
    (caution id, title, words, same-as id, same-as name) per check; ``source_keys`` the sources
    behind it."""
    for r in card["reasons"]:
        r["key"] = (r["rule"], r["text"]) + _same(r)
    card["check_keys"] = tuple((c["id"], c["title"], c["text"]) + _same(c) for c in card["checks"])
    card["source_keys"] = tuple(card["sources"])


def red_flag_view(rb: RuleBook, f) -> dict:
    view = {"id": f.id, "urgency": f.urgency, "heading": rb.meta["urgency"][f.urgency]["heading"],
            "title": f.title, "action": f.action, "sources": f.sources,
            "rule": f.reasons[0].rule, "said": [s for r in f.reasons for s in said(rb, r.facts)]}
    view["said_text"] = said_sentence(view["said"])
    # the flag's rule book words as plain values, its part's key (bonemets/fragments.py): what
    # the person said is not part of it
    view["key"] = (f.id, f.urgency, view["heading"], f.title, f.action)
    return view


# Until the person ticks others, the table compares the first three options listed (page order:
# the ones the answers point to most). Option Grids compare 2-3 options (DECISION_AIDS.md 2.1);
# it keeps the printed table readable. A layout choice, not a clinical one: every listed option
# can be ticked.
COMPARE_FIRST = 3

# Paper: US Letter where it is the usual size (the region of the first Accept-Language tag),
# else A4. The person can choose either for the PDF.
LETTER_REGIONS = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PR"})
PAPERS = ("a4", "letter")


def default_paper(language_tags) -> str:
    """'letter' or 'a4' from the browser's languages (e.g. ['en-US', 'en']), first tag first."""
    for tag in language_tags:
        parts = str(tag).replace("_", "-").split("-")
        if len(parts) > 1:
            return "letter" if parts[1].upper() in LETTER_REGIONS else "a4"
    return "a4"


def grid(rb: RuleBook, cards: list, chosen: list | None = None) -> dict:
    """The option grid (an Option Grid): one row per catalog field (messages.GRID_ROWS: the
    same rows on screen and on paper, benefits and downsides alike), one column per option
    compared. Each cell has the full text (screen) and a short one (print: a text's first
    sentence, a list's first item, for benefits and downsides alike). ``choices`` are every
    option that may be compared, with whether it is in the table; ``chosen`` (option ids) picks
    the columns; none (or no known id) means the first ``COMPARE_FIRST`` in page order."""
    ids = [c["id"] for c in cards]
    pick = [i for i in ids if i in set(chosen or ())] or ids[:COMPARE_FIRST]
    shown = [c for c in cards if c["id"] in pick]
    rows = []
    for key, label in msg.GRID_ROWS:
        cells = []
        for card in shown:
            v = card["catalog"][key]
            full = v if isinstance(v, list) else str(v)
            brief = v[0] if isinstance(v, list) else first_sentence(v)
            cells.append({"full": full, "brief": brief})
        rows.append({"key": key, "label": str(label), "cells": cells})
    return {"options": shown, "rows": rows,
            "choices": [{"id": c["id"], "name": c["name"], "group_short": c["group_short"],
                         "checked": c["id"] in pick} for c in cards],
            "picked": bool(set(chosen or ()) & set(ids)), "ids": [c["id"] for c in shown]}


def priorities(rb: RuleBook, answers: dict, cards: list) -> dict:
    """What matters most to the person, each with what the listed options' catalog says about it;
    or, when nothing is chosen, the things people often weigh up."""
    name = vocabulary(rb)["priorities_field"]
    f = rb.fields[name]
    unsure = unsure_values(rb)
    chosen = []
    for p in [p for p in (answers.get(name) or []) if p not in unsure]:
        notes = []
        for card in cards:
            t = card["catalog"]["priorities"].get(p)
            if t:
                notes.append(f"{card['name']}: {first_sentence(t)}")
        chosen.append({"value": p, "label": f.label_for(p), "notes": notes})
    return {"chosen": chosen, "choices": [label for v, label in f.choices if v not in unsure]}


def questions(rb: RuleBook, plan: Plan, discuss: list) -> list:
    """Questions to ask: the plan's own, then the first catalog question of each option often
    discussed."""
    qs = [q["text"] for q in plan.questions]
    qs += [f"{c['name']}: {c['catalog']['questions'][0]}" for c in discuss]
    return qs


def cited_sources(rb: RuleBook, plan: Plan, flags: list, cards: list) -> dict:
    """Every source cited by what the summary shows: the red flags, and every reason of each
    listed card (on paper a check shows only its title; its words and sources are on the results
    page), in the order first cited."""
    keys = [k for f in flags for k in f["sources"]]
    keys += [k for card in cards for r in card["reasons"] for k in r["sources"]]
    return {k: plan.sources.get(k) or rb.sources[k] for k in dict.fromkeys(keys)}


def card_sources(card: dict) -> list:
    """The sources behind a card's reasons and checks ("where this comes from")."""
    keys = [k for r in card["reasons"] for k in r["sources"]]
    keys += [k for c in card["checks"] for k in c["sources"]]
    return list(dict.fromkeys(keys))


@dataclass
class Shown:
    """Everything the outputs of one plan show (a template gets it as ``shown``)."""
    plan: Plan
    answers: dict
    answer_rows: list
    red_flags: list
    groups: list          # [{"id", "heading", "intro", "cards"}], in meta.yaml's order
    cards: dict           # option id -> card
    listed: list          # the cards of the options to talk about (summary and grid)
    unlikely: list
    grid: dict
    priorities: dict
    questions: list
    sources: dict         # every source the plan uses (results page)
    summary_sources: dict  # every source the summary shows a reason or warning from
    hidden: list = field(default_factory=list)
    hidden_answers: list = field(default_factory=list)  # the answers only (the compare form)
    questions_first: bool = False
    folded_groups: tuple = ()  # groups shown folded (no rule points to or away from them)  # "I don't know" answers: the questions lead the page

    @property
    def has_emergency(self) -> bool:
        return self.plan.has_emergency


def present(rb: RuleBook, plan: Plan, answers: dict, compare: list | None = None) -> Shown:
    """``compare``: the option ids the person chose to see side by side (none: the first
    ``COMPARE_FIRST`` listed)."""
    order = lead_order(rb)
    cards = {o.id: option_card(rb, o, order) for o in plan.options}
    groups = []
    for g in group_order(rb):
        meta = rb.meta["groups"][g]
        gc = order_cards([cards[o.id] for o in plan.options if o.group == g])
        if gc:
            groups.append({"id": g, "heading": meta["heading"], "intro": meta.get("intro"),
                           "cards": gc})
    page_order = [c for g in groups for c in g["cards"]]
    dedupe(page_order)
    for card in page_order:
        card["sources"] = card_sources(card)
        plain_keys(card)
    listed_groups = vocabulary(rb)["listed_groups"]
    listed = [c for c in page_order if c["group"] in listed_groups]
    unlikely = [c for c in page_order if c["group"] == rb.precedence[0]]
    # The summary shows the lead reason of each listed option; the unlikely ones by name.
    listed_ids = {c["id"] for c in listed}
    for card in cards.values():
        card["in_grid"] = False  # the listed ones in the compared table: below
        card["shown"] = [card["lead"]] if card["id"] in listed_ids else []
        # On paper a listed option gets its lead reason's first sentence (whole, never cut).
        card["print_reason"] = first_sentence(card["lead"]["text"]) if card["lead"] else ""
    shown_grid = grid(rb, listed, compare)
    for card in listed:
        card["in_grid"] = card["id"] in shown_grid["ids"]
    flags = [red_flag_view(rb, f) for f in plan.red_flags]
    discuss = [c for c in listed if c["group"] == listed_groups[0]]
    unsure, skip = unsure_values(rb), vocabulary(rb)["priorities_field"]
    not_known = [n for n, v in answers.items() if n != skip
                 and (bool(v) and set(v) <= unsure if isinstance(v, list) else v in unsure)]
    carried = hidden_pairs(answers)
    return Shown(
        plan=plan, answers=answers, answer_rows=answer_rows(rb, answers), red_flags=flags,
        groups=groups, cards=cards, listed=listed, unlikely=unlikely,
        grid=shown_grid,
        priorities=priorities(rb, answers, shown_grid["options"]), questions=questions(rb, plan, discuss),
        sources=plan.sources,
        summary_sources=cited_sources(rb, plan, flags, listed),
        hidden=carried + [("compare", i) for i in (compare or ())
                          if shown_grid["picked"] and i in shown_grid["ids"]],
        hidden_answers=carried, questions_first=bool(not_known),
        folded_groups=tuple(g for g in group_order(rb) if g not in rb.precedence))


def rulebook_card(rb: RuleBook, option_id: str) -> dict:
    """An option as the rule book page shows it: the catalog entry and the rules that place it,
    by group in precedence order."""
    rules = rb.rules_for_option(option_id)
    return {"id": option_id, "catalog": rb.options[option_id], "name": rb.options[option_id]["name"],
            "by_group": [{"group": g, "heading": rb.meta["groups"][g]["heading"],
                          "rules": [r for r in rules if r.group == g]}
                         for g in rb.precedence if any(r.group == g for r in rules)],
            "placed": bool(rules)}

