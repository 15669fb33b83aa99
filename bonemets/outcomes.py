"""Outcomes as data: each option's main benefits and harms as whole numbers out of 100.

``rules/outcomes.yaml`` holds them (the contract's ``outcomes`` shape, CONTRACT.md "Additions of
2026-12"). :func:`load_outcomes` checks the file against the option catalog and the source list;
the rule book loader calls it, so a bad outcome stops the app from starting just like a bad rule.
Pure data checks: no Flask, no I/O (the caller reads the YAML).
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

from .rules import RuleBookError

__all__ = ["load_outcomes", "OUTCOME_KEYS", "CERTAINTIES", "KINDS", "PER", "FILE"]

FILE = "outcomes.yaml"
PER = 100
KINDS = ("benefit", "harm")
# GRADE certainty of evidence, most sure first.
CERTAINTIES = ("high", "moderate", "low", "very_low")
# The contract's keys, in the order the JSON plan gives them.
OUTCOME_KEYS = ("id", "label", "kind", "with", "without", "per", "timeframe", "range",
                "certainty", "population", "comparator", "sources")
# Our additions (allowed by the contract): the two frames in words, needed when `with` is a number.
FRAME_KEYS = ("event", "no_event")
_TEXT_KEYS = ("label", "timeframe", "population", "comparator")


def _expect(cond: bool, where: str | None, message: str) -> None:
    if not cond:
        raise RuleBookError(FILE, where, message)


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= PER


def _text(v: Any) -> str | None:
    return " ".join(v.split()) if isinstance(v, str) and v.strip() else None


def _check_outcome(item: Any, oid: str, sources: Mapping[str, Any]) -> dict:
    _expect(isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip(),
            oid, "every outcome needs an 'id'")
    where = f"{oid}/{item['id']}"
    missing = [k for k in OUTCOME_KEYS if k not in item]
    _expect(not missing, where, f"is missing {', '.join(repr(m) for m in missing)}")
    extra = sorted(set(item) - set(OUTCOME_KEYS) - set(FRAME_KEYS))
    _expect(not extra, where, f"has unknown keys {extra}")

    out: dict = {"id": item["id"]}
    for key in _TEXT_KEYS:
        out[key] = _text(item[key])
        _expect(out[key] is not None, where, f"needs a plain-language '{key}'")
    _expect(item["kind"] in KINDS, where, f"kind must be one of {', '.join(KINDS)}")
    _expect(item["per"] == PER and not isinstance(item["per"], bool), where,
            f"'per' must be {PER}")
    _expect(item["certainty"] in CERTAINTIES, where,
            f"certainty '{item['certainty']}' is not one of {', '.join(CERTAINTIES)}")
    _expect(isinstance(item["sources"], list) and item["sources"], where,
            "needs at least one source key in 'sources'")
    for key in item["sources"]:
        _expect(key in sources, where, f"cites unknown source '{key}' (not in sources.yaml)")
        # As for every rule: a cited source must be evidence for this option (its 'covers').
        covers = sources[key].get("covers")
        _expect(covers is None or oid in covers, where,
                f"cites source '{key}', which is not evidence for '{oid}' "
                f"(its 'covers' in sources.yaml: {sorted(covers or []) or 'nothing'})")

    with_, without, rng = item["with"], item["without"], item["range"]
    if with_ is None:
        # No number in the evidence: the label says what is not known; nothing to picture.
        _expect(without is None and rng is None, where,
                "when 'with' is null (no number known), 'without' and 'range' must be null too")
    else:
        _expect(_is_count(with_), where, f"'with' must be a whole number from 0 to {PER} (or null)")
        _expect(without is None or _is_count(without), where,
                f"'without' must be a whole number from 0 to {PER} (or null)")
        _expect(isinstance(rng, list) and len(rng) == 2 and all(_is_count(v) for v in rng),
                where, f"'range' must be [low, high], whole numbers from 0 to {PER}")
        _expect(rng[0] <= with_ <= rng[1], where,
                f"'range' {rng} does not contain 'with' ({with_})")
        for key in FRAME_KEYS:
            _expect(_text(item.get(key)) is not None, where,
                    f"needs '{key}' (the frame in words) when 'with' is a number")
    out.update({"kind": item["kind"], "with": with_, "without": without, "per": PER,
                "range": list(rng) if rng is not None else None,
                "certainty": item["certainty"], "sources": list(item["sources"])})
    for key in FRAME_KEYS:
        if _text(item.get(key)):
            out[key] = _text(item[key])
    return {k: out[k] for k in (*OUTCOME_KEYS, *FRAME_KEYS) if k in out}


def load_outcomes(data: Any, options: Mapping[str, Any], sources: Mapping[str, Any]) -> dict:
    """Check the parsed ``outcomes.yaml`` against the catalog and sources.

    Returns ``{option_id: (outcome dict, ...)}`` in catalog order. Raises RuleBookError naming
    the file and ``option_id/outcome_id`` (or the option id) on any problem.
    """
    _expect(isinstance(data, dict) and isinstance(data.get("outcomes"), dict), None,
            "needs 'reviewed' (a date) and 'outcomes' (option id -> list of outcomes)")
    _expect(isinstance(data.get("reviewed"), _dt.date), None,
            "needs a 'reviewed' date written as YYYY-MM-DD")
    extra = sorted(set(data) - {"reviewed", "outcomes"})
    _expect(not extra, None, f"has unknown keys {extra}")
    by_option = data["outcomes"]
    for oid in by_option:
        _expect(oid in options, str(oid), "gives outcomes for an option that is not in options.yaml")
    result = {}
    for oid in options:
        items = by_option.get(oid)
        _expect(isinstance(items, list) and items, oid,
                "has no outcomes: every option in options.yaml needs its main benefit and harm")
        checked, seen = [], set()
        for item in items:
            o = _check_outcome(item, oid, sources)
            _expect(o["id"] not in seen, f"{oid}/{o['id']}", "duplicate outcome id for this option")
            seen.add(o["id"])
            checked.append(o)
        kinds = {o["kind"] for o in checked}
        _expect(kinds == set(KINDS), oid, "needs at least one benefit and one harm outcome")
        result[oid] = tuple(checked)
    return result
