"""The rule book: load and validate the clinical content in ``rules/``, and turn answers into a Plan.

Pure by design: no Flask, and no I/O after :func:`load_rulebook`. ``RuleBook.plan(answers)`` is a
pure function of the answers and the (immutable) rule book.

Rule conditions are data, never code. A rule's ``when`` is a mapping ``field -> matcher`` and the
rule matches when every matcher holds. A matcher is one of:

* a value, or a list of values: the answer is (or, for a tick-all question, includes) any of them;
* a mapping with one or more of these keys, all of which must hold:
  ``any: [..]`` (as above), ``none: [..]`` (the answer includes none of them; an unanswered
  question includes none), ``all: [..]`` (tick-all questions: includes every one),
  ``known: true|false`` (answered with something other than "I don't know"),
  ``min: n`` / ``max: n`` (number questions: answered and within the bound).

"I don't know" is never written as a value in a condition: use ``known: false``, which also
matches an unanswered question.

Precedence: when several rules place the same option, the group listed first in
``meta.yaml``'s ``precedence`` wins (unlikely > discuss > consider). An option no rule touches is
``other``. Every matching reason is kept, so a person sees why an option might fit and why not.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from .answers import validate
from .engine import Engine

__all__ = [
    "RuleBookError", "RuleBook", "Plan", "load_rulebook", "GROUPS", "URGENCIES",
    "UNKNOWN", "OPTION_FIELDS",
]

GROUPS = ("discuss", "consider", "unlikely", "other")
RULE_GROUPS = ("discuss", "consider", "unlikely")
URGENCIES = ("emergency", "today", "soon")
UNKNOWN = "unknown"


class RuleBookError(Exception):
    """A problem in the rule book, naming the file and (where there is one) the rule id."""

    def __init__(self, file: str, rule_id: str | None, message: str):
        self.file, self.rule_id, self.message = file, rule_id, message
        where = f"{file}" + (f", rule '{rule_id}'" if rule_id else "")
        super().__init__(f"{where}: {message}")


# --------------------------------------------------------------------------------------------
# Questionnaire vocabulary
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    name: str
    kind: str                      # one | many | number
    label: str
    hint: str
    summary_label: str
    choices: tuple                 # ((value, label), ...) in display order
    only_if: Mapping[str, tuple]
    exclusive: frozenset
    min: int | None = None
    max: int | None = None

    def __post_init__(self):
        # Looked up on every answer of every request: computed once.
        object.__setattr__(self, "values", tuple(v for v, _ in self.choices))
        object.__setattr__(self, "value_set", frozenset(self.values))
        object.__setattr__(self, "_labels", dict(self.choices))

    def label_for(self, value: str) -> str:
        return self._labels.get(value, value)

    def applies(self, answers: Mapping[str, Any]) -> bool:
        """True when the question applies (follow-up questions only apply after some answers)."""
        for other, allowed in self.only_if.items():
            if answers.get(other) not in allowed:
                return False
        return True


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    fields: tuple


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Matcher:
    field: str
    any: frozenset | None = None
    none: frozenset | None = None
    all: frozenset | None = None
    known: bool | None = None
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class Condition:
    matchers: tuple  # of Matcher

    def __post_init__(self):
        # A quick first test (one "any of" on a choice question) lets plan() skip most
        # placement rules without a call; matches() still checks everything.
        gate = next(((m.field, m.any) for m in self.matchers if m.any is not None), None)
        object.__setattr__(self, "gate", gate)
        object.__setattr__(self, "fields", tuple(m.field for m in self.matchers))

    def matches(self, norm: Mapping[str, Any]) -> bool:
        for m in self.matchers:
            v = norm[m.field]
            if isinstance(v, frozenset):
                if m.any is not None and not (v & m.any):
                    return False
                if m.none is not None and (v & m.none):
                    return False
                if m.all is not None and not (m.all <= v):
                    return False
                if m.known is not None and m.known != bool(v - _UNKNOWN_SET):
                    return False
            else:  # number (int or None)
                if m.known is not None and m.known != (v is not None):
                    return False
                if m.min is not None and (v is None or v < m.min):
                    return False
                if m.max is not None and (v is None or v > m.max):
                    return False
        return True


_UNKNOWN_SET = frozenset({UNKNOWN})


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """Any rule: placement (options+group), red flag (flag), caution (caution+options) or question."""
    id: str
    kind: str                       # placement | red_flag | caution | question
    file: str
    when: Condition
    text: str
    sources: tuple
    reviewed: _dt.date
    options: tuple = ()
    group: str | None = None
    flag: str | None = None
    caution: str | None = None


class Reason(NamedTuple):
    """Why a rule fired: the rule, its group (placement rules), the answers it looked at (as the
    contract's ``because`` strings and as ``facts``), its text and sources. Immutable (one Reason
    is shared by every option its rule places); ``sources`` is the rule's own tuple."""
    rule: str
    group: str | None
    because: list       # ["field=value,value"] as the contract shows them
    text: str
    sources: tuple
    facts: list = None  # [{"field": name, "values": [...]}]: the answers that triggered the rule

    def to_dict(self) -> dict:
        rule, group, because, text, sources, facts = self
        d = {"rule": rule, "because": because, "facts": facts, "text": text,
             "sources": list(sources)}
        if group:
            d["group"] = group
        return d


@dataclass(slots=True)
class OptionResult:
    id: str
    name: str
    group: str
    reasons: list
    cautions: list  # of dicts {id, title, text, rules, sources}
    outcomes: tuple = ()  # of dicts, the catalog's numbers (rules/outcomes.yaml)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "name": self.name, "group": self.group,
            "reasons": [r.to_dict() for r in self.reasons],
            "cautions": [{"id": c["id"], "title": c["title"], "text": c["text"],
                          "rules": c["rules"], "sources": c["sources"]} for c in self.cautions],
            "outcomes": outcome_dicts(self.outcomes),
        }


def outcome_dicts(outcomes) -> list:
    """An option's numbers (its catalog ``outcomes``) as the plan's JSON gives them."""
    return [{**o, "range": o["range"] and list(o["range"]), "sources": list(o["sources"])}
            for o in outcomes]


@dataclass(slots=True)
class RedFlagResult:
    id: str
    urgency: str
    title: str
    action: str
    sources: list
    reasons: list

    def to_dict(self) -> dict:
        return {"id": self.id, "urgency": self.urgency, "title": self.title,
                "action": self.action, "sources": self.sources,
                "reasons": [r.to_dict() for r in self.reasons]}


@dataclass
class Plan:
    caveat: str
    rules_version: str
    reviewed: str
    answers: dict
    red_flags: list
    options: list
    questions: list     # of dicts {text, rule, because, sources}
    sources: dict

    def by_group(self, group: str) -> list:
        return [o for o in self.options if o.group == group]

    def option(self, option_id: str) -> OptionResult:
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)

    @property
    def has_emergency(self) -> bool:
        return any(f.urgency == "emergency" for f in self.red_flags)

    def to_dict(self) -> dict:
        return {
            "caveat": self.caveat,
            "rules_version": self.rules_version,
            "reviewed": self.reviewed,
            "answers": self.answers,
            "red_flags": [f.to_dict() for f in self.red_flags],
            "options": [o.to_dict() for o in self.options],
            "questions": [dict(q) for q in self.questions],
            "sources": self.sources,
        }


# --------------------------------------------------------------------------------------------
# The rule book
# --------------------------------------------------------------------------------------------
class RuleBook:
    """The whole validated rule book. Build it with :func:`load_rulebook`."""

    def __init__(self, *, meta, sections, fields, options, sources, placement, flags,
                 flag_rules, cautions, caution_rules, question_rules, files, glossary,
                 decision=None, source_notes=None):
        self.meta = meta
        self.decision = decision          # rules/decision.yaml, checked (bonemets/decision.py)
        self.version = str(meta["version"])
        self.reviewed = meta["reviewed"]
        self.caveat = " ".join(str(meta["caveat"]).split())
        self.precedence = tuple(meta["precedence"])
        self.sections = sections
        self.fields = fields
        self.options = options            # id -> dict (catalog entry), catalog order
        self.sources = sources            # key -> dict
        self.source_notes = dict(source_notes or {})  # key -> where we read it (/rules only)
        self.placement = placement        # tuple of Rule
        self.flags = flags                # id -> dict
        self.flag_rules = flag_rules
        self.cautions = cautions          # id -> dict
        self.caution_rules = caution_rules
        self.question_rules = question_rules
        self.files = files                # the files read, relative names
        self.glossary = glossary          # ({"term", "means"}, ...) plain-word explanations
        self.rules_by_id = {r.id: r for r in self.all_rules()}
        self._rank = {g: i for i, g in enumerate(self.precedence)}
        self._option_order = {oid: i for i, oid in enumerate(options)}
        self._group_order = {g: i for i, g in enumerate(GROUPS)}
        self._urgency_order = {u: i for i, u in enumerate(URGENCIES)}
        self._source_order = {k: i for i, k in enumerate(sources)}
        self._reviewed_iso = self.reviewed.isoformat()
        # the rules as one compiled function, made once (see plan)
        self._compiled = Engine(self, groups=GROUPS, unknown=UNKNOWN,
                                types=(Reason, OptionResult, RedFlagResult, Plan))

    # -- introspection -------------------------------------------------------------------
    def all_rules(self):
        yield from self.placement
        yield from self.flag_rules
        yield from self.caution_rules
        yield from self.question_rules

    def rules_for_option(self, option_id: str) -> list:
        return [r for r in self.placement if option_id in r.options]

    def stale_rules(self, today: _dt.date) -> list:
        """Rules whose reviewed date is older than the review interval."""
        limit = _dt.timedelta(days=int(self.meta["review_interval_days"]))
        return [r for r in self.all_rules() if today - r.reviewed > limit]

    # -- answers -------------------------------------------------------------------------
    def validate_answers(self, data: Any) -> tuple[dict, dict]:
        """Check raw answers (e.g. parsed JSON). Returns (clean answers, problems by field): see
        :func:`bonemets.answers.validate`, the one validator of the form, steps and API."""
        return validate(self.fields, data)

    def _normalise(self, answers: Mapping[str, Any]) -> dict:
        norm = {}
        for name, f in self.fields.items():
            v = answers.get(name)
            if f.kind == "number":
                norm[name] = v if isinstance(v, int) and not isinstance(v, bool) else None
            elif f.kind == "one":
                if v is None or v == "":
                    norm[name] = _UNKNOWN_SET if UNKNOWN in f.value_set else frozenset()
                else:
                    norm[name] = frozenset((v,))
            else:
                norm[name] = frozenset(v if isinstance(v, (list, tuple)) else ([v] if v else []))
        return norm

    @staticmethod
    def _fact(field: str, answers: Mapping[str, Any]) -> dict:
        """The answer to ``field`` as a reason's fact: no values means "not answered"."""
        v = answers.get(field)
        if v is None or v == [] or v == "":
            return {"field": field, "values": []}
        return {"field": field, "values": list(v) if isinstance(v, list) else [v]}

    @staticmethod
    def _said(field: str, answers: Mapping[str, Any]) -> str:
        """``field=value`` as the person answered it (a reason's "because")."""
        v = answers.get(field)
        if v is None or v == [] or v == "":
            return f"{field}=not answered"
        if isinstance(v, list):
            return f"{field}=" + ",".join(v)
        return f"{field}={v}"

    # -- the plan ------------------------------------------------------------------------
    def plan(self, answers: Mapping[str, Any]) -> Plan:
        """Turn (validated) answers into a Plan. Pure: same answers, same plan.

        Runs the rule book's compiled form (:class:`bonemets.engine.Engine`, made once from the
        rule book): one function of bit tests on small integers made from the answers, with each
        rule's fixed output written into it. The conditions' meaning is
        :meth:`Condition.matches`; tests/test_engine_compiled.py checks, on thousands of random
        answer sets, that this gives exactly the plans of the plain interpreter
        (:func:`bonemets.scenarios.reference_plan`)."""
        return self._compiled.plan(answers)


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------
# Loading is bonemets/loader.py: one table with each rule file's schema and builder. The app and
# the tools load through ``load_rulebook`` here (the loader imports this module, so it is
# imported when it is called: no import cycle).
def load_rulebook(root: str, overlay=None) -> "RuleBook":
    """Read and validate every file under ``root`` (the ``rules/`` folder): see
    :func:`bonemets.loader.load_rulebook`. Raises RuleBookError."""
    from .loader import load_rulebook as load
    return load(root, overlay)
