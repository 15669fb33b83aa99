"""The decision, values and steps (issue 11): what ``templates/_decide.html`` shows.

* the decision box: what is decided, that options combine, no one right answer, the options
  most often discussed for these answers, the lead to "no new treatment for now";
* the "what cancer in the bones can cause" explainer (rules/decision.yaml);
* the four steps Learn -> Weigh -> Check readiness -> Decide together: for each priority the
  person chose, "how much does this matter to me" and every listed option's fact about it
  (the catalog's ``priorities``), in catalog order: never a score, a ranking or a winner;
  "which way am I leaning"; the SURE check (Légaré 2010, OHRI);
* the person's step answers, read from the posted form (nothing stored): only known field
  names and values are kept, anything else is dropped, so bad input never fails.

Clinical words come from the rule book; interface words are in the template (Flask-Babel).
"""
from __future__ import annotations

import datetime as _dt
from typing import Mapping

from .decision import sources_of
from .rules import RuleBook

PREFIX = "decide_"
MATTER = "matter_"
MATTER_LEVELS = ("a_lot", "some", "not_much")
LEANING = PREFIX + "leaning"
UNDECIDED = "undecided"
SURE_ITEMS = ("sure", "understand", "risk_benefit", "encouragement")  # S, U, R, E
SURE_ANSWERS = ("y", "n")  # yes (1 point), no


def _posted(form: Mapping | None, name: str, allowed) -> str | None:
    if form is None:
        return None
    try:
        v = form.get(name)
    except Exception:  # a mapping that cannot answer is treated as empty
        return None
    return v if isinstance(v, str) and v in allowed else None


def values_rows(shown, form: Mapping | None = None) -> list:
    """For each priority the person chose: the radio field for "how much does this matter",
    the level they picked (if any) and, for every listed option in the order listed, the
    catalog's fact about it (None when the catalog says nothing: shown as "ask your team")."""
    rows = []
    for p in shown.priorities["chosen"]:
        field = f"{PREFIX}{MATTER}{p['value']}"
        facts = [{"id": c["id"], "name": c["name"],
                  "text": c["catalog"]["priorities"].get(p["value"])} for c in shown.listed]
        rows.append({"value": p["value"], "label": p["label"], "field": field,
                     "level": _posted(form, field, MATTER_LEVELS), "facts": facts,
                     # each fact as plain values, its kept part's key (bonemets/fragments.py)
                     "fact_keys": tuple((f["id"], f["name"], f["text"]) for f in facts)})
    return rows


def decide_view(rb: RuleBook, shown, form: Mapping | None = None) -> dict:
    """Everything the decision box, the explainer, the steps and the SURE check show."""
    d = rb.decision
    discuss_group = rb.meta["vocabulary"]["listed_groups"][0]
    discussed = [{"id": c["id"], "name": c["name"]} for g in shown.groups if g["id"] == discuss_group
                 for c in g["cards"]]
    nnt_id = d["nothing_new"]["option"]
    nnt = shown.cards.get(nnt_id)
    no_treatment = None
    if nnt is not None:
        cat = nnt["catalog"]
        no_treatment = {"id": nnt_id, "name": nnt["name"], "group": nnt["group"],
                        "group_short": nnt["group_short"], "lead": d["nothing_new"]["lead"],
                        "benefit": cat["benefits"][0], "downside": cat["downsides"][0]}
    values = values_rows(shown, form)
    choices = [(c["id"], c["name"]) for c in shown.listed]
    leaning = _posted(form, LEANING, {v for v, _ in choices} | {UNDECIDED})
    sure = [{"id": s, "field": f"{PREFIX}sure_{s}",
             "answer": _posted(form, f"{PREFIX}sure_{s}", SURE_ANSWERS)} for s in SURE_ITEMS]
    answered = [s for s in sure if s["answer"]]
    hidden = [(r["field"], r["level"]) for r in values if r["level"]]
    hidden += [(LEANING, leaning)] if leaning else []
    hidden += [(s["field"], s["answer"]) for s in answered]
    return {
        "decision": d["decision"], "explainer": d["explainer"], "discussed": discussed,
        "no_treatment": no_treatment, "value_rows": values, "matter_levels": MATTER_LEVELS,
        "leaning_field": LEANING, "leaning_choices": choices, "leaning": leaning,
        "leaning_name": dict(choices).get(leaning), "undecided": UNDECIDED,
        "sure": sure, "sure_yes": sum(s["answer"] == SURE_ANSWERS[0] for s in sure),
        "sure_answered": len(answered), "sure_no": [s["id"] for s in sure if s["answer"] == SURE_ANSWERS[1]],
        "sources": {k: rb.sources[k] for k in sources_of(d)},
        "hidden": hidden,
        # What the results page renders the box and the steps from, as plain values (each part
        # is rendered once per process for its values: bonemets/fragments.py).
        "discussed_key": tuple((o["id"], o["name"]) for o in discussed),
        "source_keys": tuple(sources_of(d)),
    }


def about_facts(rb: RuleBook) -> dict:
    """What /about states about reviews and readability, computed from meta.yaml: the next
    review is due ``review_interval_days`` after ``reviewed`` (never typed by hand)."""
    meta = rb.meta
    interval = int(meta["review_interval_days"])
    return {"reviewed": rb.reviewed, "interval_days": interval,
            "next_review": rb.reviewed + _dt.timedelta(days=interval),
            "decision_reviewed": rb.decision["reviewed"],
            "readability": meta["readability"]}
