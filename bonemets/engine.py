"""The compiled engine: a rule book's conditions and outputs turned, once at load, into one
plain Python function that makes a Plan from answers.

Pure, like the rest of the engine: the function reads the answers and the rule book's own
(immutable) data and returns a new Plan; nothing is kept between calls.

How it is made (:class:`Engine`). Every answer value of a choice question has a bit in a small
integer per question (and each question an "other" bit, for a value outside the vocabulary,
which counts as known); the number question has a bit for "answered" and one per bound a rule
uses (``>= min``, ``<= max``). A rule's condition is then, per question it looks at,

    (bits & need) == need  and  not (bits & never)  and  (bits & s) for every s in some

``need``: values that must be there (``all``, a one-value ``any``, number bounds), ``never``:
values that must not (``none``, ``known: false``), ``some``: each a set of which one must be there
(``any`` of several values, ``known: true``). This is exactly :meth:`Condition.matches` on the
normalised answers (:meth:`RuleBook._normalise`); the Condition objects stay the rule book's
meaning, read by the interpreter (``bonemets.scenarios.reference_plan``), the presenter and the
safety checks.

The source written from the rule book holds only numbers, names made here and ``repr()`` of the
rule book's own strings (ids, groups, texts, source keys: each checked to be a plain ``str``);
everything else is passed in as objects. Per matching rule it builds what the old loop built:
a placement rule one ``Reason`` shared by its options (placement rules run in precedence
order, then rule book order, so each option's reasons come out in the order the old stable sort
gave them and the first one's group is the option's group); a caution rule one dict shared by
its options (an option that a second rule gives the same caution gets a new dict, the texts
merged in rule order); a red flag one entry per flag with every reason; a question once per
text. The sources a plan cites are a bit mask (small integers of 8 bits), turned into the
``sources`` dict (rule book order) by tables made here. Everything a plan holds is new for that
plan, except the rule book's own immutable values (strings, tuples, the catalog's outcomes and
the source entries, as before).

tests/test_engine_compiled.py checks, on thousands of random answer sets, every scenario and odd
unvalidated input, that this gives byte for byte the JSON of the plain interpreter's plans.
"""
from __future__ import annotations

from typing import Any, Mapping

_CHUNK = 8  # bits of the sources mask turned into keys by one table look-up


def _lit(value) -> str:
    """A Python literal for one of the rule book's own strings (or tuples of them)."""
    if isinstance(value, tuple):
        return "(" + "".join(_lit(v) + ", " for v in value) + ")"
    if type(value) is not str:
        raise TypeError(f"not a plain string: {value!r}")
    return repr(value)


def _said_fact(field: str, v) -> tuple:
    """(because string, fact) for the answer ``v`` to ``field``: what ``RuleBook._said`` and
    ``RuleBook._fact`` give, in one step."""
    if v is None or v == [] or v == "":
        return field + "=not answered", {"field": field, "values": []}
    if isinstance(v, list):
        return field + "=" + ",".join(v), {"field": field, "values": list(v)}
    return f"{field}={v}", {"field": field, "values": [v]}


class Engine:
    """The rule book ``rb`` compiled: :meth:`plan` is ``RuleBook.plan``. The rule book hands in
    what the engine must know of it beyond its data (so this module imports nothing of ours):
    ``groups`` (the options' group order), ``unknown`` (the "I don't know" value) and ``types``,
    the result classes (Reason, OptionResult, RedFlagResult, Plan)."""

    def __init__(self, rb, *, groups: tuple, unknown: str, types: tuple):
        GROUPS, UNKNOWN = groups, unknown
        Reason, OptionResult, RedFlagResult, Plan = types

        rules = list(rb.all_rules())
        used = {}  # field -> its place in the generated code (only fields a rule looks at)
        bounds: dict = {}
        for r in rules:
            for m in r.when.matchers:
                used.setdefault(m.field, len(used))
                lo, hi = bounds.setdefault(m.field, (set(), set()))
                if m.min is not None:
                    lo.add(m.min)
                if m.max is not None:
                    hi.add(m.max)
        ns: dict = {"Reason": Reason, "new": tuple.__new__, "OptionResult": OptionResult,
                    "RedFlagResult": RedFlagResult, "Plan": Plan, "said_fact": _said_fact}
        self.bits: dict = {}       # field -> {value: bit} (choice) / (answered, ge, le) (number)
        self.known: dict = {}      # choice field -> bits that make the answer "known"
        code = ["def plan(answers):", "    get = answers.get"]
        add = code.append

        # -- the answers as bits, one small integer per question a rule looks at ---------------
        for name, j in used.items():
            f = rb.fields[name]
            add(f"    v = v{j} = get({_lit(name)})")
            if f.kind == "number":
                lo, hi = bounds[name]
                bit, answered = 2, 1
                ge, le = {}, {}
                for t in sorted(lo):
                    ge[t], bit = bit, bit << 1
                for t in sorted(hi):
                    le[t], bit = bit, bit << 1
                self.bits[name] = (answered, ge, le)
                add("    if isinstance(v, int) and not isinstance(v, bool):")
                add(f"        m{j} = {answered}")
                for t, b in ge.items():
                    add(f"        if v >= {int(t)}: m{j} |= {b}")
                for t, b in le.items():
                    add(f"        if v <= {int(t)}: m{j} |= {b}")
                add("    else:")
                add(f"        m{j} = 0")
                continue
            vals = {v: 1 << i for i, v in enumerate(f.values)}
            other = 1 << len(vals)
            self.bits[name] = vals
            self.known[name] = other | sum(b for v, b in vals.items() if v != UNKNOWN)
            ns[f"T{j}"] = vals
            if f.kind == "one":
                base = vals.get(UNKNOWN, 0)  # unanswered reads as "I don't know"
                # with the answer as a "because" string and a fact (a value's string made here)
                ns[f"SAID{j}"] = {v: f"{name}={v}" for v in f.values}
                add("    if v is None or v == '':")
                add(f"        m{j} = {base}; b{j} = {_lit(name + '=not answered')}; "
                    f"x{j} = {{'field': {_lit(name)}, 'values': []}}")
                add("    elif isinstance(v, str):")
                add(f"        m{j} = T{j}.get(v, {other}); b{j} = SAID{j}.get(v) or {_lit(name + '=')} + v; "
                    f"x{j} = {{'field': {_lit(name)}, 'values': [v]}}")
                add("    else:  # not a value at all: its because and fact when a rule needs them")
                add(f"        m{j} = {other}; b{j} = None")
            else:  # many: a list of values (one value alone counts as a list of it)
                add(f"    m{j} = 0")
                add("    if v:")
                add("        if isinstance(v, (list, tuple)):")
                add("            for x in v:")
                add(f"                m{j} |= T{j}.get(x, {other}) if isinstance(x, str) else {other}")
                add("        elif isinstance(v, str):")
                add(f"            m{j} = T{j}.get(v, {other})")
                add("        else:")
                add(f"            m{j} = {other}")

        # -- what a plan starts with -----------------------------------------------------------
        options = list(rb.options)
        opt_no = {oid: i for i, oid in enumerate(options)}
        src_bit = {k: 1 << i for i, k in enumerate(rb.sources)}
        outcome_mask = 0
        for e in rb.options.values():
            for o in e["outcomes"]:
                outcome_mask |= sum(src_bit[k] for k in o["sources"])
        n_chunks = (len(src_bit) + _CHUNK - 1) // _CHUNK
        for c in range(n_chunks):  # the sources cited: small integers of _CHUNK bits each
            add(f"    u{c} = {(outcome_mask >> (c * _CHUNK)) & ((1 << _CHUNK) - 1)}")
        for name, j in used.items():
            if rb.fields[name].kind != "one":
                add(f"    b{j} = None")  # the answer as a "because" string and a fact: when needed
        for i in range(len(options)):
            add(f"    o{i} = []; c{i} = []")
        add("    flags = []; questions = []")

        def cond(r) -> str:
            per: dict = {}
            for m in r.when.matchers:
                need, never, some = per.setdefault(m.field, [0, 0, []])
                if m.field in self.bits and isinstance(self.bits[m.field], tuple):
                    answered, ge, le = self.bits[m.field]
                    if m.known is not None:
                        if m.known:
                            need |= answered
                        else:
                            never |= answered
                    if m.min is not None:
                        need |= ge[m.min]
                    if m.max is not None:
                        need |= le[m.max]
                else:  # a choice question
                    vals = self.bits[m.field]
                    if m.any is not None:
                        b = sum(vals[v] for v in m.any)
                        if len(m.any) == 1:
                            need |= b
                        else:
                            some.append(b)
                    if m.none is not None:
                        never |= sum(vals[v] for v in m.none)
                    if m.all is not None:
                        need |= sum(vals[v] for v in m.all)
                    if m.known is not None:
                        if m.known:
                            some.append(self.known[m.field])
                        else:
                            never |= self.known[m.field]
                per[m.field][:2] = need, never
            first, later = [], []  # a needed value first: it rules most rules out at once
            for fname, (need, never, some) in per.items():
                mv = f"m{used[fname]}"
                if need:
                    first.append(f"{mv} & {need}" if need & (need - 1) == 0
                                 else f"{mv} & {need} == {need}")
                later += [f"{mv} & {s}" for s in some]
                if never:
                    later.append(f"not {mv} & {never}")
            return first + later  # all must hold (none: the rule always fires)

        def emit(items) -> None:
            """Each (terms, body) as ``if <terms>: <body>``, in order; a run of rules with the
            same first test shares one ``if`` for it (most runs are skipped by one test)."""
            i = 0
            while i < len(items):
                terms, body = items[i]
                run = 1
                while (terms and i + run < len(items) and items[i + run][0][:1] == terms[:1]):
                    run += 1
                if run == 1:
                    add(f"    if {' and '.join(terms) or 'True'}:")
                    code.extend("        " + ln for ln in body)
                else:
                    add(f"    if {terms[0]}:")
                    for rest, body in items[i:i + run]:
                        add(f"        if {' and '.join(rest[1:]) or 'True'}:")
                        code.extend("            " + ln for ln in body)
                i += run

        def trace(r, indent: str = "") -> tuple:
            """Code making the answers ``r`` looks at ready, and (because, facts) literals."""
            lines = []
            for f in r.when.fields:
                j, kind = used[f], rb.fields[f].kind
                lines.append(f"{indent}if b{j} is None:")
                if kind == "many":  # the usual answer, a list of values
                    lines.append(f"{indent}    if v{j}.__class__ is list and v{j}:")
                    lines.append(f"{indent}        b{j} = {_lit(f + '=')} + ','.join(v{j}); "
                                 f"x{j} = {{'field': {_lit(f)}, 'values': v{j}[:]}}")
                    lines.append(f"{indent}    else:")
                    lines.append(f"{indent}        b{j}, x{j} = said_fact({_lit(f)}, v{j})")
                else:  # a number, or a one-of answer that is not a string (see above)
                    lines.append(f"{indent}    b{j}, x{j} = said_fact({_lit(f)}, v{j})")
            because = "[" + ", ".join(f"b{used[f]}" for f in r.when.fields) + "]"
            facts = "[" + ", ".join(f"x{used[f]}" for f in r.when.fields) + "]"
            return lines, because, facts

        def smask(keys) -> int:
            """Code adding the sources ``keys`` to the ones the plan cites."""
            mask = sum(src_bit[k] for k in set(keys))
            return "; ".join(f"u{c} |= {(mask >> (c * _CHUNK)) & ((1 << _CHUNK) - 1)}"
                             for c in range(n_chunks)
                             if (mask >> (c * _CHUNK)) & ((1 << _CHUNK) - 1)) or "pass"

        def src_list(keys) -> str:
            return "[" + ", ".join(_lit(k) for k in keys) + "]"

        # -- placement: by precedence, then rule book order -------------------------------------
        rank = {g: i for i, g in enumerate(rb.precedence)}
        items = []
        for _, r in sorted(enumerate(rb.placement), key=lambda ir: (rank[ir[1].group], ir[0])):
            body, because, facts = trace(r)
            body.append(f"r = new(Reason, ({_lit(r.id)}, {_lit(r.group)}, {because}, {_lit(r.text)}, "
                        f"{_lit(tuple(r.sources))}, {facts}))")
            body.append("; ".join(f"o{opt_no[o]}.append(r)" for o in r.options))
            body.append(smask(r.sources))
            items.append((cond(r), body))
        emit(items)

        # -- red flags: one entry per flag (in the order first met), every reason ---------------
        flag_no = {fid: i for i, fid in enumerate(dict.fromkeys(r.flag for r in rb.flag_rules))}
        for i in flag_no.values():
            add(f"    f{i} = None")
        items = []
        for r in rb.flag_rules:
            d, k = rb.flags[r.flag], flag_no[r.flag]
            body = [f"if f{k} is None:",
                    f"    f{k} = RedFlagResult({_lit(r.flag)}, {_lit(d['urgency'])}, "
                    f"{_lit(d['title'])}, {_lit(d['action'])}, {src_list(d['sources'])}, [])",
                    f"    flags.append(f{k}); {smask(d['sources'])}"]
            lines, because, facts = trace(r)
            body += lines
            body.append(f"f{k}.reasons.append(new(Reason, ({_lit(r.id)}, None, {because}, "
                        f"{_lit(r.text)}, {_lit(tuple(r.sources))}, {facts})))")
            body.append(smask(r.sources))
            items.append((cond(r), body))
        emit(items)

        # -- cautions: per option one dict per caution, the texts of every rule that gives it
        # merged in rule order. A rule's dict is made once and shared by its options, as a Reason
        # is; where a second rule gives the same caution to an option, that option gets a new,
        # merged dict in the same place of its list (the shared one is never changed).
        givers: dict = {}  # (option, caution) -> how many rules can give it
        for r in rb.caution_rules:
            for o in r.options:
                givers[(o, r.caution)] = givers.get((o, r.caution), 0) + 1
        shared = {pair: i for i, pair in enumerate(p for p, n in givers.items() if n > 1)}
        for i in shared.values():
            add(f"    k{i} = None")  # the caution an option has so far (when several rules give it)
        items = []
        for r in rb.caution_rules:
            title = rb.cautions[r.caution]["title"]
            body = [smask(r.sources),
                    f"d = {{'id': {_lit(r.caution)}, 'title': {_lit(title)}, 'text': {_lit(r.text)}, "
                    f"'rules': [{_lit(r.id)}], 'sources': {src_list(r.sources)}}}"]
            for o in r.options:
                n = opt_no[o]
                if (o, r.caution) not in shared:
                    body.append(f"c{n}.append(d)")
                    continue
                k = shared[(o, r.caution)]
                body += [f"if k{k} is None:",
                         f"    k{k} = d; i{k} = len(c{n}); c{n}.append(d)",
                         "else:",
                         f"    k{k} = c{n}[i{k}] = {{**k{k}, 'text': k{k}['text'] + {_lit(' ' + r.text)}, "
                         f"'rules': k{k}['rules'] + [{_lit(r.id)}], 'sources': k{k}['sources'] + "
                         f"[s for s in {_lit(tuple(r.sources))} if s not in k{k}['sources']]}}"]
            items.append((cond(r), body))
        emit(items)

        # -- questions: each text asked once ----------------------------------------------------
        texts = {}
        for r in rb.question_rules:
            texts[r.text] = texts.get(r.text, 0) + 1
        asked = {t: i for i, t in enumerate(t for t, n in texts.items() if n > 1)}
        for i in asked.values():
            add(f"    a{i} = False")
        items = []
        for r in rb.question_rules:
            terms, body = cond(r), []
            if r.text in asked:
                terms = terms + [f"not a{asked[r.text]}"]
                body.append(f"a{asked[r.text]} = True")
            lines, because, facts = trace(r)
            body += lines
            body.append(f"questions.append({{'text': {_lit(r.text)}, 'rule': {_lit(r.id)}, "
                        f"'because': {because}, 'facts': {facts}, 'sources': {src_list(r.sources)}}})")
            body.append(smask(r.sources))
            items.append((terms, body))
        emit(items)

        # -- options: every catalog option once, by group, then catalog order -------------------
        add("    by = {" + ", ".join(f"{_lit(g)}: []" for g in GROUPS) + "}")
        for oid, i in opt_no.items():
            ns[f"OUT{i}"] = rb.options[oid]["outcomes"]
            group = f"o{i}[0].group if o{i} else 'other'"
            add(f"    g = {group}")
            add(f"    by[g].append(OptionResult({_lit(oid)}, {_lit(rb.options[oid]['name'])}, g, "
                f"o{i}, c{i}, OUT{i}))")
        add("    if len(flags) > 1: flags.sort(key=URGENCY)")

        # the cited sources, in rule book order: one table look-up per 8 bits of the mask (the
        # tables' dicts are only read: the plan gets a new dict made from them)
        keys = list(rb.sources)
        merged = []
        for c, start in enumerate(range(0, len(keys), _CHUNK)):
            part = keys[start:start + _CHUNK]
            ns[f"SRC{c}"] = tuple({k: rb.sources[k] for b, k in enumerate(part) if n >> b & 1}
                                  for n in range(1 << len(part)))
            merged.append(f"**SRC{c}[u{c}]")
        urgency = dict(rb._urgency_order)
        ns["URGENCY"] = lambda f: urgency[f.urgency]
        ns["CAVEAT"], ns["VERSION"], ns["REVIEWED"] = rb.caveat, rb.version, rb._reviewed_iso
        add("    return Plan(caveat=CAVEAT, rules_version=VERSION, reviewed=REVIEWED,")
        add("                answers={k: (list(v) if isinstance(v, list) else v) for k, v in answers.items()},")
        add("                red_flags=flags, options=" + " + ".join(f"by[{_lit(g)}]" for g in GROUPS)
            + ", questions=questions, sources={" + ", ".join(merged) + "})")

        self.source = "\n".join(code) + "\n"
        exec(compile(self.source, f"<rule book {rb.version}: compiled>", "exec"), ns)
        self.plan = ns["plan"]

    def plan(self, answers: Mapping[str, Any]):  # replaced per instance by the compiled function
        raise NotImplementedError
