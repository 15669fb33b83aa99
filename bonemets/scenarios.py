"""Scenarios: plain YAML cases a clinician can read and add to, checked against the rule book
(like ``openfisca test``). ``flask --app app rules test [FILES]``, ``flask rules coverage`` and
the test suite (tests/test_scenarios.py, tests/test_coverage.py) all use this module.

A scenario file is a list of cases: ``name``, ``answers`` (contract vocabulary), optionally
``lang`` (run it in that language's rule book, e.g. ``es``: ids and placements must not depend
on the language; default the English one) and ``expect`` with any of:

  relevant: [option ids]     group is discuss or consider
  discuss / consider / unlikely / other: [option ids]   exactly that group
  not_discuss: [option ids]  any group but discuss
  red_flags: {flag id: urgency}   present with that urgency
  no_red_flags: [flag ids]   absent
  no_emergency: true         no flag of urgency emergency
  cautions: {option id: [caution ids]}     attached
  no_cautions: {option id: [caution ids]}  not attached
  questions: [question rule ids]           asked
"""
from __future__ import annotations

import os
from typing import Iterable

import yaml

from .paths import SCENARIOS_DIR

KEYS = frozenset({"relevant", "discuss", "consider", "unlikely", "other", "not_discuss",
                  "red_flags", "no_red_flags", "no_emergency", "cautions", "no_cautions",
                  "questions"})
GROUP_KEYS = ("discuss", "consider", "unlikely", "other")
LISTED = ("discuss", "consider")


class ScenarioError(ValueError):
    """A scenario file that cannot be read, or a case that is not a scenario."""


def scenario_files(paths: Iterable[str] = ()) -> list:
    """The YAML files named (a folder means every YAML file in it); none means tests/scenarios."""
    out = []
    for p in list(paths) or [SCENARIOS_DIR]:
        if os.path.isdir(p):
            out += [os.path.join(p, n) for n in sorted(os.listdir(p)) if n.endswith((".yaml", ".yml"))]
        else:
            out.append(p)
    return out


def load_file(path: str) -> list:
    name = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as fh:
            cases = yaml.safe_load(fh) or []
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot be read as YAML: {exc}") from None
    if not isinstance(cases, list):
        raise ScenarioError(f"{path}: must be a list of scenarios")
    for case in cases:
        if not isinstance(case, dict) or "name" not in case or "expect" not in case:
            raise ScenarioError(f"{path}: every scenario needs 'name', 'answers' and 'expect'")
        if not isinstance(case.get("lang", ""), str):
            raise ScenarioError(f"{path}: scenario '{case['name']}': 'lang' must be a language code")
        # check_symptoms: the answers are the first section's (the urgent symptoms), sent by the
        # one-page form's "Check these symptoms now"; tests/test_scenarios.py sends them so too.
        if not isinstance(case.get("check_symptoms", False), bool):
            raise ScenarioError(f"{path}: scenario '{case['name']}': 'check_symptoms' must be "
                                "true or false")
        case["file"] = name
    return cases


def load_scenarios(folder_or_files=None) -> list:
    """Every scenario in the files (or the folder) given, each tagged with its file name."""
    if folder_or_files is None:
        paths = []
    elif isinstance(folder_or_files, str):
        paths = [folder_or_files]
    else:
        paths = list(folder_or_files)
    return [case for path in scenario_files(paths) for case in load_file(path)]


def check_plan(case: dict, plan: dict) -> list:
    """The unmet expectations of a scenario, in words, for a plan as JSON (``Plan.to_dict()``
    or the API's answer). An empty list means the scenario passes."""
    expect = case.get("expect") or {}
    problems = []
    if not expect:
        return ["a scenario must expect something"]
    unknown = set(expect) - KEYS
    if unknown:
        problems.append(f"unknown expectation keys {sorted(unknown)}")
    if not plan.get("caveat"):
        problems.append("the plan has no caveat")
    options = {o["id"]: o for o in plan["options"]}
    flags = {f["id"]: f["urgency"] for f in plan["red_flags"]}

    def group_of(oid):
        return options[oid]["group"] if oid in options else None

    named = list(expect.get("relevant", [])) + list(expect.get("not_discuss", []))
    named += [oid for g in GROUP_KEYS for oid in expect.get(g, [])]
    named += list(expect.get("cautions") or {}) + list(expect.get("no_cautions") or {})
    for oid in dict.fromkeys(named):
        if oid not in options:
            problems.append(f"unknown option id {oid} in scenario")
    for oid in expect.get("relevant", []):
        if oid in options and group_of(oid) not in LISTED:
            problems.append(f"{oid} should be discuss/consider, is {group_of(oid)}")
    for g in GROUP_KEYS:
        for oid in expect.get(g, []):
            if oid in options and group_of(oid) != g:
                problems.append(f"{oid} should be {g}, is {group_of(oid)}")
    for oid in expect.get("unlikely", []):
        if oid in options and not any(r.get("group") == "unlikely" for r in options[oid]["reasons"]):
            problems.append(f"{oid} is unlikely without an unlikely reason")
    for oid in expect.get("not_discuss", []):
        if group_of(oid) == "discuss":
            problems.append(f"{oid} should not be discuss")
    for fid, urgency in (expect.get("red_flags") or {}).items():
        if flags.get(fid) != urgency:
            problems.append(f"red flag {fid} should be {urgency}, is {flags.get(fid)}")
    for fid in expect.get("no_red_flags", []):
        if fid in flags:
            problems.append(f"red flag {fid} should be absent")
    if expect.get("no_emergency") and "emergency" in flags.values():
        problems.append(f"no emergency expected, got {flags}")
    for oid, cids in (expect.get("cautions") or {}).items():
        have = {c["id"] for c in options[oid]["cautions"]} if oid in options else set()
        for cid in cids:
            if cid not in have:
                problems.append(f"{oid} should carry caution {cid}; has {sorted(have)}")
    for oid, cids in (expect.get("no_cautions") or {}).items():
        have = {c["id"] for c in options[oid]["cautions"]} if oid in options else set()
        for cid in cids:
            if cid in have:
                problems.append(f"{oid} should not carry caution {cid}")
    asked = {q["rule"] for q in plan["questions"]}
    for qid in expect.get("questions", []):
        if qid not in asked:
            problems.append(f"question {qid} should be asked")
    return problems


def run(rb, case: dict, books: dict | None = None) -> tuple:
    """(plan, unmet expectations) of one scenario through the rule book (``books``: the rule
    book of each language, for a case with ``lang``). Bad answers are unmet expectations too (a
    scenario must speak the questionnaire's vocabulary)."""
    lang = case.get("lang")
    if lang:
        rb = (books or {}).get(lang)
        if rb is None:
            return None, [f"no rule book in the language {lang!r}"]
    answers, problems = rb.validate_answers(case.get("answers") or {})
    if problems:
        return None, [f"bad answer {k}: {p.code} {p.params}" for k, p in problems.items()]
    plan = rb.plan(answers)
    return plan, check_plan(case, plan.to_dict())


def coverage_report(rb, scenarios: list) -> dict:
    """Which rules fire in at least one scenario, and which groups each option reaches."""
    fired, placed = set(), {oid: set() for oid in rb.options}
    for case in scenarios:
        answers, problems = rb.validate_answers(case.get("answers") or {})
        if problems:
            raise ScenarioError(f"scenario '{case.get('name')}' has bad answers: "
                                + ", ".join(f"{k} ({p.code})" for k, p in problems.items()))
        plan = rb.plan(answers)
        for o in plan.options:
            placed[o.id].add(o.group)
            fired.update(r.rule for r in o.reasons)
            for c in o.cautions:
                fired.update(c["rules"])
        for f in plan.red_flags:
            fired.update(r.rule for r in f.reasons)
        fired.update(q["rule"] for q in plan.questions)
    all_ids = [r.id for r in rb.all_rules()]
    return {
        "rules": len(all_ids),
        "fired": [i for i in all_ids if i in fired],
        "not_fired": [i for i in all_ids if i not in fired],
        "groups": placed,
    }


# --------------------------------------------------------------------------------------------
# The reference engine
# --------------------------------------------------------------------------------------------
def reference_plan(rb, answers):
    """The plan of ``answers`` by the plain interpreter: every rule's :meth:`Condition.matches`
    on :meth:`RuleBook._normalise`'s answers, in rule book order. ``RuleBook.plan`` runs a
    compiled form of the same conditions; tests/test_engine_compiled.py checks that both give
    the same plans (this is the engine as it was before the conditions were compiled)."""
    from .rules import OptionResult, Plan, Reason, RedFlagResult, Rule

    norm = rb._normalise(answers)
    used_sources: set = set()
    memo: dict = {}

    def trace(rule: Rule) -> tuple:
        """(because, facts): the answers a rule looked at, as strings and as facts."""
        t = memo.get(rule.when.fields)
        if t is None:
            t = memo[rule.when.fields] = ([rb._said(f, answers) for f in rule.when.fields],
                                          [rb._fact(f, answers) for f in rule.when.fields])
        return t

    def reason(rule: Rule, group: str | None) -> Reason:
        because, facts = trace(rule)
        return Reason(rule.id, group, list(because), rule.text, list(rule.sources), list(facts))

    # Options: every catalog option exactly once.
    reasons: dict = {oid: [] for oid in rb.options}
    for rule in rb.placement:
        g = rule.when.gate  # a quick first test skips most rules without a call
        if g is not None and not (norm[g[0]] & g[1]):
            continue
        if rule.when.matches(norm):
            r = reason(rule, rule.group)
            used_sources.update(rule.sources)
            for oid in rule.options:
                reasons[oid].append(r)
    cautions: dict = {oid: {} for oid in rb.options}
    for rule in rb.caution_rules:
        if rule.when.matches(norm):
            used_sources.update(rule.sources)
            for oid in rule.options:
                c = cautions[oid].get(rule.caution)
                if c is None:
                    cautions[oid][rule.caution] = {
                        "id": rule.caution, "title": rb.cautions[rule.caution]["title"],
                        "text": rule.text, "rules": [rule.id], "sources": list(rule.sources)}
                else:
                    c["text"] += " " + rule.text
                    c["rules"].append(rule.id)
                    c["sources"] += [s for s in rule.sources if s not in c["sources"]]
    rank = rb._rank
    options = []
    for oid, entry in rb.options.items():
        rs = reasons[oid]
        if rs:
            if len(rs) > 1:
                rs.sort(key=lambda r: rank[r.group])
            group = rs[0].group
        else:
            group = "other"
        options.append(OptionResult(oid, entry["name"], group, rs,
                                    list(cautions[oid].values()), entry["outcomes"]))
        for o in entry["outcomes"]:
            used_sources.update(o["sources"])
    go, oo = rb._group_order, rb._option_order
    options.sort(key=lambda o: (go[o.group], oo[o.id]))

    # Red flags, most urgent first, one entry per flag with every reason.
    flags: dict = {}
    for rule in rb.flag_rules:
        if rule.when.matches(norm):
            d = rb.flags[rule.flag]
            fr = flags.get(rule.flag)
            if fr is None:
                fr = flags[rule.flag] = RedFlagResult(rule.flag, d["urgency"], d["title"],
                                                      d["action"], list(d["sources"]), [])
                used_sources.update(d["sources"])
            fr.reasons.append(reason(rule, None))
            used_sources.update(rule.sources)
    red_flags = sorted(flags.values(), key=lambda f: rb._urgency_order[f.urgency])

    # Questions to ask, without repeats.
    questions, seen = [], set()
    for rule in rb.question_rules:
        if rule.text not in seen and rule.when.matches(norm):
            seen.add(rule.text)
            questions.append({"text": rule.text, "rule": rule.id,
                              "because": list(trace(rule)[0]), "facts": list(trace(rule)[1]),
                              "sources": list(rule.sources)})
            used_sources.update(rule.sources)

    return Plan(
        caveat=rb.caveat, rules_version=rb.version, reviewed=rb._reviewed_iso,
        answers={k: (list(v) if isinstance(v, list) else v) for k, v in answers.items()},
        red_flags=red_flags, options=options, questions=questions,
        sources={k: rb.sources[k] for k in sorted(used_sources, key=rb._source_order.get)},
    )


def random_answers(rb, rng) -> dict:
    """One random, valid answer set over the questionnaire's vocabulary (``rng`` a
    ``random.Random``): each question left unanswered about one time in four, one value for a
    one-of question, one to four for a tick-all one, any whole number in range. Used by the
    engine's equivalence test and the benchmarks (a fresh answer set per request)."""
    raw = {}
    for name, f in rb.fields.items():
        if rng.random() < 0.25:
            continue
        if f.kind == "number":
            raw[name] = rng.randint(f.min, f.max)
        elif f.kind == "one":
            raw[name] = rng.choice(f.values)
        else:
            raw[name] = rng.sample(f.values, rng.randint(1, min(4, len(f.values))))
    clean, problems = rb.validate_answers(raw)
    assert not problems, problems
    return clean
