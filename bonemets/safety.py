"""Safety invariants (``rules/safety.yaml``): statements that must hold for every answer set.

Each invariant is data a clinician can read: an ``id``, a ``when`` in the same condition language
as the placement rules (see :mod:`bonemets.rules`), one requirement, and a ``reason`` with
``sources`` and a ``reviewed`` date. The requirements are:

* ``never: {option(s): X, group(s): G}``: option X is never placed in group G (or any of G).
* ``at_least: {option(s): X, group: consider|discuss}``: X is always in that group or a stronger
  one. ``discuss`` is stronger than ``consider``; ``unlikely`` and ``other`` are below both, so
  "at least consider" fails when X is ``unlikely`` or ``other``.
* ``flag: F`` (or a list): red flag F is always raised.
* ``caution: {id: C, option(s): X}``: caution C is always attached to option X.
* ``not_first_in_group: {group: G, options: [X..], after_one_of: [Y..]}``: in the plan's order,
  every X placed in G comes after at least one Y also placed in G. So when any X is in G, the
  first of all these options in G is a Y (e.g. "with a broken long bone, nothing that does not
  stabilise it is the first thing discussed").

Two checks use the invariants, never a user's request (they cost nothing per plan):

* :func:`violations` checks one plan (the Hypothesis test in ``tests/test_safety.py``);
* :func:`prove` decides each invariant against the whole rule book (``flask rules check``). A
  condition is a conjunction of per-question set constraints, so whether some answer set breaks
  an invariant is a finite satisfiability question: the prover searches for such an answer set,
  and either shows none exists (proved) or builds one and confirms it with ``plan()`` (refuted).
  It gives up (not proved) only past a search budget.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field as _field
from typing import Any, Mapping

from .loader import _expect
from .rules import Condition, Matcher, RuleBookError, UNKNOWN

__all__ = ["Invariant", "SafetyFileError", "load_safety", "build_invariants", "violations", "prove", "prove_all",
           "Proof", "FILE"]

FILE = "safety.yaml"
KINDS = ("never", "at_least", "flag", "caution", "not_first_in_group")
# "At least" orders the two positive groups; unlikely and other satisfy neither.
AT_LEAST = {"discuss": ("discuss",), "consider": ("discuss", "consider")}


class SafetyFileError(RuleBookError):
    """A problem in ``safety.yaml``, naming the file and the invariant id."""

    def __init__(self, file: str, rule_id: str | None, message: str):
        super().__init__(file, rule_id, message)
        self.args = (f"{file}" + (f", invariant '{rule_id}'" if rule_id else "") + f": {message}",)


@dataclass(frozen=True)
class Invariant:
    id: str
    kind: str                 # one of KINDS
    when: Condition
    reason: str
    sources: tuple
    reviewed: _dt.date
    options: tuple = ()
    groups: tuple = ()        # never: the groups ruled out; at_least: the groups allowed
    flags: tuple = ()
    caution: str | None = None
    after: tuple = ()         # not_first_in_group: options that must come first
    group: str | None = None  # not_first_in_group / at_least: the group named in the file
    file: str = FILE

    def describe(self, rb) -> str:
        """What must hold, in plain words built from the rule book's own names (for /rules), in
        the page's language: the wording is in bonemets/messages.py."""
        from .messages import safety_statement  # here: the engine's checks need no Flask-Babel
        return safety_statement(self, rb)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------
def load_safety(root: str, rb) -> tuple:
    """Read and validate ``safety.yaml`` against the loaded rule book (its schema is in the
    table of :mod:`bonemets.loader`). Raises SafetyFileError."""
    from .loader import load_file
    load_file(root, FILE, rb)
    return rb.safety


def build_invariants(items, rb) -> tuple:
    """The checked items of ``safety.yaml`` (keys, kinds and ids checked by the loader's
    schema) -> Invariants, each citing sources that are evidence for what it is about."""
    out = []
    for item in items:
        kind = next(k for k in KINDS if k in item)
        spec = item[kind]
        common = dict(id=item["id"], kind=kind, when=item["when"], reason=item["reason"],
                      sources=item["sources"], reviewed=item["reviewed"])
        options = ((spec["option"],) if "option" in spec else tuple(spec["options"])
                   ) if isinstance(spec, dict) and ("option" in spec or "options" in spec) else ()
        if kind == "never":
            out.append(Invariant(**common, groups=tuple(spec["group"]), options=options))
        elif kind == "at_least":
            out.append(Invariant(**common, group=spec["group"], groups=AT_LEAST[spec["group"]],
                                 options=options))
        elif kind == "flag":
            out.append(Invariant(**common, flags=tuple(spec)))
        elif kind == "caution":
            out.append(Invariant(**common, caution=spec["id"], options=options))
        else:
            out.append(Invariant(**common, group=spec["group"][0], options=tuple(spec["options"]),
                                 after=tuple(spec["after_one_of"])))
    for inv in out:
        _check_evidence(inv, rb.sources, FILE)
    return tuple(out)


def _check_evidence(inv: Invariant, sources: dict, rel: str):
    """Where sources.yaml says what each source is evidence for (``covers``), an invariant's
    sources must cover what it is about, as for the rules."""
    if not any("covers" in s for s in sources.values()):
        return
    about = set(inv.options) | set(inv.after) | set(inv.flags) | (
        {inv.caution} if inv.caution else set())
    for key in inv.sources:
        covers = set(sources[key].get("covers") or ())
        _expect(covers & about, rel, inv.id,
                f"cites source '{key}', which is not evidence for any of {sorted(about)} "
                f"(its 'covers' in sources.yaml: {sorted(covers) or 'nothing'})")
    for what in sorted(about):
        _expect(any(what in (sources[k].get("covers") or ()) for k in inv.sources), rel, inv.id,
                f"no cited source is evidence for '{what}' (add one whose 'covers' names it)")


# --------------------------------------------------------------------------------------------
# The runtime check: one plan
# --------------------------------------------------------------------------------------------
def violations(rb, answers: Mapping[str, Any], plan=None, invariants=None) -> list:
    """Every invariant the plan for these (validated) answers breaks: [(invariant, message)]."""
    plan = plan if plan is not None else rb.plan(answers)
    norm = rb._normalise(answers)
    groups = {o.id: o.group for o in plan.options}
    raised = {f.id for f in plan.red_flags}
    out = []
    for inv in (rb.safety if invariants is None else invariants):
        if not inv.when.matches(norm):
            continue
        if inv.kind == "never":
            for o in inv.options:
                if groups[o] in inv.groups:
                    out.append((inv, f"{o} is '{groups[o]}'"))
        elif inv.kind == "at_least":
            for o in inv.options:
                if groups[o] not in inv.groups:
                    out.append((inv, f"{o} is '{groups[o]}', not at least '{inv.group}'"))
        elif inv.kind == "flag":
            for f in inv.flags:
                if f not in raised:
                    out.append((inv, f"red flag {f} is not raised"))
        elif inv.kind == "caution":
            for o in inv.options:
                if inv.caution not in {c["id"] for c in plan.option(o).cautions}:
                    out.append((inv, f"{o} lacks caution {inv.caution}"))
        else:
            for o in plan.options:
                if o.group != inv.group:
                    continue
                if o.id in inv.after:
                    break
                if o.id in inv.options:
                    out.append((inv, f"{o.id} is the first of these under '{inv.group}'"
                                     f" (none of {', '.join(inv.after)} comes before it)"))
                    break
    return out


# --------------------------------------------------------------------------------------------
# The static proof
# --------------------------------------------------------------------------------------------
# Formulas in negation normal form, as tuples:
#   ("lit", field, key, value, positive)   one part of a matcher (key: any/none/all/known/min/max)
#   ("and", (f, ...)) / ("or", (f, ...))   TRUE is ("and", ()), FALSE is ("or", ())
TRUE, FALSE = ("and", ()), ("or", ())


def _parts(m: Matcher):
    for key in ("any", "none", "all", "known", "min", "max"):
        v = getattr(m, key)
        if v is not None:
            yield key, v


def cond_formula(cond: Condition):
    return ("and", tuple(("lit", m.field, k, v, True) for m in cond.matchers for k, v in _parts(m)))


def negate(f):
    if f[0] == "lit":
        return ("lit", f[1], f[2], f[3], not f[4])
    return ("or" if f[0] == "and" else "and", tuple(negate(c) for c in f[1]))


def _any(fs):
    return ("or", tuple(fs))


def _all(fs):
    return ("and", tuple(fs))


class _Model:
    """The rule book as formulas: which answers put an option in a group, raise a flag..."""

    def __init__(self, rb):
        self.rb = rb
        self.by_option = {oid: {g: [] for g in rb.precedence} for oid in rb.options}
        for r in rb.placement:
            for o in r.options:
                self.by_option[o][r.group].append(cond_formula(r.when))

    def in_group(self, option, group):
        rules = self.by_option[option]
        if group == "other":
            return _all(negate(c) for g in rules for c in rules[g])
        higher = self.rb.precedence[:self.rb.precedence.index(group)]
        return _all([_any(rules[group])] + [negate(c) for g in higher for c in rules[g]])

    def flag_raised(self, flag):
        return _any(cond_formula(r.when) for r in self.rb.flag_rules if r.flag == flag)

    def caution_on(self, caution, option):
        return _any(cond_formula(r.when) for r in self.rb.caution_rules
                    if r.caution == caution and option in r.options)

    def breaches(self, inv: Invariant):
        """[(what, options, formula)]: each way the invariant could break (without `when`)."""
        rb, out = self.rb, []
        if inv.kind == "never":
            for o in inv.options:
                for g in inv.groups:
                    out.append((f"{o} is '{g}'", (o,), self.in_group(o, g)))
        elif inv.kind == "at_least":
            for o in inv.options:
                for g in ("discuss", "consider", "unlikely", "other"):
                    if g not in inv.groups:
                        out.append((f"{o} is '{g}'", (o,), self.in_group(o, g)))
        elif inv.kind == "flag":
            for f in inv.flags:
                out.append((f"red flag {f} is not raised", (), negate(self.flag_raised(f))))
        elif inv.kind == "caution":
            for o in inv.options:
                out.append((f"{o} lacks caution {inv.caution}", (o,),
                            negate(self.caution_on(inv.caution, o))))
        else:
            # Within a group the plan lists options in catalog order (RuleBook.plan); a test in
            # tests/test_safety.py holds the engine to that.
            order = list(rb.options)
            for o in inv.options:
                before = [y for y in inv.after if order.index(y) < order.index(o)]
                out.append((f"{o} is the first of these under '{inv.group}'", (o, *before),
                            _all([self.in_group(o, inv.group)]
                                 + [negate(self.in_group(y, inv.group)) for y in before])))
        return out


class _Budget(Exception):
    pass


class _Solver:
    """Find answers that satisfy a formula, or show there are none.

    A depth-first tableau: literals are collected per question; a question's literals are
    checked exactly (every state a validated answer can take: one value, "not answered", a set
    of ticks that respects the questionnaire's exclusive choices, a number or none); an "or"
    branches. Each branch is pruned as soon as one question's literals cannot all hold.
    """

    def __init__(self, rb, budget=200_000):
        self.rb, self.budget, self.nodes = rb, budget, 0
        self._memo: dict = {}
        self._domains: dict = {}

    # -- one question --------------------------------------------------------------------
    def _holds(self, fname, key, value, state) -> bool:
        return Condition((Matcher(fname, **{key: value}),)).matches({fname: state})

    def _domain(self, f):
        d = self._domains.get(f.name)
        if d is None:
            if f.kind == "number":
                d = [None] + list(range(f.min, f.max + 1))
            else:  # one
                d = [frozenset((v,)) for v in f.values]
                if UNKNOWN not in f.value_set:
                    d.append(frozenset())       # not answered, and no "I don't know" value
            self._domains[f.name] = d
        return d

    def field_witness(self, fname, lits):
        """A state of question ``fname`` meeting every literal, or None."""
        key = (fname, lits)
        if key in self._memo:
            return self._memo[key]
        f = self.rb.fields[fname]
        if f.kind == "many":
            w = self._many(f, lits)
        else:
            w = next((("ok", s) for s in self._domain(f)
                      if all(self._holds(fname, k, v, s) == pos for (k, v, pos) in lits)), None)
        if w is not None:  # belt and braces: the engine's own matcher agrees
            state = w[1]
            assert all(self._holds(fname, k, v, state) == pos for (k, v, pos) in lits), (fname, lits)
        self._memo[key] = w
        return w

    def _many(self, f, lits):
        """Tick-all question: membership of each value; in/out clauses; exclusive choices."""
        real = frozenset(v for v in f.values if v != UNKNOWN)
        must_in, must_out, in_cl, out_cl = set(), set(), [], []
        for key, vals, pos in lits:
            if key == "known":
                key, vals, pos = "any", real, pos == vals  # known: true <=> includes a real value
            if (key, pos) in (("any", True), ("none", False)):
                in_cl.append(frozenset(vals))
            elif (key, pos) in (("any", False), ("none", True)):
                must_out |= vals
            elif (key, pos) == ("all", True):
                must_in |= vals
            else:  # all, False: at least one of them is not ticked
                out_cl.append(frozenset(vals))
        excl = f.exclusive
        # Valid ticks: only exclusive choices (such as "none"), or none of them.
        cases = [f.value_set - excl, excl] if excl else [frozenset()]
        for forced_out in cases:
            got = self._clauses(set(must_in), must_out | set(forced_out), in_cl, out_cl)
            if got is not None:
                return ("ok", frozenset(got))
        return None

    def _clauses(self, ins, outs, in_cl, out_cl):
        if ins & outs:
            return None
        rest_in, rest_out = [], []
        for c in in_cl:
            if c & ins:
                continue
            c = c - outs
            if not c:
                return None
            rest_in.append(c)
        for c in out_cl:
            if c & outs:
                continue
            c = c - ins
            if not c:
                return None
            rest_out.append(c)
        if not rest_in and not rest_out:
            return ins
        if rest_in and (not rest_out or min(map(len, rest_in)) <= min(map(len, rest_out))):
            c = min(rest_in, key=len)
            for v in sorted(c):
                got = self._clauses(ins | {v}, outs, rest_in, rest_out)
                if got is not None:
                    return got
        else:
            c = min(rest_out, key=len)
            for v in sorted(c):
                got = self._clauses(ins, outs | {v}, rest_in, rest_out)
                if got is not None:
                    return got
        return None

    # -- the whole formula ---------------------------------------------------------------
    def solve(self, formula):
        """{question: state} for the questions the formula constrains, or None (unsatisfiable)."""
        got = self._search([formula], {})
        if got is None:
            return None
        return {fname: self.field_witness(fname, lits)[1] for fname, lits in got.items()}

    def _search(self, pending, lits):
        self.nodes += 1
        if self.nodes > self.budget:
            raise _Budget()
        lits = dict(lits)
        stack, ors = list(pending), []
        while stack:
            f = stack.pop()
            if f[0] == "lit":
                _, fname, key, val, pos = f
                cur = lits.get(fname, frozenset())
                new = cur | {(key, val, pos)}
                if new != cur:
                    if self.field_witness(fname, new) is None:
                        return None
                    lits[fname] = new
            elif f[0] == "and":
                stack.extend(f[1])
            else:
                ors.append(f[1])
        # Simplify each "or": drop a literal child that cannot hold now; an "or" with a literal
        # child that must hold now is already satisfied.
        todo = []
        for children in ors:
            kept, done = [], False
            for c in children:
                if c[0] == "lit":
                    _, fname, key, val, pos = c
                    cur = lits.get(fname, frozenset())
                    if self.field_witness(fname, cur | {(key, val, pos)}) is None:
                        continue
                    if self.field_witness(fname, cur | {(key, val, not pos)}) is None:
                        done = True
                        break
                kept.append(c)
            if done:
                continue
            if not kept:
                return None
            todo.append(tuple(kept))
        if not todo:
            return lits
        todo.sort(key=len)
        first, rest = todo[0], [("or", t) for t in todo[1:]]
        for child in first:
            got = self._search(rest + [child], lits)
            if got is not None:
                return got
        return None


@dataclass
class Proof:
    invariant: Invariant
    status: str                       # proved | refuted | not_proved | error
    what: str = ""                    # refuted: how it breaks
    answers: dict = _field(default_factory=dict)   # refuted: a counter-example, checked by plan()
    rules: list = _field(default_factory=list)     # refuted: the rules behind the placement


def _answers_from(rb, states: dict) -> dict:
    answers = {}
    for fname, f in rb.fields.items():
        s = states.get(fname)
        if s is None or s == frozenset():
            continue
        if f.kind == "number":
            answers[fname] = s
        elif f.kind == "one":
            answers[fname] = next(iter(s))
        else:
            answers[fname] = [v for v in f.values if v in s]
    return answers


def prove(rb, inv: Invariant, budget: int = 200_000, model: _Model | None = None) -> Proof:
    """Decide the invariant over every answer set (see the module docstring)."""
    model = model or _Model(rb)
    solver = _Solver(rb, budget)
    when = cond_formula(inv.when)
    for what, opts, breach in model.breaches(inv):
        try:
            states = solver.solve(_all([when, breach]))
        except _Budget:
            return Proof(inv, "not_proved", what)
        if states is None:
            continue
        answers, errors = rb.validate_answers(_answers_from(rb, states))
        if errors or not violations(rb, answers, invariants=[inv]):  # a defect of the prover
            return Proof(inv, "error", f"the prover and plan() disagree: {what} "
                                       f"{errors or 'not confirmed by plan()'}", answers)
        for name in list(answers):  # a shorter counter-example, still confirmed by plan()
            fewer = {k: v for k, v in answers.items() if k != name}
            if violations(rb, fewer, invariants=[inv]):
                answers = fewer
        plan = rb.plan(answers)
        found = violations(rb, answers, plan, invariants=[inv])
        rules = sorted({r.rule for o in plan.options if o.id in opts for r in o.reasons})
        return Proof(inv, "refuted", found[0][1], answers, rules)
    return Proof(inv, "proved")


def prove_all(rb, budget: int = 200_000) -> list:
    model = _Model(rb)
    return [prove(rb, inv, budget, model) for inv in rb.safety]
