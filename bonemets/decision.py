"""The decision, stated, as data: ``rules/decision.yaml``.

What is being decided, that options can be combined, that there is no one right answer, the
lead to the "no new treatment for now" option and a short "what cancer in the bones can cause"
explainer. All of it is clinical wording, so it lives in ``rules/``; :func:`load_decision` checks
it (every text present, every source known, the option in the catalog) and the rule book loader
calls it, so a bad file stops the app from starting like a bad rule. Pure data checks: no Flask,
no I/O (the caller reads the YAML).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

from .rules import RuleBookError

FILE = "decision.yaml"
# section -> the texts it must have (each a non-empty string)
TEXTS = {"decision": ("what", "combine", "no_right_answer"),
         "nothing_new": ("lead",),
         "explainer": ("intro", "aim")}


def _expect(cond: bool, where: str | None, message: str) -> None:
    if not cond:
        raise RuleBookError(FILE, where, message)


def _text(section: Mapping, key: str, where: str) -> str:
    v = section.get(key)
    _expect(isinstance(v, str) and v.strip(), where, f"needs a plain-language '{key}'")
    return " ".join(v.split())


def _keys(value: Any, sources: Mapping, where: str) -> tuple:
    _expect(isinstance(value, list) and value, where, "needs at least one source key in 'sources'")
    for k in value:
        _expect(k in sources, where, f"cites unknown source '{k}' (not in sources.yaml)")
    return tuple(value)


def load_decision(data: Any, options: Mapping, sources: Mapping) -> dict:
    """Check the parsed ``decision.yaml``; return it with whitespace folded and tuples for lists.
    Raises RuleBookError naming the file and the section on any problem."""
    _expect(isinstance(data, dict), None, "must be a mapping")
    _expect(isinstance(data.get("reviewed"), _dt.date), None,
            "needs a 'reviewed' date written as YYYY-MM-DD")
    extra = sorted(set(data) - {"reviewed", *TEXTS})
    _expect(not extra, None, f"has unknown keys {extra}")
    out: dict = {"reviewed": data["reviewed"]}
    for name, keys in TEXTS.items():
        section = data.get(name)
        _expect(isinstance(section, dict), name, "is missing or not a mapping")
        allowed = {*keys, "sources", "option", "problems"}
        unknown = sorted(set(section) - allowed)
        _expect(not unknown, name, f"has unknown keys {unknown}")
        out[name] = {k: _text(section, k, name) for k in keys}
        out[name]["sources"] = _keys(section.get("sources"), sources, name)
    oid = data["nothing_new"].get("option")
    _expect(oid in options, "nothing_new", f"names unknown option '{oid}'")
    out["nothing_new"]["option"] = oid
    problems = data["explainer"].get("problems")
    _expect(isinstance(problems, list) and problems, "explainer", "needs a list of 'problems'")
    out["explainer"]["problems"] = tuple(
        {"text": _text(p if isinstance(p, dict) else {}, "text", f"explainer/problems[{i}]"),
         "sources": _keys((p or {}).get("sources") if isinstance(p, dict) else None, sources,
                          f"explainer/problems[{i}]")}
        for i, p in enumerate(problems))
    return out


def sources_of(decision: Mapping) -> list:
    """Every source key the decision box and explainer cite, first cited first."""
    keys = [k for name in TEXTS for k in decision[name]["sources"]]
    keys += [k for p in decision["explainer"]["problems"] for k in p["sources"]]
    return list(dict.fromkeys(keys))


READABILITY_KEYS = ("what", "flesch_kincaid_grade", "smog_index")


def load_readability(meta: Mapping) -> None:
    """Check ``readability`` in meta.yaml: the scores shown on /about, the date they were
    measured and the tool (re-measured by ``scripts/cdc_index.py --readability``; a test checks
    they still hold)."""
    where = "meta.yaml"
    r = meta.get("readability")
    if not isinstance(r, dict):
        raise RuleBookError(where, None, "needs 'readability' (measured, tool, scores)")
    if not isinstance(r.get("measured"), _dt.date):
        raise RuleBookError(where, "readability", "needs a 'measured' date written as YYYY-MM-DD")
    if not (isinstance(r.get("tool"), str) and r["tool"].strip()):
        raise RuleBookError(where, "readability", "needs the 'tool' that measured the scores")
    scores = r.get("scores")
    if not (isinstance(scores, list) and scores):
        raise RuleBookError(where, "readability", "needs a list of 'scores'")
    for s in scores:
        if not (isinstance(s, dict) and set(s) == set(READABILITY_KEYS)
                and isinstance(s["what"], str)
                and all(isinstance(s[k], (int, float)) and not isinstance(s[k], bool)
                        for k in READABILITY_KEYS[1:])):
            raise RuleBookError(where, "readability",
                                f"each score needs exactly {', '.join(READABILITY_KEYS)}")
