"""How long RuleBook.plan takes, over every scenario in tests/scenarios/*.yaml.

    python benchmarks/plan_speed.py [--runs 7] [--loops 20]

Each run plans every scenario ``loops`` times; a run's figure is microseconds per call. Prints
the median over runs (target < 200 µs), the slowest scenario, and a baseline measured in the same
run: the same number of trivial dict operations (copy the answers, look up one field) in the same
loop, so the figure can be read against this machine's speed. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _common import ROOT, print_table

from bonemets.scenarios import load_scenarios
from bonemets.rules import load_rulebook  # noqa: E402


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
    for a in answers:  # warm up
        rb.plan(a)

    plan_runs, base_runs = [], []
    for _ in range(args.runs):
        plan_runs.append(per_call_us(rb.plan, answers, args.loops))
        base_runs.append(per_call_us(trivial, answers, args.loops))

    per_scenario = []
    for name, a in inputs:
        per_scenario.append((statistics.median(per_call_us(rb.plan, [a], args.loops)
                                               for _ in range(3)), name))
    per_scenario.sort(reverse=True)

    plan_med, base_med = statistics.median(plan_runs), statistics.median(base_runs)
    print(f"{len(inputs)} scenarios x {args.loops} loops x {args.runs} runs "
          f"({len(inputs) * args.loops * args.runs:,} calls each)\n")
    print_table(["what", "median µs/call", "min", "max", "x baseline", "target"], [
        ["RuleBook.plan", f"{plan_med:.1f}", f"{min(plan_runs):.1f}", f"{max(plan_runs):.1f}",
         f"{plan_med / base_med:.0f}x", "< 200 µs " + ("met" if plan_med < 200 else "MISSED")],
        ["baseline: dict copy + get", f"{base_med:.2f}", f"{min(base_runs):.2f}",
         f"{max(base_runs):.2f}", "1x", ""],
    ])
    print("\nslowest scenarios (median µs/call):")
    for us, name in per_scenario[:3]:
        print(f"  {us:7.1f}  {name}")
    print(f"fastest: {per_scenario[-1][0]:.1f} µs  {per_scenario[-1][1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
