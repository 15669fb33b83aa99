"""Step by step: one section of the questionnaire per page, then "Check your answers". Answers
are carried forward as hidden fields; nothing is stored."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import messages as msg
from ..present import answer_rows, hidden_pairs
from .common import cached_page, csrf_failed, form_class, rulebook

bp = Blueprint("steps", __name__)


def carried(form, skip=()) -> list:
    """Hidden pairs for every answer outside ``skip``, exactly as typed (even if invalid)."""
    return hidden_pairs({name: form[name].data for name in rulebook().fields}, skip)


def render_step(form, n: int, errors=(), notice=None, status=200):
    rb = rulebook()
    section = rb.sections[n - 1]
    return render_template("step.html", form=form, n=n, total=len(rb.sections), section=section,
                           carried=carried(form, skip=section.fields), errors=list(errors),
                           notice=notice), status


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
    return cached_page(f"step-{n}", "step.html", lambda: {
        "form": form_class()(formdata=None), "n": n, "total": len(rb.sections),
        "section": rb.sections[n - 1], "carried": [], "errors": [], "notice": None})


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
    if csrf_failed(form):
        return render_step(form, min(n, total), notice="csrf", status=400)
    if go.startswith("edit-") and _small_number(go[5:]) is not None:
        return render_step(form, min(max(_small_number(go[5:]), 1), total))
    if go == "back":
        return render_step(form, max(n - 1, 1))
    if n <= total:
        errors = [(f, m) for f, m in form.error_list() if f in rb.sections[n - 1].fields]
        if errors:
            return render_step(form, n, errors=errors, status=400)
        if n < total:
            return render_step(form, n + 1)
    if not valid and form.error_list():  # an error left in an earlier step: show it there
        first = form.error_list()[0][0]
        k = next(i for i, s in enumerate(rb.sections, start=1) if first in s.fields)
        errors = [(f, m) for f, m in form.error_list() if f in rb.sections[k - 1].fields]
        return render_step(form, k, errors=errors, status=400)
    return render_check(form)
