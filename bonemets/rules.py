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
from typing import Any, Mapping

from .answers import validate

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


@dataclass(slots=True)
class Reason:
    rule: str
    group: str | None
    because: list       # ["field=value,value"] as the contract shows them
    text: str
    sources: list
    facts: list = None  # [{"field": name, "values": [...]}]: the answers that triggered the rule

    def to_dict(self) -> dict:
        d = {"rule": self.rule, "because": self.because, "facts": self.facts, "text": self.text,
             "sources": self.sources}
        if self.group:
            d["group"] = self.group
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
            "outcomes": [{**o, "range": o["range"] and list(o["range"]),
                          "sources": list(o["sources"])} for o in self.outcomes],
        }


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
                 decision=None):
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
        self._compiled = _Compiled(self)  # the conditions as bit tests, made once (see plan)

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

        Runs the rules' compiled form (:class:`_Compiled`, built once from the rule book): the
        answers become one integer of answer bits, each rule a few bit tests. The conditions'
        meaning is :meth:`Condition.matches`; tests/test_engine_compiled.py checks, on thousands of
        random answer sets, that this gives exactly the plans of the plain interpreter
        (:func:`bonemets.scenarios.reference_plan`)."""
        c = self._compiled
        mask, matched = c.match(answers)
        used_sources: set = set()
        said: dict = {}
        memo: list = [None] * c.n_traces

        def trace(k: int, fields: tuple) -> tuple:
            """(because, facts): the answers a rule looked at, as strings and as facts (``k``
            numbers the rule's tuple of fields: rules that look at the same fields share it)."""
            t = memo[k]
            if t is None:
                because, facts = [], []
                for f in fields:
                    s = said.get(f)
                    if s is None:  # what _said and _fact give, in one step
                        v = answers.get(f)
                        if v is None or v == [] or v == "":
                            s = (f + "=not answered", {"field": f, "values": []})
                        elif isinstance(v, list):
                            s = (f + "=" + ",".join(v), {"field": f, "values": list(v)})
                        else:
                            s = (f"{f}={v}", {"field": f, "values": [v]})
                        said[f] = s
                    because.append(s[0])
                    facts.append(s[1])
                t = memo[k] = (because, facts)
            return t

        reasons: dict = {oid: [] for oid in self.options}
        cautions: dict = {oid: {} for oid in self.options}
        flags: dict = {}
        questions, seen = [], set()
        for i in matched:
            kind, rid, k, fields, text, sources, extra = c.out[i]
            if kind != "question":
                used_sources.update(sources)
            if kind == "placement":
                group, opts = extra
                because, facts = trace(k, fields)
                r = Reason(rid, group, list(because), text, list(sources), list(facts))
                for oid in opts:
                    reasons[oid].append(r)
            elif kind == "caution":
                cid, title, opts = extra
                for oid in opts:
                    co = cautions[oid].get(cid)
                    if co is None:
                        cautions[oid][cid] = {"id": cid, "title": title, "text": text,
                                              "rules": [rid], "sources": list(sources)}
                    else:
                        co["text"] += " " + text
                        co["rules"].append(rid)
                        co["sources"] += [s for s in sources if s not in co["sources"]]
            elif kind == "red_flag":
                fid, d = extra
                fr = flags.get(fid)
                if fr is None:
                    fr = flags[fid] = RedFlagResult(fid, d["urgency"], d["title"], d["action"],
                                                    list(d["sources"]), [])
                    used_sources.update(d["sources"])
                because, facts = trace(k, fields)
                fr.reasons.append(Reason(rid, None, list(because), text, list(sources), list(facts)))
            elif text not in seen:  # a question, asked once
                seen.add(text)
                used_sources.update(sources)
                because, facts = trace(k, fields)
                questions.append({"text": text, "rule": rid, "because": list(because),
                                  "facts": list(facts), "sources": list(sources)})

        # Options: every catalog option exactly once, by group (in GROUPS order), then catalog order.
        rank = self._rank
        by_group: dict = {g: [] for g in GROUPS}
        for oid, name, outcomes in c.option_names:
            rs = reasons[oid]
            if rs:
                if len(rs) > 1:
                    rs.sort(key=lambda r: rank[r.group])
                group = rs[0].group
            else:
                group = "other"
            by_group[group].append(OptionResult(oid, name, group, rs,
                                                list(cautions[oid].values()), outcomes))
        options = [o for g in GROUPS for o in by_group[g]]
        used_sources.update(c.outcome_sources)  # every option's numbers are in every plan
        red_flags = sorted(flags.values(), key=lambda f: self._urgency_order[f.urgency])

        return Plan(
            caveat=self.caveat, rules_version=self.version, reviewed=self._reviewed_iso,
            answers={k: (list(v) if isinstance(v, list) else v) for k, v in answers.items()},
            red_flags=red_flags, options=options, questions=questions,
            sources={k: self.sources[k] for k in sorted(used_sources, key=self._source_order.get)},
        )


# --------------------------------------------------------------------------------------------
# The compiled form of the conditions (built once per rule book; the Condition objects stay the
# rule book's meaning, read by the interpreter, the presenter and the safety checks)
# --------------------------------------------------------------------------------------------
class _Compiled:
    """Every rule's condition as bit tests on one integer made from the answers.

    Each answer value of a choice question has a bit (and each question an "other" bit, for a
    value outside the vocabulary, which counts as known); the number question has a bit for
    "answered" and one per bound a rule uses (``>= min``, ``<= max``). A condition is then

        (bits & need) == need  and  not (bits & never)  and  every (bits & a) for a in some

    ``need``: values that must be there (``all``, a one-value ``any``, number bounds),
    ``never``: values that must not (``none``, ``known: false``), ``some``: each a set of
    which one must be there (``any`` of several values, ``known: true``). This is exactly
    :meth:`Condition.matches` on the normalised answers (see :meth:`RuleBook._normalise`).

    Only rules that could match are tested: each rule with a value it needs is listed under
    that value (or, for a ``some`` set, under each of its values), and the answers given pick
    the rules to test; rules that need no value are always tested.
    """

    def __init__(self, rb: "RuleBook"):
        bit = 1
        self.values: dict = {}     # field -> {value: bit}
        self.known: dict = {}      # field -> bits that make the answer "known"
        self.other: dict = {}      # field -> the bit of a value outside the vocabulary
        self.numbers: dict = {}    # number field -> (answered bit, [(bound, bit)] >=, [..] <=)
        base = 0                   # unanswered one-of questions read as "I don't know"
        self.clear: dict = {}      # one-of field -> its "I don't know" bit (cleared when answered)
        bounds: dict = {}
        for r in rb.all_rules():
            for m in r.when.matchers:
                b = bounds.setdefault(m.field, (set(), set()))
                if m.min is not None:
                    b[0].add(m.min)
                if m.max is not None:
                    b[1].add(m.max)
        for name, f in rb.fields.items():
            if f.kind == "number":
                lo, hi = bounds.get(name, (set(), set()))
                answered, bit = bit, bit << 1
                ge, le = [], []
                for t in sorted(lo):
                    ge.append((t, bit))
                    bit <<= 1
                for t in sorted(hi):
                    le.append((t, bit))
                    bit <<= 1
                self.numbers[name] = (answered, tuple(ge), tuple(le))
                continue
            vals = {}
            for v in f.values:
                vals[v], bit = bit, bit << 1
            self.other[name], bit = bit, bit << 1
            self.values[name] = vals
            self.known[name] = self.other[name] | sum(b for v, b in vals.items() if v != UNKNOWN)
            if f.kind == "one" and UNKNOWN in vals:
                self.clear[name] = vals[UNKNOWN]
                base |= vals[UNKNOWN]
        self.base = base
        self.kinds = {name: f.kind for name, f in rb.fields.items()}

        # the bits that only an answer given sets (so the answers can pick the rules to test)
        indexable = sum(b for vals in self.values.values() for b in vals.values()) & ~base
        rules = list(rb.all_rules())
        self.tests = []            # per rule: (need, never, some)
        self.out = []              # per rule: what plan() adds when it matches
        listed: dict = {}          # bit -> rule indices
        traces: dict = {}          # tuple of fields a rule looks at -> its number
        always = []
        for i, r in enumerate(rules):
            need, never, some = self._condition(r.when)
            self.tests.append((need, never, some))
            self.out.append(self._output(rb, r, traces))
            keys = self._index_bits(need, some, indexable)
            if keys:
                for b in keys:
                    listed.setdefault(b, []).append(i)
            else:
                always.append(i)
        self.always = tuple(always)
        self.n_traces = len(traces)
        self.by_bit = {b: tuple(ix) for b, ix in listed.items()}
        # per (field, value): (bit, rules listed under it), looked up for each answer given
        self.lookup = {name: {v: (b, self.by_bit.get(b, ())) for v, b in vals.items()}
                       for name, vals in self.values.items()}
        self.option_names = tuple((oid, e["name"], e["outcomes"]) for oid, e in rb.options.items())
        self.outcome_sources = frozenset(k for e in rb.options.values() for o in e["outcomes"]
                                         for k in o["sources"])

    def _bits(self, field: str, values) -> int:
        vals = self.values[field]
        return sum(vals[v] for v in values)

    def _condition(self, cond: Condition) -> tuple:
        need = never = 0
        some = []
        for m in cond.matchers:
            if m.field in self.numbers:
                answered, ge, le = self.numbers[m.field]
                if m.known is not None:
                    if m.known:
                        need |= answered
                    else:
                        never |= answered
                if m.min is not None:
                    need |= dict(ge)[m.min]
                if m.max is not None:
                    need |= dict(le)[m.max]
                continue  # the loader allows only known, min and max on a number
            if m.any is not None:
                b = self._bits(m.field, m.any)
                if len(m.any) == 1:
                    need |= b
                else:
                    some.append(b)
            if m.none is not None:
                never |= self._bits(m.field, m.none)
            if m.all is not None:
                need |= self._bits(m.field, m.all)
            if m.known is not None:
                if m.known:
                    some.append(self.known[m.field])
                else:
                    never |= self.known[m.field]
        return need, never, tuple(some)

    @staticmethod
    def _index_bits(need: int, some: tuple, indexable: int) -> tuple:
        """The bits a rule is listed under: one answer value it needs, else the values of its
        smallest ``some`` set made only of answer values; none (always tested) otherwise."""
        values = need & indexable
        if values:
            return (values & -values,)
        some = [s for s in some if s & ~indexable == 0]
        if some:
            s = min(some, key=lambda b: bin(b).count("1"))
            out = []
            while s:
                low = s & -s
                out.append(low)
                s ^= low
            return tuple(out)
        return ()

    @staticmethod
    def _output(rb: "RuleBook", r: Rule, traces: dict) -> tuple:
        if r.kind == "placement":
            extra = (r.group, r.options)
        elif r.kind == "caution":
            extra = (r.caution, rb.cautions[r.caution]["title"], r.options)
        elif r.kind == "red_flag":
            extra = (r.flag, rb.flags[r.flag])
        else:
            extra = None
        k = traces.setdefault(r.when.fields, len(traces))
        return (r.kind, r.id, k, r.when.fields, r.text, r.sources, extra)

    def match(self, answers: Mapping[str, Any]) -> tuple:
        """(the answers' bits, the indices of the rules that match, in rule book order)."""
        mask = self.base
        cands = set(self.always)
        lookup, kinds, other = self.lookup, self.kinds, self.other
        for name, v in answers.items():
            kind = kinds.get(name)
            if kind == "one":
                if v is None or v == "":
                    continue
                hit = lookup[name].get(v) if isinstance(v, str) else None
                if name in self.clear:
                    mask &= ~self.clear[name]
                if hit is None:
                    mask |= other[name]
                else:
                    mask |= hit[0]
                    cands.update(hit[1])
            elif kind == "many":
                if not isinstance(v, (list, tuple)):
                    v = [v] if v else []
                table = lookup[name]
                for x in v:
                    hit = table.get(x) if isinstance(x, str) else None
                    if hit is None:
                        mask |= other[name]
                    else:
                        mask |= hit[0]
                        cands.update(hit[1])
            elif kind == "number":
                if isinstance(v, int) and not isinstance(v, bool):
                    answered, ge, le = self.numbers[name]
                    mask |= answered
                    for t, b in ge:
                        if v >= t:
                            mask |= b
                    for t, b in le:
                        if v <= t:
                            mask |= b
        tests = self.tests
        matched = []
        for i in sorted(cands):
            need, never, some = tests[i]
            if mask & need == need and not mask & never:
                for s in some:
                    if not mask & s:
                        break
                else:
                    matched.append(i)
        return mask, matched


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------
# Loading is bonemets/loader.py: one table with each rule file's schema and builder. Its names
# stay importable from here (``from bonemets.rules import load_rulebook`` and the helpers
# safety.py and i18n.py use), without an import cycle: the loader imports this module.
_LOADER_NAMES = frozenset({
    "OPTION_FIELDS", "SOURCE_KINDS", "_read_yaml", "_expect", "_as_date", "_sources",
    "_check_keys", "_text", "_compile_when", "_check_evidence",
})


def load_rulebook(root: str, overlay=None) -> "RuleBook":
    """Read and validate every file under ``root`` (the ``rules/`` folder): see
    :func:`bonemets.loader.load_rulebook`. Raises RuleBookError."""
    from .loader import load_rulebook as load
    return load(root, overlay)


def __getattr__(name: str):
    if name in _LOADER_NAMES:
        from . import loader
        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
