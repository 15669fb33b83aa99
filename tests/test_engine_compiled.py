"""The compiled engine (``RuleBook.plan``: conditions as bit tests made once at load) gives
exactly the plans of the plain interpreter (``scenarios.reference_plan``: every rule's
``Condition.matches`` on the normalised answers), on thousands of random answer sets over the
questionnaire's vocabulary, on every scenario, and on odd unvalidated input. No timing is
asserted here (benchmarks/plan_speed.py measures the speed)."""
from __future__ import annotations

import dataclasses
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bonemets.rules import Condition, Matcher, RuleBook
from bonemets.scenarios import load_scenarios, random_answers, reference_plan

CORPUS = 3000


def differ(rb, answers) -> bool:
    """True when the engine's plan is not the interpreter's: the whole ``to_dict()`` compared,
    as data and as JSON text (which also sees the order of keys and entries)."""
    got, want = rb.plan(answers).to_dict(), reference_plan(rb, answers).to_dict()
    return got != want or json.dumps(got) != json.dumps(want)


def same_plan(rb, answers):
    assert not differ(rb, answers), answers


def test_random_corpus_gives_the_reference_plans(rulebook):
    rng = random.Random(20261201)
    fired = set()
    for _ in range(CORPUS):
        answers = random_answers(rulebook, rng)
        plan = rulebook.plan(answers)
        assert not differ(rulebook, answers), answers
        fired.update(r.rule for o in plan.options for r in o.reasons)
        fired.update(r.rule for f in plan.red_flags for r in f.reasons)
        fired.update(c for o in plan.options for ca in o.cautions for c in ca["rules"])
        fired.update(q["rule"] for q in plan.questions)
    # The corpus is not a trivial one: most rules of every kind fire somewhere in it.
    kinds = {}
    for r in rulebook.all_rules():
        kinds.setdefault(r.kind, []).append(r.id in fired)
    for kind, hits in kinds.items():
        assert sum(hits) >= len(hits) // 2, f"only {sum(hits)} of {len(hits)} {kind} rules fired"


def test_every_scenario_gives_the_reference_plan(rulebook):
    for case in load_scenarios():
        answers, problems = rulebook.validate_answers(case.get("answers") or {})
        assert not problems, case["name"]
        same_plan(rulebook, answers)


def _answer(f):
    if f.kind == "number":
        return st.one_of(st.none(), st.integers(f.min, f.max))
    if f.kind == "one":
        return st.one_of(st.none(), st.just(""), st.sampled_from(f.values))
    return st.one_of(st.none(), st.just([]), st.lists(st.sampled_from(f.values), unique=True))


@pytest.fixture(scope="module")
def answer_sets(rulebook):
    return st.fixed_dictionaries({}, optional={n: _answer(f) for n, f in rulebook.fields.items()})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hypothesis_answers_give_the_reference_plans(rulebook, answer_sets, data):
    raw = data.draw(answer_sets)
    same_plan(rulebook, raw)  # as given (the engine's own normalising of empty answers)
    clean, _ = rulebook.validate_answers(raw)
    same_plan(rulebook, clean)


@pytest.mark.parametrize("answers", [
    {},
    {"primary_cancer": "unknown", "symptoms_now": ["unknown"], "pain_score": None},
    {"primary_cancer": "not-a-value"},          # outside the vocabulary: known, matches no value
    {"symptoms_now": "leg_weakness"},           # one value where a list is expected
    {"symptoms_now": ["not-a-value"]},
    {"pain_score": True},                       # a bool is not a number
    {"pain_score": "7"},                        # nor is a string
    {"pain_score": 0}, {"pain_score": 7}, {"pain_score": 10},
    {"favourite_colour": "blue"},               # a field the rule book does not know
])
def test_odd_input_gives_the_reference_plan(rulebook, answers):
    same_plan(rulebook, answers)


def test_hand_made_conditions_compile_to_the_interpreter(rulebook):
    """Every kind of matcher, alone and together, on a rule book whose rules are replaced."""
    f = rulebook.fields
    one = next(n for n, x in f.items() if x.kind == "one" and "unknown" in x.value_set)
    many = next(n for n, x in f.items() if x.kind == "many" and len(x.values) > 3)
    num = next(n for n, x in f.items() if x.kind == "number")
    ov = [v for v in f[one].values if v != "unknown"]
    mv = [v for v in f[many].values if v != "unknown"]
    matchers = [
        Matcher(one, any=frozenset(ov[:1])), Matcher(one, any=frozenset(ov[:2])),
        Matcher(one, none=frozenset(ov[:2])), Matcher(one, known=True), Matcher(one, known=False),
        Matcher(many, any=frozenset(mv[:2])), Matcher(many, all=frozenset(mv[:2])),
        Matcher(many, none=frozenset(mv[1:3])), Matcher(many, known=True),
        Matcher(many, known=False), Matcher(num, min=3), Matcher(num, max=6),
        Matcher(num, min=4, max=4), Matcher(num, known=True), Matcher(num, known=False),
        Matcher(many, any=frozenset(mv[:2]), none=frozenset(mv[2:3]), known=True),
    ]
    conditions = [Condition((m,)) for m in matchers]
    conditions += [Condition((a, b)) for a, b in zip(matchers, matchers[3:] + matchers[:3])]
    conditions.append(Condition(()))
    template = rulebook.question_rules[0]
    rules = tuple(type(template)(**{**template.__dict__, "id": f"q{i}", "text": f"Question {i}?",
                                   "when": c}) for i, c in enumerate(conditions))
    rb = RuleBook(meta=rulebook.meta, sections=rulebook.sections, fields=rulebook.fields,
                  options=rulebook.options, sources=rulebook.sources, placement=(),
                  flags=rulebook.flags, flag_rules=(), cautions=rulebook.cautions,
                  caution_rules=(), question_rules=rules, files=rulebook.files,
                  glossary=rulebook.glossary)
    rng = random.Random(7)
    asked = set()
    for _ in range(1500):
        answers = random_answers(rb, rng)
        plan = rb.plan(answers)
        assert not differ(rb, answers), answers
        asked.update(q["rule"] for q in plan.questions)
    for ans in ({}, {num: 4}, {one: "unknown"}, {many: mv[:3]}):
        same_plan(rb, ans)
    # every one-matcher condition and the empty one were met (some pairs contradict each other)
    single = {f"q{i}" for i in range(len(matchers))} | {rules[-1].id}
    assert single <= asked, f"never asked: {sorted(single - asked)}"
    assert len(asked) > len(single)


@pytest.mark.parametrize("change", ["drop a matcher", "another group", "one option less",
                                    "caution text", "question order"])
def test_the_comparison_catches_a_wrong_engine(rulebook, change):
    """An engine compiled from a slightly different rule book (what a bug in the compiler would
    give) is caught by the comparison the tests above make, on the same random corpus."""
    placement = list(rulebook.placement)
    cautions, questions = list(rulebook.caution_rules), list(rulebook.question_rules)
    i = next(i for i, r in enumerate(placement) if len(r.when.matchers) > 1 and len(r.options) > 1)
    r = placement[i]
    if change == "drop a matcher":
        placement[i] = dataclasses.replace(r, when=Condition(r.when.matchers[1:]))
    elif change == "another group":
        placement[i] = dataclasses.replace(r, group=next(g for g in ("discuss", "consider")
                                                         if g != r.group))
    elif change == "one option less":
        placement[i] = dataclasses.replace(r, options=r.options[1:])
    elif change == "caution text":
        cautions[0] = dataclasses.replace(cautions[0], text=cautions[0].text + " ")
    else:  # two questions asked when nothing is answered, the other way round
        a, b = (next(i for i, q in enumerate(questions) if q.id == p["rule"])
                for p in reference_plan(rulebook, {}).questions[:2])
        questions[a], questions[b] = questions[b], questions[a]
    wrong = RuleBook(meta=rulebook.meta, sections=rulebook.sections, fields=rulebook.fields,
                     options=rulebook.options, sources=rulebook.sources,
                     placement=tuple(placement), flags=rulebook.flags,
                     flag_rules=rulebook.flag_rules, cautions=rulebook.cautions,
                     caution_rules=tuple(cautions), question_rules=tuple(questions),
                     files=rulebook.files, glossary=rulebook.glossary)
    broken = RuleBook.__new__(RuleBook)
    broken.__dict__.update(rulebook.__dict__, _compiled=wrong._compiled)
    rng = random.Random(20261201)
    assert any(differ(broken, random_answers(rulebook, rng)) for _ in range(CORPUS)), change
    assert not differ(rulebook, {})  # the right engine still agrees
