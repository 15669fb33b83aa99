"""Flask JSON provider using orjson for output: the API's plan is about 24 KB of JSON, and
orjson encodes it several times faster than the standard library. Input is still parsed by the
standard library, which reads integers of any size (so a huge pain score gets a clear field
error instead of "not valid JSON")."""
from __future__ import annotations

import datetime as _dt
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

from .rules import outcome_dicts


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
    ``orjson.Fragment`` values: each option's numbers (``outcomes``, about a third of the body),
    each source entry (another third), a caution given by one rule, and every part of a reason
    but the answers it looked at (``because``, ``facts``). A part is used only while the plan's
    own value is still the rule book's (a plan changed after it was made is encoded as changed).
    tests/test_api_json.py compares both ways on a large random sample."""

    def __init__(self, rb):
        self.outcomes = {}  # option id -> (the catalog's outcomes tuple, its JSON)
        for oid, e in rb.options.items():
            self.outcomes[oid] = (e["outcomes"], orjson.Fragment(_dumps(outcome_dicts(e["outcomes"]))))
        self.sources = {k: (v, orjson.Fragment(_dumps(v))) for k, v in rb.sources.items()}
        self.reasons = {}   # rule id -> (text, sources, group, JSON before because, JSON after facts)
        for r in (*rb.placement, *rb.flag_rules):
            group = r.group if r.kind == "placement" else None
            self.reasons[r.id] = (
                r.text, tuple(r.sources), group, b'{"rule":' + _dumps(r.id) + b',"because":',
                b',"text":' + _dumps(r.text) + b',"sources":' + _dumps(list(r.sources))
                + (b',"group":' + _dumps(group) if group else b"") + b"}")
        self.cautions = {}  # rule id -> (the caution that rule alone gives, its JSON)
        for r in rb.caution_rules:
            c = {"id": r.caution, "title": rb.cautions[r.caution]["title"], "text": r.text,
                 "rules": [r.id], "sources": list(r.sources)}
            self.cautions[r.id] = (c, orjson.Fragment(_dumps(c)))

    def encode(self, plan) -> bytes:
        done: dict = {}  # id(Reason or caution) -> its JSON: one is shared by several options
        outcomes, sources, fixed_reasons, fixed_cautions = (
            self.outcomes, self.sources, self.reasons, self.cautions)
        fragment = orjson.Fragment

        def reason(r):
            d = done.get(id(r))
            if d is None:
                p = fixed_reasons.get(r.rule)
                if p is not None and p[0] == r.text and p[1] == r.sources and p[2] == r.group:
                    d = fragment(p[3] + _dumps(r.because) + b',"facts":' + _dumps(r.facts) + p[4])
                else:
                    d = r.to_dict()
                done[id(r)] = d
            return d

        def caution(c):
            d = done.get(id(c))
            if d is None:
                rules = c["rules"]
                p = fixed_cautions.get(rules[0]) if len(rules) == 1 else None
                if p is not None and p[0] == c:
                    d = p[1]
                else:
                    d = {"id": c["id"], "title": c["title"], "text": c["text"],
                         "rules": rules, "sources": c["sources"]}
                done[id(c)] = d
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
        return _dumps({
            "caveat": plan.caveat,
            "rules_version": plan.rules_version,
            "reviewed": plan.reviewed,
            "answers": plan.answers,
            "red_flags": [{"id": f.id, "urgency": f.urgency, "title": f.title, "action": f.action,
                           "sources": f.sources, "reasons": [reason(r) for r in f.reasons]}
                          for f in plan.red_flags],
            "options": options,
            "questions": plan.questions,  # to_dict() copies each dict: the same JSON
            "sources": cited,
        })


def _dumps(obj) -> bytes:
    return orjson.dumps(obj, default=_default, option=orjson.OPT_NON_STR_KEYS)
