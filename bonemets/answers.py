"""The one answer validator: the one-page form, the step-by-step pages, the JSON API and the
command line all check answers here, so they accept and refuse exactly the same things.

Pure and wordless: a problem is a code and its parameters (:class:`Problem`); the interface
turns it into words from its message catalog (``bonemets/messages.py``).

Codes: ``not_an_object`` (the body), ``unknown_field``, ``not_a_number`` / ``out_of_range``
(params ``min``, ``max``), ``not_one`` (a list where one answer is expected), ``not_a_choice``
(param ``value``), ``not_a_list``.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

BODY = "_body"  # the key of a problem with the whole body rather than one answer


class Problem(NamedTuple):
    code: str
    params: dict


def _problem(code: str, **params) -> Problem:
    return Problem(code, params)


def check_value(f, value: Any):
    """Check one answer to question ``f`` (a rules.Field). Returns (clean value, Problem | None);
    a clean value of None means "not answered"."""
    if value is None or value == "" or value == []:
        return None, None
    if f.kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None, _problem("not_a_number", min=f.min, max=f.max)
        if isinstance(value, str):
            s = value.strip()
            if not s:
                return None, None
            # isdecimal, not isdigit: int() refuses digits such as "²" (fuzzing found it); and no
            # int() of a string of thousands of digits
            if not (s.isdecimal() or (s[0] == "-" and s[1:].isdecimal())) or len(s) > 6:
                return None, _problem("not_a_number", min=f.min, max=f.max)
            value = int(s)
        if not (f.min <= value <= f.max):
            return None, _problem("out_of_range", min=f.min, max=f.max)
        return value, None
    if f.kind == "one":
        if not isinstance(value, str):
            if isinstance(value, list):
                return None, _problem("not_one")
            return None, _problem("not_a_choice", value=str(value)[:40])
        if value not in f.value_set:
            return None, _problem("not_a_choice", value=value[:40])
        return value, None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return None, _problem("not_a_list")
    bad = [i for i in items if i not in f.value_set]
    if bad:
        return None, _problem("not_a_choice", value=bad[0][:40])
    # Each answer once, in the question's order; "none" or "I don't know" ticked together with
    # other answers is dropped in favour of the others.
    chosen = [v for v in f.values if v in items] if len(items) > 1 else items
    real = [v for v in chosen if v not in f.exclusive]
    return (real if real else chosen), None


def validate(fields: Mapping[str, Any], data: Any) -> tuple[dict, dict]:
    """Check raw answers (parsed JSON, or the form's data). Returns (clean answers, problems by
    field). Missing, ``None`` or empty answers are left out: they mean "not answered"."""
    if not isinstance(data, Mapping):
        return {}, {BODY: _problem("not_an_object")}
    clean: dict = {}
    problems: dict = {}
    for name, value in data.items():
        f = fields.get(name) if isinstance(name, str) else None
        if f is None:
            problems[str(name)] = _problem("unknown_field")
            continue
        v, problem = check_value(f, value)
        if problem is not None:
            problems[name] = problem
        elif v is not None:
            clean[name] = v
    return clean, problems
