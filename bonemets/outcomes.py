"""Outcomes as data: each option's main benefits and harms as whole numbers out of 100.

``rules/outcomes.yaml`` holds them (the contract's ``outcomes`` shape, CONTRACT.md "Additions of
2026-12"). :func:`build_outcomes` checks the numbers against the option catalog and the source list;
the rule book loader (:mod:`bonemets.loader`, whose table holds the file's schema) calls it, so a
bad outcome stops the app from starting just like a bad rule. Pure data checks: no Flask, no I/O.
"""
from __future__ import annotations

from typing import Any, Mapping

from .rules import RuleBookError

__all__ = ["build_outcomes", "OUTCOME_KEYS", "CERTAINTIES", "KINDS", "PER", "FILE"]

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


def _expect(cond: bool, where: str | None, message: str) -> None:
    if not cond:
        raise RuleBookError(FILE, where, message)


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= PER


def _text(v: Any) -> str | None:
    return " ".join(v.split()) if isinstance(v, str) and v.strip() else None


def _check_outcome(item: Mapping, oid: str, sources: Mapping[str, Any]) -> dict:
    """One outcome whose keys and kinds the loader's schema has checked: the numbers and frames."""
    where = f"{oid}/{item['id']}"
    _expect(item["per"] == PER and not isinstance(item["per"], bool), where,
            f"'per' must be {PER}")
    for key in item["sources"]:
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
    out = {k: item[k] for k in OUTCOME_KEYS}
    out.update({"per": PER, "range": list(rng) if rng is not None else None,
                "sources": list(item["sources"])})
    for key in FRAME_KEYS:
        if _text(item.get(key)):
            out[key] = _text(item[key])
    return out


def build_outcomes(data: Mapping, options: Mapping[str, Any], sources: Mapping[str, Any]) -> dict:
    """The checked ``outcomes.yaml`` (keys, kinds and sources checked by the loader's schema,
    :mod:`bonemets.loader`) -> ``{option_id: (outcome dict, ...)}`` in catalog order. Raises
    RuleBookError naming the file and ``option_id/outcome_id`` (or the option id)."""
    by_option = data["outcomes"]
    result = {}
    for oid in options:
        _expect(oid in by_option, oid,
                "has no outcomes: every option in options.yaml needs its main benefit and harm")
        checked = [_check_outcome(item, oid, sources) for item in by_option[oid]]
        kinds = {o["kind"] for o in checked}
        _expect(kinds == set(KINDS), oid, "needs at least one benefit and one harm outcome")
        result[oid] = tuple(checked)
    return result
