"""Flask JSON provider using orjson for output: the API's plan is about 24 KB of JSON, and
orjson encodes it several times faster than the standard library. Input is still parsed by the
standard library (``read_json``), which reads integers of any size (so a huge pain score gets a
clear field error instead of "not valid JSON")."""
from __future__ import annotations

import datetime as _dt
import json
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

from .rules import outcome_dicts


def _whole_number(digits: str):
    """A JSON integer as Python reads it; one too long for Python to read (over 4,300 digits:
    ``sys.get_int_max_str_digits``) stays its digits, so the answer's own check names the field
    ("Enter a whole number from 0 to 10") instead of calling the body not JSON."""
    return int(digits) if len(digits) <= 4000 else digits


def read_json(data: bytes):
    """A request body's JSON (the API, FHIR and CDS Hooks bodies); ValueError or RecursionError
    when it is not JSON."""
    return json.loads(data or b"", parse_int=_whole_number)


class OrjsonProvider(DefaultJSONProvider):
    sort_keys = False  # keep the plan's own order (groups, urgency)

    def _encode(self, obj: Any) -> bytes:
        try:
            return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            # e.g. a lone surrogate echoed back in an error message: orjson refuses text that
            # is not valid UTF-8; the standard library escapes it.
            return super().dumps(obj).encode()

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self._encode(obj).decode()

    def response(self, *args: Any, **kwargs: Any):
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self._encode(obj), mimetype="application/json")


def _default(o: Any) -> Any:
    if isinstance(o, (_dt.date, _dt.datetime)):
        return o.isoformat()
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    raise TypeError(f"cannot serialise {type(o).__name__}")


class PlanJSON:
    """A plan's JSON (what ``OrjsonProvider`` makes of ``Plan.to_dict()``, byte for byte), with
    the parts that are the same in every plan encoded once per rule book and put in as
    ``orjson.Fragment`` values: each option's numbers (``outcomes``, about a third of the body)
    and each source entry (another third). A part is used only while the plan's value is still
    the rule book's own object (a plan changed after it was made is encoded as changed). A
    Reason or caution that several options share is turned into a dict once. (Pre-encoding the
    fixed parts of reasons and cautions too measured no faster: orjson encodes a small dict
    about as fast as a fragment is made.) tests/test_api_json.py compares both ways on a large
    random sample."""

    def __init__(self, rb):
        self.outcomes = {}  # option id -> (the catalog's outcomes tuple, its JSON)
        for oid, e in rb.options.items():
            self.outcomes[oid] = (e["outcomes"], orjson.Fragment(_dumps(outcome_dicts(e["outcomes"]))))
        self.sources = {k: (v, orjson.Fragment(_dumps(v))) for k, v in rb.sources.items()}

    def encode(self, plan) -> bytes:
        done: dict = {}  # id(Reason or caution) -> its dict: one is shared by several options
        outcomes, sources = self.outcomes, self.sources

        def reason(r):
            d = done.get(id(r))
            if d is None:
                d = done[id(r)] = r.to_dict()
            return d

        def caution(c):
            d = done.get(id(c))
            if d is None:
                d = done[id(c)] = {"id": c["id"], "title": c["title"], "text": c["text"],
                                   "rules": c["rules"], "sources": c["sources"]}
            return d

        options = []
        for o in plan.options:
            fixed = outcomes.get(o.id)
            options.append({
                "id": o.id, "name": o.name, "group": o.group,
                "reasons": [reason(r) for r in o.reasons],
                "cautions": [caution(c) for c in o.cautions],
                "outcomes": fixed[1] if fixed is not None and fixed[0] is o.outcomes
                else outcome_dicts(o.outcomes),
            })
        cited = {}
        for k, v in plan.sources.items():
            fixed = sources.get(k)
            cited[k] = fixed[1] if fixed is not None and fixed[0] is v else v
        # Without OPT_NON_STR_KEYS (a quarter faster): every key of a plan is a string, and one
        # that is not raises TypeError, on which the caller falls back to the provider.
        return orjson.dumps({
            "caveat": plan.caveat,
            "rules_version": plan.rules_version,
            "reviewed": plan.reviewed,
            "answers": plan.answers,
            "red_flags": [f.to_dict() for f in plan.red_flags],
            "options": options,
            "questions": plan.questions,  # to_dict() copies each dict: the same JSON
            "sources": cited,
        }, default=_default)


def _dumps(obj) -> bytes:
    return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)
