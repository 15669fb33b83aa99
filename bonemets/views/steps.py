"""Step by step: the urgent-symptoms check first, then one section of the questionnaire per page,
then "Check your answers".

Post/redirect/get (see bonemets/views/carry.py): a step's POST keeps the answers in the
encrypted answers cookie and redirects to the next GET page, so Back and Forward never resend a
form. The answers also travel as hidden fields, so a POST never depends on the cookie. A step
whose answers raise an emergency red flag goes straight to the emergency page.
"""
from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from .. import messages as msg
from ..present import answer_rows, hidden_pairs, present
from .common import (answers_gone, cached_page, csrf_failed, form_class, keep_answers,
                     kept_form, rulebook)

bp = Blueprint("steps", __name__)


def carried(form, skip=()) -> list:
    """Hidden pairs for every answer outside ``skip``, exactly as typed (even if invalid)."""
    return hidden_pairs({name: form[name].data for name in rulebook().fields}, skip)


def _then() -> str | None:
    """Where a step returns to after Continue: "check" when it was opened by "Change"."""
    then = request.values.get("then")
    return "check" if then == "check" else None


def render_step(form, n: int, errors=(), notice=None, status=200, then=None):
    ctx = _step_context(form, n, errors, then)
    ctx["notice"] = notice
    return render_template("step.html", **ctx), status


def render_check(form):
    rb = rulebook()
    rows = answer_rows(rb, form.answers())
    sections = [{"n": i, "section": s, "rows": [r for r in rows if r["section"] == s.id]}
                for i, s in enumerate(rb.sections, start=1)]
    return render_template("check.html", sections=sections, carried=carried(form))


def _small_number(text: str) -> int | None:
    """A step number from a hidden field or button, or None. Never raises: int() refuses
    digits such as "²" and strings of thousands of digits (both found by fuzzing)."""
    return int(text) if text.isdecimal() and len(text) <= 3 else None


@bp.get("/steps/<int:n>")
def step(n: int):
    rb = rulebook()
    if not 1 <= n <= len(rb.sections):
        return render_template("error.html", code=404, message=str(msg.NO_SUCH_STEP)), 404
    form, then = kept_form(), _then()
    if form is not None or then:
        return render_step(form or form_class()(formdata=None), n, then=then)[0]
    return cached_page(f"step-{n}", "step.html", lambda: {
        "form": form_class()(formdata=None), "n": n, "total": len(rb.sections),
        "section": rb.sections[n - 1], "sections": rb.sections, "carried": [], "errors": [],
        "notice": None, "then": None})


@bp.get("/check")
def check():
    form = kept_form()
    if form is None:
        return answers_gone()
    return render_check(form)


def go_to(where: str, form=None):
    """A 303 to a GET page; the posted answers (when ``form`` is given) go in the cookie."""
    response = redirect(where, code=303)
    return response if form is None else keep_answers(response)


def _step_url(n: int, then=None) -> str:
    total = len(rulebook().sections)
    if n > total:
        return url_for("steps.check")
    return url_for("steps.step", n=n, then=then) if then else url_for("steps.step", n=n)


def _emergency_from(form, section) -> bool:
    """True when the answers raise an emergency red flag because of this section's answers."""
    rb = rulebook()
    plan = rb.plan(form.answers())
    return any(f.urgency == "emergency" and any(fact["field"] in section.fields
                                                for r in f.reasons for fact in (r.facts or ()))
               for f in plan.red_flags)


@bp.post("/steps")
def step_post():
    rb = rulebook()
    total = len(rb.sections)
    form = form_class()()
    valid = form.validate()
    where = request.form.get("step", "1")
    n = total + 1 if where == "check" else (_small_number(where) or 1)
    n = min(max(n, 1), total + 1)
    go = request.form.get("go", "next")
    then = _then()
    if csrf_failed(form):
        return render_step(form, min(n, total), notice="csrf", status=400, then=then)
    if go.startswith("edit-") and _small_number(go[5:]) is not None:
        return go_to(_step_url(min(max(_small_number(go[5:]), 1), total), "check"), form)
    if go == "back":
        return go_to(_step_url(max(n - 1, 1), then), form)
    if n <= total:
        section = rb.sections[n - 1]
        errors = [(f, m) for f, m in form.error_list() if f in section.fields]
        if errors:
            return _with_cookie(render_template("step.html", **_step_context(form, n, errors, then)),
                                400)
        if _emergency_from(form, section):
            nxt = "check" if then == "check" or n == total else str(n + 1)
            return go_to(url_for("steps.urgent", next=nxt), form)
        if then == "check":
            return go_to(url_for("steps.check"), form)
        if n < total:
            return go_to(_step_url(n + 1), form)
    if not valid and form.error_list():  # an error left in an earlier step: show it there
        first = form.error_list()[0][0]
        k = next(i for i, s in enumerate(rb.sections, start=1) if first in s.fields)
        errors = [(f, m) for f, m in form.error_list() if f in rb.sections[k - 1].fields]
        return _with_cookie(render_template("step.html", **_step_context(form, k, errors, then)),
                            400)
    return go_to(url_for("steps.check"), form)


def _step_context(form, n, errors, then):
    rb = rulebook()
    section = rb.sections[n - 1]
    return {"form": form, "n": n, "total": len(rb.sections), "section": section,
            "sections": rb.sections, "carried": carried(form, skip=section.fields),
            "errors": list(errors), "notice": None, "then": then}


def _with_cookie(html: str, status: int):
    """A page shown straight from a POST (an answer to fix), with the answers kept in the
    cookie so that Back to an earlier step still shows them."""
    return keep_answers(make_response(html, status))


# -- the emergency page ------------------------------------------------------------------------
def _continue_url(nxt: str) -> str:
    """Where "Carry on with the questions" leads: a step, "Check your answers", or ("form")
    back to the one-page form, at the section after the symptoms."""
    sections = rulebook().sections
    total = len(sections)
    if nxt == "form":
        return url_for("web.questionnaire", _anchor=f"section-{sections[min(1, total - 1)].id}")
    k = _small_number(nxt) if nxt != "check" else None
    return url_for("steps.step", n=k) if k and 1 <= k <= total else url_for("steps.check")


@bp.get("/urgent")
def urgent():
    """The red flags of the answers kept, emergencies first, with the number to call and a
    way to carry on with the questions."""
    form = kept_form()
    if form is None:
        return answers_gone()
    rb = rulebook()
    answers = form.answers()
    shown = present(rb, rb.plan(answers), answers)
    return render_template("urgent.html", shown=shown,
                           next_url=_continue_url(request.args.get("next", "check")))
