"""``flask --app app rules ...``: check, explain and measure the rule book from a terminal;
``flask --app app deploy ...``: the files the deployment takes from the app."""
from __future__ import annotations

import datetime as _dt
import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from . import scenarios as sc
from .messages import api_problems
from .paths import SCENARIOS_DIR
from .rules import GROUPS, RuleBookError, load_rulebook
from .scenarios import coverage_report, load_scenarios  # noqa: F401  (also used by tests)

rules_cli = AppGroup("rules", help="Check, explain and measure the rule book.")


@rules_cli.command("check")
def check():
    """Validate the rule book; exit 1 naming the file and rule id on any problem."""
    try:
        rb = load_rulebook(current_app.config["RULES_DIR"])
    except RuleBookError as exc:
        click.echo(f"FAIL {exc}", err=True)
        sys.exit(1)
    rules = list(rb.all_rules())
    click.echo(f"OK rule book {rb.version} (reviewed {rb.reviewed}): {len(rb.options)} options, "
               f"{len(rules)} rules, {len(rb.sources)} sources, files: {', '.join(rb.files)}")
    stale = rb.stale_rules(_dt.date.today())
    for r in stale:
        click.echo(f"WARNING {r.file}, rule '{r.id}': last reviewed {r.reviewed}, older than "
                   f"{rb.meta['review_interval_days']} days", err=True)
    ok = safety_report(rb)
    if not languages_report(rb):
        ok = False
    if not ok:
        sys.exit(1)


def languages_report(rb) -> bool:
    """Every configured language: its texts complete, known and up to date (bonemets/i18n.py)."""
    from . import i18n
    langs = current_app.config.get("LANGUAGES") or [i18n.SOURCE_LANGUAGE,
                                                   *(rb.meta.get("translations") or {})]
    problems, warnings = i18n.check_languages(current_app.config["RULES_DIR"], langs)
    for w in warnings:
        click.echo(f"WARNING {w}", err=True)
    for p in problems:
        click.echo(f"FAIL {p}", err=True)
    click.echo(f"Languages: {', '.join(langs)}; {len(problems)} problem(s)")
    return not problems


def safety_report(rb) -> bool:
    """Prove each invariant of safety.yaml; print the result. False if one is refuted."""
    from .safety import FILE, prove_all
    proofs = prove_all(rb)
    for p in proofs:
        where = f"{FILE}, invariant '{p.invariant.id}'"
        if p.status == "proved":
            click.echo(f"PROVED {where}: no answer set breaks it")
        elif p.status == "not_proved":
            click.echo(f"NOT PROVED {where}: could not prove it within the search budget; "
                       f"checked by sampling (tests/test_safety.py)", err=True)
        elif p.status == "error":
            click.echo(f"ERROR {where}: {p.what} for answers {json.dumps(p.answers)}", err=True)
        else:
            click.echo(f"VIOLATED {where}: {p.what} for answers {json.dumps(p.answers)} "
                       f"(rules: {', '.join(p.rules) or 'none'}; confirmed by plan())", err=True)
    bad = sum(p.status in ("refuted", "error") for p in proofs)
    click.echo(f"Safety: {len(proofs)} invariants, {sum(p.status == 'proved' for p in proofs)} "
               f"proved, {bad} violated, {sum(p.status == 'not_proved' for p in proofs)} not proved")
    return not bad


def _rulebook():
    rb = current_app.extensions.get("bonemets")
    if rb is None:
        raise click.ClickException(f"the rule book is broken: {current_app.extensions['bonemets_error']}")
    return rb


@rules_cli.command("explain")
@click.argument("answers_json")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def explain(answers_json, as_json):
    """Print the plan for ANSWERS_JSON with the rule trace."""
    rb = _rulebook()
    try:
        data = json.loads(answers_json)
    except ValueError as exc:
        raise click.ClickException(f"not valid JSON: {exc}")
    answers, problems = rb.validate_answers(data)
    if problems:
        for k, v in api_problems(problems, rb.fields).items():
            click.echo(f"ERROR {k}: {v}", err=True)
        sys.exit(1)
    plan = rb.plan(answers)
    if as_json:
        click.echo(json.dumps(plan.to_dict(), indent=2))
        return
    click.echo(plan.caveat)
    click.echo(f"Rule book {plan.rules_version}, reviewed {plan.reviewed}\n")
    for f in plan.red_flags:
        click.echo(f"RED FLAG [{f.urgency}] {f.id}: {f.title}")
        for r in f.reasons:
            click.echo(f"    <- {r.rule} because {', '.join(r.because)}")
    for group in GROUPS:
        opts = plan.by_group(group)
        if not opts:
            continue
        click.echo(f"\n{group.upper()}")
        for o in opts:
            click.echo(f"  {o.id}")
            for r in o.reasons:
                click.echo(f"    {r.group:<8} {r.rule}  because {', '.join(r.because) or 'always'}"
                           f"  [{', '.join(r.sources)}]")
            for c in o.cautions:
                click.echo(f"    caution {c['id']} <- {', '.join(c['rules'])}")
    if plan.questions:
        click.echo("\nQUESTIONS")
        for q in plan.questions:
            click.echo(f"  - {q['text']}  ({q['rule']})")


@rules_cli.command("coverage")
@click.option("--scenarios", default=SCENARIOS_DIR, show_default=True,
              help="Folder of scenario YAML files.")
def coverage(scenarios):
    """Run every scenario; list rules none fires and groups no scenario reaches per option."""
    rb = _rulebook()
    try:
        cases = load_scenarios(scenarios)
        rep = coverage_report(rb, cases)
    except sc.ScenarioError as exc:
        raise click.ClickException(str(exc))
    pct = 100.0 * len(rep["fired"]) / rep["rules"]
    click.echo(f"{len(cases)} scenarios; {len(rep['fired'])} of {rep['rules']} rules fired ({pct:.0f}%)")
    for rid in rep["not_fired"]:
        r = rb.rules_by_id[rid]
        click.echo(f"  NOT FIRED {r.file}: {rid}")
    click.echo("\nGroups reached by each option (no scenario places it in the others):")
    for oid, groups in rep["groups"].items():
        missing = [g for g in GROUPS if g not in groups]
        click.echo(f"  {oid:<27} reached: {', '.join(g for g in GROUPS if g in groups):<35}"
                   f" never: {', '.join(missing) or '-'}")
    if rep["not_fired"]:
        sys.exit(1)


@rules_cli.command("test")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=True))
def test(files):
    """Run scenario FILES (YAML; a folder means every file in it; default tests/scenarios/) and
    print each unmet expectation. Exit 1 when any scenario fails."""
    rb = _rulebook()
    try:
        cases = load_scenarios(list(files))
    except sc.ScenarioError as exc:
        raise click.ClickException(str(exc))
    failed = 0
    for case in cases:
        _, unmet = sc.run(rb, case, current_app.extensions.get("bonemets_books"))
        if unmet:
            failed += 1
            click.echo(f"FAIL {case['file']}: {case['name']}")
            for line in unmet:
                click.echo(f"    {line}")
    click.echo(f"{len(cases) - failed} of {len(cases)} scenarios passed"
               + (f", {failed} failed" if failed else ""))
    if failed or not cases:
        sys.exit(1)


deploy_cli = AppGroup("deploy", help="Files the deployment takes from the app.")


@deploy_cli.command("nginx-words")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="write here (deploy/nginx/bonemets-words.conf) instead of to the terminal")
def nginx_words(output):
    """The words of nginx's own answers, with the caveat, in every language (bonemets-words.conf)."""
    from .proxy_words import nginx_words as make

    text = make(current_app)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)


def init_app(app: Flask) -> None:
    app.cli.add_command(rules_cli)
    app.cli.add_command(deploy_cli)
