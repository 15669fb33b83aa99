"""What the HTML views share: the rule book and form of the app, the presenter's context for a
plan, reading the posted form, and pages rendered once per process."""
from __future__ import annotations

import datetime as _dt

from flask import Response, current_app, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError
from werkzeug.datastructures import MultiDict

from .. import messages as msg
from ..language import form_class, rulebook  # noqa: F401 - the views' rule book and form
from ..present import PAPERS, default_paper, present
from ..present_values import decide_view


def plan_context(answers: dict) -> dict:
    """What a page that shows a plan gets: ``shown`` (the presenter's view of the plan), and
    for short, ``plan`` and ``hidden`` (the answers as hidden fields for the next page's form)."""
    rb = rulebook()
    # The page's choices come with the POST, or (a GET after post/redirect/get) from the
    # answers cookie, which keeps them with the answers (bonemets/views/carry.py).
    choices = request.form if request.method == "POST" else page_choices()
    # "compare": the options the person ticked to see side by side.
    shown = present(rb, rb.plan(answers), answers, compare=choices.getlist("compare"))
    # The decision steps (issue 11): the person's step answers ride along as hidden fields too.
    decide = decide_view(rb, shown, choices)
    # How to print: large print, and the PDF's paper size (by the browser's language region
    # unless the person chose one).
    paper = choices.get("paper")
    if paper not in PAPERS:
        paper = default_paper(request.accept_languages.values())
    return {"shown": shown, "plan": shown.plan, "hidden": shown.hidden + decide["hidden"],
            "decide": decide, "today": _dt.date.today(),
            "large": choices.get("print_size") == "large", "paper": paper}


def page_choices() -> MultiDict:
    """The kept page choices (compare, print size, paper, the decision steps) of a GET page."""
    from . import carry
    return carry.load() or MultiDict()


def csrf_failed(form) -> bool:
    token = getattr(form, "csrf_token", None)
    return bool(token is not None and token.errors)


def reshow(form, status: int = 400, notice: str | None = None):
    return render_template("questionnaire.html", form=form, notice=notice), status


def quick_answers(formdata, csrf: bool = True) -> dict | None:
    """The answers of ``formdata`` when they are all valid (and, with ``csrf``, its CSRF token
    is good), else None, without building the questionnaire form: the form's own reading of
    each field (a one-answer field or a number takes its first value, a tick-all field every
    value, a blank first value none) and the one validator (bonemets/answers.py) its fields use. With None the caller
    builds the form, which finds the same problems and shows them; tests/test_quick_answers.py
    checks that both accept the same posts and give the same answers."""
    if csrf:
        try:
            validate_csrf(formdata.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")))
        except ValidationError:
            return None
    rb = rulebook()
    raw = {}
    for name, f in rb.fields.items():
        values = formdata.getlist(name)
        if not values:
            continue
        if not values[0].strip():
            # The form's Optional(): a blank first value means "not answered" (of a tick-all
            # field too, whatever follows it: the form then drops the field's values).
            continue
        raw[name] = values if f.kind == "many" else values[0]
    clean, problems = rb.validate_answers(raw)
    return None if problems else clean


def parse_form():
    """Validate the posted questionnaire. Returns (answers, None) or (None, error response)."""
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        answers = quick_answers(request.form)
        if answers is not None:
            return answers, None
    form = form_class()()
    if form.validate():
        return form.answers(), None
    if csrf_failed(form) and len(form.error_list()) == 0:
        return None, reshow(form, 400, notice="csrf")
    return None, reshow(form)


def keep_answers(response):
    """``response`` with the posted answers and the page's choices (print size, paper, options
    to compare, the decision steps) in the answers cookie (bonemets/views/carry.py), exactly as
    typed: every POST that redirects, or shows a form to fix, keeps them this way."""
    from . import carry
    carry.save(response, carry.pairs_of(request.form, rulebook().fields))
    return response


def kept_form():
    """The form filled from the answers cookie (bonemets/views/carry.py), or None. No CSRF
    check: it is not a request to do anything, only what to show."""
    from . import carry
    data = carry.load()
    if data is None:
        return None
    return form_class()(formdata=data, meta={"csrf": False})


def answers_gone():
    """A GET page made from the answers cookie when there is none (cleared, or older than
    ANSWERS_MAX_AGE): say so, and offer a fresh start."""
    from . import carry
    message = str(msg.ANSWERS_GONE) % {"hours": max(1, carry.max_age() // 3600)}
    return render_template("error.html", code=200, gone=True, message=message), 200


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
        # answers_kept=False: a page cached for everyone never offers "Clear my answers".
        html = render_template(template, csrf_token=lambda: _TOKEN_SLOT, answers_kept=False,
                               **context())
        parts = tuple(p.encode("utf-8") for p in html.split(_TOKEN_SLOT))
        if not (app.debug or app.config.get("TEMPLATES_AUTO_RELOAD")):
            cache[key] = parts
    body = parts[0] if len(parts) == 1 else generate_csrf().encode("ascii").join(parts)
    return Response(body, mimetype="text/html")
