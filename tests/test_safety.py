"""Safety invariants (rules/safety.yaml), checked two ways.

(a) Sampling: Hypothesis draws answer sets over the whole vocabulary of rules/questionnaire.yaml
    (every field answered or not, "I don't know" included, tick-all fields as any subset, pain
    score 0-10 or missing), runs plan() and fails on any broken invariant, printing the answers.
    Fixed seed (derandomize=True), no example database. A second test draws, for each invariant,
    answers that meet its `when`, so each invariant is exercised many times, not only by chance.
(b) Proof: bonemets.safety.prove decides each invariant over every answer set; tested here on a
    small rule book whose answers are known, and on the real one with a planted bad rule.
Also: a bad safety.yaml is refused with the file name and the invariant id, and /rules shows
every invariant.
"""
from __future__ import annotations

import datetime
import functools
import html
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from app import create_app
from bonemets.rules import RuleBookError, load_rulebook
from bonemets.safety import SafetyFileError, prove, prove_all, violations
from conftest import ROOT, RULES_DIR

# The vocabulary straight from the questionnaire file, not from the engine.
with open(os.path.join(RULES_DIR, "questionnaire.yaml"), encoding="utf-8") as _fh:
    FIELDS = yaml.safe_load(_fh)["fields"]
VALUES = {n: [str(k) for k in (s.get("choices") or {})] for n, s in FIELDS.items()}
RB = load_rulebook(RULES_DIR)
CATALOG = [*RB.options, *RB.flags, *RB.cautions]

# Every example runs plan() once (~0.1 ms); the whole file stays well under a minute.
RANDOM_EXAMPLES = int(os.environ.get("BONEMETS_SAFETY_EXAMPLES", "6000"))
PER_INVARIANT = int(os.environ.get("BONEMETS_SAFETY_PER_INVARIANT", "100"))
SETTINGS = dict(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def field_value(name):
    spec = FIELDS[name]
    if spec["kind"] == "number":
        return st.integers(spec["min"], spec["max"])
    if spec["kind"] == "one":
        return st.sampled_from(VALUES[name])
    return st.lists(st.sampled_from(VALUES[name]), min_size=1, unique=True)


ANY_ANSWERS = st.fixed_dictionaries({}, optional={n: field_value(n) for n in FIELDS})
TICKS = {n: st.lists(st.sampled_from(VALUES[n]), unique=True)
         for n, spec in FIELDS.items() if spec["kind"] == "many"}


def any_answers():
    """Each field left out or answered with anything the questionnaire allows."""
    return ANY_ANSWERS


@functools.lru_cache(maxsize=None)
def _meeting(m):
    """A strategy for a raw answer to matcher m's field that meets m (or that validation turns
    into one); None stands for "not answered". Built once per matcher: strategies are costly."""
    f = RB.fields[m.field]
    if f.kind == "number":
        if m.known is False:
            return st.none()
        lo = max(f.min, m.min if m.min is not None else f.min)
        hi = min(f.max, m.max if m.max is not None else f.max)
        return st.integers(lo, hi)
    if f.kind == "one":
        choices = [v for v in f.values if (m.any is None or v in m.any)
                   and (m.none is None or v not in m.none)
                   and (m.known is None or m.known == (v != "unknown"))]
        if m.known is False or (m.none is not None and m.any is None):
            choices.append(None)  # not answered
        return st.sampled_from(choices)
    if m.known is False:
        return st.sampled_from([None, ["unknown"]] if "unknown" in f.values else [None])
    wanted = sorted((m.any or frozenset()) - (m.none or frozenset()))
    extra = st.sampled_from(wanted) if wanted else st.none()

    def fix(pair):
        ticks, one = set(pair[0]), pair[1]
        ticks |= set(m.all or ())
        ticks -= set(m.none or ())
        if m.any is not None and not ticks & m.any and one is not None:
            ticks.add(one)
        real = ticks - f.exclusive
        if real:
            ticks = real      # validation drops "none"/"unknown" ticked with real answers
        return [v for v in f.values if v in ticks] or None

    return st.tuples(TICKS[m.field], extra).map(fix)


def _related_rules(inv):
    """The rules that could break the invariant: those placing its options, raising its flags,
    attaching its caution."""
    opts = set(inv.options) | set(inv.after)
    return ([r for r in RB.placement if opts & set(r.options)]
            + [r for r in RB.flag_rules if r.flag in inv.flags]
            + [r for r in RB.caution_rules if r.caution == inv.caution and opts & set(r.options)])


@st.composite
def answers_meeting(draw, inv, related):
    """Random answers that meet the invariant's `when`; half of them also meet the `when` of
    one rule that places (or flags) what the invariant is about, where breaks would hide."""
    answers = draw(ANY_ANSWERS)
    matchers = list(inv.when.matchers)
    if related is not None and draw(st.booleans()):
        matchers = list(draw(related).when.matchers) + matchers
    for m in matchers:
        v = draw(_meeting(m))
        if v is None:
            answers.pop(m.field, None)
        else:
            answers[m.field] = v
    return answers


def _check(answers, invariants=None):
    clean, errors = RB.validate_answers(answers)
    assert not errors, errors
    plan = RB.plan(clean)
    broken = violations(RB, clean, plan, invariants)
    assert not broken, "SAFETY VIOLATION\n" + "\n".join(
        f"  {inv.id}: {msg}" for inv, msg in broken) + f"\n  answers: {json.dumps(clean)}"
    return clean, plan


# --------------------------------------------------------------------------------------------
# (a) Sampling
# --------------------------------------------------------------------------------------------
@settings(max_examples=RANDOM_EXAMPLES, **SETTINGS)
@given(any_answers())
def test_random_answer_sets_break_no_invariant(answers):
    _, plan = _check(answers)
    # The prover's order invariant relies on this: within a group, options keep catalog order.
    for g in ("discuss", "consider", "unlikely", "other"):
        ids = [o.id for o in plan.options if o.group == g]
        assert ids == sorted(ids, key=CATALOG.index)


@pytest.mark.parametrize("inv", RB.safety, ids=lambda i: i.id)
def test_each_invariant_under_its_own_condition(inv):
    met = []
    related = _related_rules(inv)

    @settings(max_examples=PER_INVARIANT, **SETTINGS)
    @given(answers_meeting(inv, st.sampled_from(related) if related else None))
    def run(answers):
        clean, errors = RB.validate_answers(answers)
        assert not errors, errors
        assume(inv.when.matches(RB._normalise(clean)))
        met.append(1)
        _check(answers, [inv])

    run()
    assert len(met) >= PER_INVARIANT // 2, f"only {len(met)} examples met the condition of {inv.id}"


def test_there_are_enough_invariants_of_each_kind():
    kinds = {i.kind for i in RB.safety}
    assert len(RB.safety) >= 20
    assert kinds >= {"never", "at_least", "flag", "not_first_in_group"}


def test_a_broken_invariant_is_caught_by_sampling():
    """The runtime check can fail: a plan that breaks an invariant is reported."""
    inv = next(i for i in RB.safety if i.id == "safety-cord-symptoms-radiation-in-view")
    answers = {"symptoms_now": ["leg_weakness"], "painful_sites": "one_or_two"}
    plan = RB.plan(answers)
    assert not [m for i, m in violations(RB, answers, plan, [inv])]
    plan.option("external_beam_radiation").group = "unlikely"
    assert violations(RB, answers, plan, [inv]) == [
        (inv, "external_beam_radiation is 'unlikely', not at least 'discuss'")]


# --------------------------------------------------------------------------------------------
# (b) The static proof
# --------------------------------------------------------------------------------------------
def test_every_invariant_is_proved_on_the_real_rule_book():
    broken = [p for p in prove_all(RB) if p.status != "proved"]
    assert not broken, "SAFETY VIOLATION (static proof)\n" + "\n".join(
        f"  {p.invariant.id}: {p.status}: {p.what} for {json.dumps(p.answers)} (rules {p.rules})"
        for p in broken)


@pytest.fixture()
def rules_copy(tmp_path):
    dst = tmp_path / "rules"
    shutil.copytree(RULES_DIR, dst)
    return dst


def test_a_planted_bad_rule_is_refuted_with_a_counter_example(rules_copy):
    with open(rules_copy / "placement" / "radiation.yaml", "a", encoding="utf-8") as fh:
        fh.write(textwrap.dedent("""
            - id: planted-no-radiation-with-weak-legs
              option: external_beam_radiation
              group: unlikely
              when: {symptoms_now: leg_weakness}
              because: Planted by a test.
              sources: [ASTRO-2024]
              reviewed: 2026-12-01
            """))
    # Every language needs the rule's text, or the app (and so `rules check`) refuses the book.
    for es in (rules_copy / "i18n").glob("*/placement/radiation.yaml"):
        with open(es, "a", encoding="utf-8") as fh:
            fh.write("planted-no-radiation-with-weak-legs:\n  because: Puesta por una prueba.\n")
    rb = load_rulebook(str(rules_copy))
    inv = next(i for i in rb.safety if i.id == "safety-cord-symptoms-radiation-in-view")
    p = prove(rb, inv)
    assert p.status == "refuted"
    assert "leg_weakness" in p.answers["symptoms_now"]
    assert rb.plan(p.answers).option("external_beam_radiation").group == "unlikely"
    assert "planted-no-radiation-with-weak-legs" in p.rules
    r = _flask("rules", "check", env={"BONEMETS_RULES_DIR": str(rules_copy)})
    assert r.returncode == 1
    assert "VIOLATED safety.yaml, invariant 'safety-cord-symptoms-radiation-in-view'" in r.stderr
    assert "Traceback" not in r.stderr
    assert f"Safety: {len(rb.safety)} invariants" in r.stdout


MINI_PLACEMENT = """
- {id: x-pain, option: ablation, group: discuss, when: {painful_sites: one_or_two}}
- {id: x-no-mri, option: ablation, group: unlikely, when: {mri_possible: "no"}}
- {id: x-no-weak-legs, option: bone_cement, group: discuss, when: {symptoms_now: {none: [leg_weakness]}}}
- {id: x-impossible, option: radium_223, group: discuss, when: {symptoms_now: {all: [none, leg_weakness]}}}
- {id: x-severe-pain, option: re_irradiation, group: discuss, when: {pain_score: {min: 7}}}
- {id: x-time-not-said, option: clinical_trial, group: discuss, when: {outlook: {known: false}}}
- {id: x-mri-consider, option: focused_ultrasound, group: consider, when: {}}
- {id: x-mri-no, option: focused_ultrasound, group: unlikely, when: {mri_possible: "no"}}
- {id: x-broken-rt, option: external_beam_radiation, group: discuss, when: {bone_damage: fractured}}
- {id: x-broken-ablation, option: ablation, group: discuss, when: {bone_damage: fractured}}
- {id: x-broken-surgery, option: surgery, group: discuss, when: {bone_damage: fractured}}
- {id: x-bedbound, option: surgery, group: unlikely, when: {activity_level: bedbound}}
"""
MINI_SAFETY = """
- {id: s-unlikely-wins, when: {mri_possible: "no"}, never: {option: ablation, group: discuss}}
- {id: s-unsat, when: {painful_sites: none, bone_damage: {none: [fractured]}}, never: {option: ablation, group: discuss}}
- {id: s-refuted, when: {}, never: {option: ablation, group: discuss}}
- {id: s-many-unsat, when: {symptoms_now: {all: [leg_weakness, numbness]}}, never: {option: bone_cement, group: discuss}}
- {id: s-many-refuted, when: {symptoms_now: numbness}, never: {option: bone_cement, group: discuss}}
- {id: s-exclusive, when: {}, never: {option: radium_223, group: discuss}}
- {id: s-number-proved, when: {pain_score: {max: 6}}, never: {option: re_irradiation, group: discuss}}
- {id: s-number-refuted, when: {}, never: {option: re_irradiation, group: discuss}}
- {id: s-missing-refuted, when: {}, never: {option: clinical_trial, group: discuss}}
- {id: s-at-least-proved, when: {mri_possible: "yes"}, at_least: {option: focused_ultrasound, group: consider}}
- {id: s-at-least-refuted, when: {}, at_least: {option: focused_ultrasound, group: consider}}
- {id: s-at-least-other, when: {}, at_least: {option: chemotherapy, group: consider}}
- {id: s-flag-proved, when: {symptoms_now: leg_weakness}, flag: spinal_cord_compression}
- {id: s-flag-refuted, when: {calcium: high}, flag: infection}
- {id: s-caution-proved, when: {}, caution: {id: needs_mri, option: focused_ultrasound}}
- {id: s-caution-refuted, when: {}, caution: {id: needs_mri, option: ablation}}
- {id: s-order-proved, when: {activity_level: fully_active, bone_damage: fractured}, not_first_in_group: {group: discuss, options: [ablation], after_one_of: [surgery]}}
- {id: s-order-refuted-rank, when: {}, not_first_in_group: {group: discuss, options: [external_beam_radiation], after_one_of: [surgery]}}
- {id: s-order-refuted-unlikely, when: {bone_damage: fractured}, not_first_in_group: {group: discuss, options: [ablation], after_one_of: [surgery]}}
"""
MINI_EXPECTED = {
    "s-unlikely-wins": "proved", "s-unsat": "proved", "s-refuted": "refuted",
    "s-many-unsat": "proved", "s-many-refuted": "refuted", "s-exclusive": "proved",
    "s-number-proved": "proved", "s-number-refuted": "refuted", "s-missing-refuted": "refuted",
    "s-at-least-proved": "proved", "s-at-least-refuted": "refuted", "s-at-least-other": "refuted",
    "s-flag-proved": "proved", "s-flag-refuted": "refuted", "s-caution-proved": "proved",
    "s-caution-refuted": "refuted", "s-order-proved": "proved", "s-order-refuted-rank": "refuted",
    "s-order-refuted-unlikely": "refuted",
}


def _with_meta(text, key):
    items = yaml.safe_load(text)
    for item in items:
        item.setdefault("sources", ["Test-Source"])
        item.setdefault("reviewed", datetime.date(2026, 12, 1))
        item.setdefault(key, "Planted by a test.")
    return yaml.safe_dump(items, sort_keys=False)


@pytest.fixture()
def mini(rules_copy):
    """The real questionnaire, catalog, red flags and cautions; placement rules of our own."""
    with open(rules_copy / "sources.yaml", "a", encoding="utf-8") as fh:  # evidence for all
        fh.write("\nTest-Source: {org: Test, title: Test, year: null, url: 'https://example.org',"
                 " kind: other, covers: %s}\n" % json.dumps(
                     [*RB.options, *RB.flags, *RB.cautions]))
    for p in (rules_copy / "placement").iterdir():
        p.unlink()
    (rules_copy / "placement" / "mini.yaml").write_text(_with_meta(MINI_PLACEMENT, "because"))
    (rules_copy / "safety.yaml").write_text(_with_meta(MINI_SAFETY, "reason"))
    return load_rulebook(str(rules_copy))


def test_the_prover_decides_a_small_rule_book_exactly(mini):
    got = {p.invariant.id: p for p in prove_all(mini)}
    assert {k: p.status for k, p in got.items()} == MINI_EXPECTED
    for p in got.values():
        if p.status == "refuted":  # every counter-example is a real one
            answers, errors = mini.validate_answers(p.answers)
            assert not errors and violations(mini, answers, invariants=[p.invariant])
    a = got["s-refuted"].answers
    assert a.get("mri_possible") != "no"
    assert a.get("painful_sites") == "one_or_two" or "fractured" in a.get("bone_damage", [])
    assert got["s-many-refuted"].answers["symptoms_now"] == ["numbness"]
    assert got["s-number-refuted"].answers["pain_score"] >= 7
    assert "outlook" not in got["s-missing-refuted"].answers     # not answered is the gap
    assert got["s-at-least-refuted"].answers["mri_possible"] == "no"
    assert "other" in got["s-at-least-other"].what
    assert got["s-order-refuted-unlikely"].answers["activity_level"] == "bedbound"
    assert "x-broken-rt" in got["s-order-refuted-rank"].rules


def test_sampling_agrees_with_the_prover_on_the_small_rule_book(mini):
    """What the prover calls proved, 1,200 random answer sets never break; it finds the rest."""
    seen = set()

    @settings(max_examples=1200, **SETTINGS)
    @given(any_answers())
    def run(answers):
        clean, errors = mini.validate_answers(answers)
        assert not errors
        for inv, _ in violations(mini, clean):
            assert MINI_EXPECTED[inv.id] == "refuted", (inv.id, clean)
            seen.add(inv.id)

    run()
    assert seen == {k for k, v in MINI_EXPECTED.items() if v == "refuted"}


def _valid_states(f):
    """Every state a validated tick-all answer can take (brute force, for small fields)."""
    from itertools import combinations
    vals = list(f.values)
    subsets = [frozenset(c) for n in range(len(vals) + 1) for c in combinations(vals, n)]
    return [s for s in subsets if not (s & f.exclusive and s - f.exclusive)]


@settings(max_examples=300, **SETTINGS)
@given(st.sampled_from(["bone_damage", "current_medicines", "bone_sites"]), st.data())
def test_the_tick_all_solver_agrees_with_brute_force(fname, data):
    """The prover's exact check of one tick-all question, against every valid set of ticks."""
    from bonemets.rules import Condition, Matcher
    from bonemets.safety import _Solver
    f = RB.fields[fname]
    real = [v for v in f.values if v != "unknown"]
    atom = st.one_of(
        st.tuples(st.sampled_from(["any", "none", "all"]),
                  st.frozensets(st.sampled_from(real), min_size=1, max_size=3), st.booleans()),
        st.tuples(st.just("known"), st.booleans(), st.booleans()))
    lits = frozenset(data.draw(st.lists(atom, max_size=4)))

    conds = [(Condition((Matcher(fname, **{k: v}),)), pos) for k, v, pos in lits]

    def ok(state):
        return all(c.matches({fname: state}) == pos for c, pos in conds)

    states = _valid_states(f)
    brute = any(ok(s) for s in states)
    got = _Solver(RB).field_witness(fname, lits)
    assert (got is not None) == brute, (lits, got)
    if got is not None:
        assert got[1] in states and ok(got[1])


def test_the_prover_gives_up_past_its_budget():
    inv = next(i for i in RB.safety if i.kind == "not_first_in_group")
    assert prove(RB, inv, budget=0).status == "not_proved"


# --------------------------------------------------------------------------------------------
# A bad safety.yaml is refused, naming the file and the invariant
# --------------------------------------------------------------------------------------------
GOOD = {"id": "safety-test", "when": {"symptoms_now": "leg_weakness"},
        "flag": "spinal_cord_compression", "reason": "Test.", "sources": ["ASTRO-2024"],
        "reviewed": "2026-12-01"}


def _write(rules_dir, item):
    text = yaml.safe_dump([item], sort_keys=False).replace("'2026-12-01'", "2026-12-01")
    (rules_dir / "safety.yaml").write_text(text)


@pytest.mark.parametrize("change, words", [
    ({"when": {"symptoms_now_x": "leg_weakness"}}, ["unknown field 'symptoms_now_x'"]),
    ({"when": {"symptoms_now": "leg_weaknes"}}, ["no value 'leg_weaknes'"]),
    ({"flag": "spinal_cord"}, ["unknown red flag 'spinal_cord'"]),
    ({"flag": None, "never": {"option": "ablatio", "group": "discuss"}}, ["unknown option 'ablatio'"]),
    ({"flag": None, "never": {"option": "ablation", "group": "sometimes"}}, ["group must be"]),
    ({"flag": None, "at_least": {"option": "ablation", "group": "unlikely"}}, ["at_least needs"]),
    ({"flag": None, "caution": {"id": "dental", "option": "denosumab"}}, ["unknown caution 'dental'"]),
    ({"flag": None, "not_first_in_group": {"group": "discuss", "options": ["ablation"],
                                            "after_one_of": ["surgeon"]}}, ["unknown option 'surgeon'"]),
    ({"never": {"option": "ablation", "group": "discuss"}}, ["exactly one of"]),
    ({"reason": None}, ["missing 'reason'"]),
    ({"reason": " "}, ["plain-language 'reason'"]),
    ({"sources": None}, ["missing 'sources'"]),
    ({"sources": ["NOT-A-SOURCE"]}, ["unknown source 'NOT-A-SOURCE'"]),
    ({"reviewed": None}, ["missing 'reviewed'"]),
    ({"reviewed": "soon"}, ["'reviewed' date"]),
    ({"extra": 1}, ["unknown keys ['extra']"]),
])
def test_a_bad_invariant_is_refused_with_file_and_id(rules_copy, change, words):
    item = dict(GOOD)
    for k, v in change.items():
        if v is None:
            item.pop(k)
        else:
            item[k] = v
    _write(rules_copy, item)
    with pytest.raises(SafetyFileError) as info:
        load_rulebook(str(rules_copy))
    msg = str(info.value)
    assert info.value.file == "safety.yaml" and info.value.rule_id == "safety-test"
    assert msg.startswith("safety.yaml, invariant 'safety-test': "), msg
    for w in words:
        assert w in msg, msg


def test_duplicate_or_clashing_ids_are_refused(rules_copy):
    _write(rules_copy, dict(GOOD, id="flag-mscc-leg-weakness"))
    with pytest.raises(SafetyFileError, match="already used by a rule"):
        load_rulebook(str(rules_copy))
    (rules_copy / "safety.yaml").write_text(
        yaml.safe_dump([GOOD, GOOD]).replace("'2026-12-01'", "2026-12-01"))
    with pytest.raises(SafetyFileError, match="safety.yaml, invariant 'safety-test': duplicate"):
        load_rulebook(str(rules_copy))


def test_an_invariant_citing_a_source_about_something_else_is_refused(rules_copy):
    if not any("covers" in s for s in RB.sources.values()):
        pytest.skip("sources.yaml does not yet say what each source covers")
    _write(rules_copy, dict(GOOD, sources=["ZOOM-2013"]))
    with pytest.raises(SafetyFileError, match="safety.yaml, invariant 'safety-test': cites source "
                                              "'ZOOM-2013', which is not evidence"):
        load_rulebook(str(rules_copy))


def test_the_good_test_invariant_loads(rules_copy):
    _write(rules_copy, GOOD)
    assert [i.id for i in load_rulebook(str(rules_copy)).safety] == ["safety-test"]


def test_the_app_refuses_to_start_and_check_fails_on_a_bad_safety_file(rules_copy):
    _write(rules_copy, dict(GOOD, flag="spinal_cord"))
    with pytest.raises(RuleBookError, match="safety.yaml, invariant 'safety-test'"):
        create_app({"TESTING": True, "RULES_DIR": str(rules_copy)})
    (rules_copy / "safety.yaml").unlink()
    with pytest.raises(RuleBookError, match="safety.yaml"):
        load_rulebook(str(rules_copy))
    _write(rules_copy, dict(GOOD, flag="spinal_cord"))
    r = _flask("rules", "check", env={"BONEMETS_RULES_DIR": str(rules_copy)})
    assert r.returncode == 1
    assert "safety.yaml, invariant 'safety-test'" in r.stderr and "Traceback" not in r.stderr


def _flask(*args, env=None):
    e = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT,
                          env=e, capture_output=True, text=True, timeout=120)


# --------------------------------------------------------------------------------------------
# /rules shows every invariant
# --------------------------------------------------------------------------------------------
def test_rules_page_shows_every_invariant(client):
    page = client.get("/rules").get_data(as_text=True)
    assert 'href="#safety"' in page
    for inv in RB.safety:
        start = page.index(f'id="{inv.id}"')
        block = html.unescape(page[start:page.index("</div>", start)])
        assert inv.reason in " ".join(block.split())
        assert inv.describe(RB) in " ".join(block.split())
        assert f"Reviewed {inv.reviewed.isoformat()}" in block
        for key in inv.sources:
            assert f">{key}</a>" in page[start:page.index("</div>", start)]
