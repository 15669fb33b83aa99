"""How long RuleBook.plan takes, on random answer sets and over every scenario.

    python benchmarks/plan_speed.py [--runs 7] [--loops 20] [--random 500]

Each run plans ``--random`` fresh random answer sets (bonemets.scenarios.random_answers, seeded)
and every scenario in tests/scenarios/*.yaml, ``loops`` times; a run's figure is microseconds per
call. Prints the median over runs (target: < 50 µs on random answers), the same for the plain
interpreter the compiled engine replaced (bonemets.scenarios.reference_plan) measured in the
same run, the plan and its JSON as the API sends it (``api.plan_bytes``: fixed parts pre-encoded)
beside ``orjson`` of ``Plan.to_dict()`` (what the API sent before), the slowest scenario, and a
baseline of trivial dict operations (copy the answers, look up one field) in the same loop, so
the figures can be read against this machine's speed at the time. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _common import ROOT, print_table

import random

from bonemets.api import plan_bytes  # noqa: E402
from bonemets.jsonprovider import _dumps  # noqa: E402
from bonemets.rules import load_rulebook  # noqa: E402
from bonemets.scenarios import load_scenarios, random_answers, reference_plan


def trivial(answers):
    d = dict(answers)
    return d.get("primary_cancer")


def per_call_us(fn, inputs: list, loops: int) -> float:
    t = time.perf_counter()
    for _ in range(loops):
        for a in inputs:
            fn(a)
    return (time.perf_counter() - t) / (loops * len(inputs)) * 1e6


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--loops", type=int, default=20)
    ap.add_argument("--random", type=int, default=500, help="random answer sets (default 500)")
    args = ap.parse_args(argv)

    rb = load_rulebook(os.path.join(ROOT, "rules"))
    scenarios = load_scenarios(os.path.join(ROOT, "tests", "scenarios"))
    inputs = []
    for s in scenarios:
        clean, errors = rb.validate_answers(s["answers"])
        if errors:
            print(f"skipping {s['name']!r}: {errors}")
            continue
        inputs.append((s["name"], clean))
    answers = [a for _, a in inputs]
    rng = random.Random(20261201)
    randoms = [random_answers(rb, rng) for _ in range(args.random)]
    for a in answers + randoms:  # warm up
        rb.plan(a)

    def reference(a):
        return reference_plan(rb, a)

    def api_json(a):
        return plan_bytes(rb, rb.plan(a))

    def old_json(a):
        return _dumps(rb.plan(a).to_dict())

    loops_random = max(1, args.loops * len(answers) // max(1, len(randoms)))
    plan_runs, base_runs, rand_runs, ref_runs, json_runs, old_runs = [], [], [], [], [], []
    for _ in range(args.runs):
        rand_runs.append(per_call_us(rb.plan, randoms, loops_random))
        ref_runs.append(per_call_us(reference, randoms, loops_random))
        json_runs.append(per_call_us(api_json, randoms, loops_random))
        old_runs.append(per_call_us(old_json, randoms, loops_random))
        plan_runs.append(per_call_us(rb.plan, answers, args.loops))
        base_runs.append(per_call_us(trivial, answers, args.loops))

    per_scenario = []
    for name, a in inputs:
        per_scenario.append((statistics.median(per_call_us(rb.plan, [a], args.loops)
                                               for _ in range(3)), name))
    per_scenario.sort(reverse=True)

    plan_med, base_med = statistics.median(plan_runs), statistics.median(base_runs)
    rand_med, ref_med = statistics.median(rand_runs), statistics.median(ref_runs)
    print(f"{len(randoms)} random answer sets x {loops_random} loops, {len(inputs)} scenarios x "
          f"{args.loops} loops, {args.runs} runs; load average {os.getloadavg()[0]:.2f}\n")

    def row(label, runs, med, target=None):
        verdict = "" if target is None else f"< {target} µs " + ("met" if med < target else "MISSED")
        return [label, f"{med:.1f}", f"{min(runs):.1f}", f"{max(runs):.1f}",
                f"{med / base_med:.0f}x", verdict]

    print_table(["what", "median µs/call", "min", "max", "x baseline", "target"], [
        row("RuleBook.plan, random answers", rand_runs, rand_med, 50),
        row("reference interpreter, random answers", ref_runs, ref_med),
        row("plan + API JSON (plan_bytes)", json_runs, statistics.median(json_runs)),
        row("plan + orjson(to_dict()) (before)", old_runs, statistics.median(old_runs)),
        row("RuleBook.plan, scenarios", plan_runs, plan_med),
        ["baseline: dict copy + get", f"{base_med:.2f}", f"{min(base_runs):.2f}",
         f"{max(base_runs):.2f}", "1x", ""],
    ])
    print(f"\ncompiled engine vs reference (random answers): {ref_med / rand_med:.1f}x faster")
    print("\nslowest scenarios (median µs/call):")
    for us, name in per_scenario[:3]:
        print(f"  {us:7.1f}  {name}")
    print(f"fastest: {per_scenario[-1][0]:.1f} µs  {per_scenario[-1][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
