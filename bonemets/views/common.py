"""What the HTML views share: the rule book and form of the app, the presenter's context for a
plan, reading the posted form, and pages rendered once per process."""
from __future__ import annotations

import datetime as _dt

from flask import Response, current_app, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from ..present import present
from ..present_values import decide_view
from ..rules import RuleBook


def rulebook() -> RuleBook:
    return current_app.extensions["bonemets"]


def form_class():
    return current_app.extensions["bonemets_form"]


def plan_context(answers: dict) -> dict:
    """What a page that shows a plan gets: ``shown`` (the presenter's view of the plan), and
    for short, ``plan`` and ``hidden`` (the answers as hidden fields for the next page's form)."""
    rb = rulebook()
    shown = present(rb, rb.plan(answers), answers)
    # The decision steps (issue 11): the person's step answers ride along as hidden fields too.
    decide = decide_view(rb, shown, request.form if request.method == "POST" else None)
    return {"shown": shown, "plan": shown.plan, "hidden": shown.hidden + decide["hidden"],
            "decide": decide, "today": _dt.date.today()}


def csrf_failed(form) -> bool:
    token = getattr(form, "csrf_token", None)
    return bool(token is not None and token.errors)


def reshow(form, status: int = 400, notice: str | None = None):
    return render_template("questionnaire.html", form=form, notice=notice), status


def parse_form():
    """Validate the posted questionnaire. Returns (answers, None) or (None, error response)."""
    form = form_class()()
    if form.validate():
        return form.answers(), None
    if csrf_failed(form) and len(form.error_list()) == 0:
        return None, reshow(form, 400, notice="csrf")
    return None, reshow(form)


_TOKEN_SLOT = "\x00csrf-token\x00"


def cached_page(key: str, template: str, context=dict) -> Response:
    """A page that is the same for everyone, rendered once per process.

    The only per-person part of these pages is the CSRF token, so the page is rendered with a
    placeholder, kept as encoded bytes cut at the placeholder, and each request gets its own
    token put in between (no template, no re-encoding of the ~100 KB questionnaire). The blank
    one-page questionnaire has about 150 inputs; this makes it several times faster to serve.
    """
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("bonemets_pages", {})
    key = f"{key}:{get_locale()}"  # one copy per language
    parts = cache.get(key)
    if parts is None:
        html = render_template(template, csrf_token=lambda: _TOKEN_SLOT, **context())
        parts = tuple(p.encode("utf-8") for p in html.split(_TOKEN_SLOT))
        if not (app.debug or app.config.get("TEMPLATES_AUTO_RELOAD")):
            cache[key] = parts
    body = parts[0] if len(parts) == 1 else generate_csrf().encode("ascii").join(parts)
    return Response(body, mimetype="text/html")
