"""The HTML pages: start, one-page questionnaire, results, summary and its PDF, rule book, about.

Every view is a thin layer: read the answers, ask the rule book for a plan, let the presenter
(bonemets/present.py) make what the page shows, render. The blueprint keeps the name ``web`` so
links (``url_for('web.summary')``) stay as they were.

Post/redirect/get (bonemets/views/carry.py): a POST of answers keeps them in the encrypted
answers cookie and redirects (303) to the GET page of the same address, which is rendered from
the cookie; so Back and Forward never resend a form. An answer to fix is shown straight from
the POST (400), with the answers kept in the cookie too.
"""
from __future__ import annotations

import os
import threading

from flask import (Blueprint, Response, current_app, jsonify, make_response, redirect,
                   render_template, request, url_for)
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.exceptions import ServiceUnavailable
from wtforms.validators import ValidationError

from .. import fragments, pdf_pool, present
from ..present import unsure_values
from . import carry
from .common import (answers_gone, cached_page, csrf_failed, form_class, keep_answers, kept_form,
                     parse_form, plan_context, quick_answers, reshow, rulebook)

bp = Blueprint("web", __name__)


# -- the emergency number and text helpers, for every template ------------------------------------
def emergency_number() -> str:
    """The number to call in an emergency: ``EMERGENCY_NUMBER`` (config or environment) if set;
    else by the deployment's locale (``EMERGENCY_LOCALE``, else ``BABEL_DEFAULT_LOCALE``) from
    rules/meta.yaml ``emergency.numbers``: the exact tag (en-GB, en-US), then its language, then
    ``default``. Never the visitor's browser language: it does not say which country they are in."""
    cfg = current_app.config
    number = cfg.get("EMERGENCY_NUMBER") or os.environ.get("EMERGENCY_NUMBER")
    if number:
        return str(number)
    numbers = rulebook().meta["emergency"]["numbers"]
    tag = str(cfg.get("EMERGENCY_LOCALE") or os.environ.get("EMERGENCY_LOCALE")
              or cfg.get("BABEL_DEFAULT_LOCALE") or "en").replace("_", "-")
    for key in (tag, tag.split("-")[0]):
        for k, v in numbers.items():
            if k.lower() == key.lower():
                return str(v)
    return str(numbers["default"])


@bp.app_context_processor
def _emergency():
    e = rulebook().meta["emergency"]
    number = emergency_number()
    return {"emergency": {"number": number, "call": e["call"].replace("{number}", number)},
            "answers_kept": carry.present(), "answers_hours": max(1, carry.max_age() // 3600)}


bp.add_app_template_filter(present.sentence, "sentence")


# Answer-independent parts of a page (option cards' catalog parts), rendered once per process.
bp.add_app_template_global(fragments.once, "once")


@bp.app_template_global("rule_anchor")
def rule_anchor(rule_id: str, option_id: str | None = None) -> str:
    """The id of a placement rule's block on /rules. A rule that places several options is shown
    under each of them, so each copy has its own id (``rule--option``); a rule of one option
    keeps its plain id."""
    if option_id and len(_placement_options().get(rule_id, ())) > 1:
        return f"{rule_id}--{option_id}"
    return rule_id


@bp.app_template_global("rule_home")
def rule_home(rule_id: str) -> str | None:
    """The option under which /rules shows a placement rule with its own id as well as its
    copy's (the first of its options in catalog order): ``/rules#<rule id>`` finds every rule."""
    placed = _placement_options().get(rule_id, ())
    return next((oid for oid in rulebook().options if oid in placed), None)


def _placement_options() -> dict:
    app = current_app._get_current_object()
    found = app.extensions.get("bonemets_rule_options")
    if found is None:
        found = app.extensions["bonemets_rule_options"] = {
            r.id: tuple(r.options) for r in rulebook().placement}
    return found


# -- pages ------------------------------------------------------------------------------------

def keep_and_go(endpoint: str, **values):
    """A 303 to the GET page ``endpoint`` (``values``: its URL's, never an answer), with the
    posted answers and the page's choices in the cookie (:func:`keep_answers`)."""
    return keep_answers(redirect(url_for(endpoint, **values), code=303))


@bp.get("/")
def index():
    if carry.present() or request.args.get("cleared"):
        return render_template("index.html", cleared=bool(request.args.get("cleared")))
    return cached_page("index", "index.html", lambda: {"cleared": False})


@bp.get("/questionnaire")
def questionnaire():
    form = kept_form()
    if form is not None:
        notice = symptoms_checked(form) if request.args.get("checked") == "1" else None
        return render_template("questionnaire.html", form=form, notice=notice)
    return cached_page("questionnaire", "questionnaire.html",
                       lambda: {"form": form_class()(formdata=None)})


@bp.post("/questionnaire/symptoms")
def check_symptoms():
    """The one-page form's "Check these symptoms now", under its first section (the
    urgent-symptoms check, as in the steps): the answers so far go in the cookie; any red flag
    they raise is shown at once on the emergency page, whose "Carry on" leads back to the form.
    An answer the rule book does not take (a tampered post, a page from before a rule-book
    change) may have hidden a flag: with none found, the form is shown again with its problems
    (400), never "nothing needs help fast". Otherwise the form again, at its next section,
    saying what the check found (:func:`symptoms_checked`)."""
    form = form_class()()
    valid = form.validate()
    if csrf_failed(form):
        return reshow(form, 400, notice="csrf-check")
    if rulebook().plan(form.answers()).red_flags:
        return keep_and_go("steps.urgent", next="form")
    if not valid:
        return keep_answers(make_response(*reshow(form, 400)))
    return keep_and_go("web.questionnaire", checked=1, _anchor="check-result")


def symptoms_checked(form) -> str | None:
    """What the form says after "Check these symptoms now" found no red flag, worked out again
    from the answers kept (Back to the address after adding a symptom must not say it): None
    when an answer is not one the rule book takes or a red flag is raised; "checked" when every
    question of the first section is answered, none with a "not sure" answer (rules/meta.yaml
    ``unsure_answers``); else "unchecked"."""
    if not form.validate():
        return None
    rb = rulebook()
    answers = form.answers()
    if rb.plan(answers).red_flags:
        return None
    unsure = unsure_values(rb)
    for name in rb.sections[0].fields:
        given = answers.get(name)
        if not given or unsure & set(given if isinstance(given, list) else [given]):
            return "unchecked"
    return "checked"


@bp.post("/questionnaire")
def edit_answers():
    """Back to the one-page form with the answers filled in (from the results page). Nothing is
    validated here: the answers are checked when the person sends the form again."""
    form = form_class()()
    form.validate()
    if csrf_failed(form):
        return reshow(form, 400, notice="csrf")
    return keep_and_go("web.questionnaire")


def post_answers(endpoint: str):
    """POST of the one-page form (or a page's hidden answers): on to the GET page ``endpoint``,
    or the form again with its errors (the answers kept in the cookie for Back)."""
    answers, error = parse_form()
    if error is None:
        return keep_and_go(endpoint)
    form = form_class()()
    response = make_response(*error) if isinstance(error, tuple) else error
    return response if csrf_failed(form) else keep_answers(response)


def show_kept(template: str):
    """A page of the kept answers' plan; the form with its errors if one is wrong; or a page
    saying the answers are gone."""
    data = carry.load()
    if data is None:
        return answers_gone()
    answers = quick_answers(data, csrf=False)
    if answers is None:  # a kept answer that is no longer valid (the rule book changed)
        form = kept_form()
        if not form.validate():
            return render_template("questionnaire.html", form=form)
        answers = form.answers()
    return render_template(template, **plan_context(answers))


@bp.post("/plan")
def plan_page():
    return post_answers("web.results")


@bp.get("/plan")
def results():
    return show_kept("results.html")


@bp.post("/summary")
def summary():
    return post_answers("web.summary_page")


@bp.get("/summary")
def summary_page():
    return show_kept("summary.html")


def pdf_slots() -> threading.BoundedSemaphore | None:
    """How many PDFs this process renders at once (``PDF_SLOTS``, default 1; 0 for no limit).
    A PDF is a quarter of a second of CPU holding the GIL: when every thread of a gthread worker
    renders one, /healthz and every other page wait behind them. With a slot per process, a PDF
    asked for while the slot is taken gets a quick 503 with Retry-After instead, and the
    worker's other threads stay free for the other pages."""
    return _semaphore("PDF_SLOTS")


def _semaphore(setting: str) -> threading.BoundedSemaphore | None:
    """This app's semaphore of ``setting`` places (config, default 1; 0: None), made once."""
    app = current_app._get_current_object()
    key = "bonemets_" + setting.lower()
    made = app.extensions.get(key)
    if made is None:
        n = int(app.config.get(setting, 1))
        made = app.extensions[key] = threading.BoundedSemaphore(n) if n > 0 else False
    return made or None


def pdf_queue() -> threading.BoundedSemaphore | None:
    """How many PDFs of this process may wait for a slot at once (``PDF_QUEUE``, default 1; 0
    for none). A waiting request holds one of the worker's few threads, and /healthz and the
    other pages queue behind held threads; so one PDF may wait (up to ``PDF_WAIT`` seconds,
    default 10: the one being rendered is done in about half a second, a few seconds on a busy
    machine) and gets its PDF, while any more get a 503 with Retry-After at once. With 16
    clients each waiting 50 ms, /healthz p99 was 40 ms (benchmarks/pdf_load.py)."""
    return _semaphore("PDF_QUEUE")


def _take_slot(slots: threading.BoundedSemaphore) -> bool:
    """A PDF slot, at once or after waiting in the queue (``pdf_queue``); False for a 503."""
    if slots.acquire(blocking=False):
        return True
    queue = pdf_queue()
    if queue is None or not queue.acquire(blocking=False):
        return False  # no queue, or someone is already waiting: do not hold another thread
    try:
        return slots.acquire(timeout=float(current_app.config.get("PDF_WAIT", 10)))
    finally:
        queue.release()


def pdf_process() -> bool:
    """Render PDFs in a helper process (bonemets/pdf_pool.py), so a PDF never holds the GIL of the
    worker that serves the other pages: ``PDF_PROCESS`` (config), else the environment's
    ``BONEMETS_PDF_PROCESS=1``. The production settings (deploy/gunicorn.conf.py) switch it
    on: under 16 PDF clients, /healthz p99 was 6 ms with it against 38 ms in the thread
    (benchmarks/pdf_load.py, README "Performance"). Off in a bare ``create_app()`` (the
    tests' client, ``flask run``), which then needs no helper process."""
    cfg = current_app.config
    if cfg.get("PDF_PROCESS") is not None:
        return bool(cfg["PDF_PROCESS"])
    return pdf_pool.asked_for()


@bp.post("/summary.pdf")
def summary_pdf():
    answers, error = parse_form()
    if error:
        return error
    cfg = current_app.config
    busy = ServiceUnavailable(retry_after=int(cfg.get("PDF_RETRY_AFTER", 2)))
    slots = pdf_slots()
    if slots is not None and not _take_slot(slots):
        raise busy
    try:
        ctx = plan_context(answers)
        html = render_template("summary.html", pdf=True, **ctx)
        try:
            data = pdf_pool.render_pdf(
                html, base_url=request.url_root, paper=ctx["paper"],
                separate_process=pdf_process(),
                processes=pdf_pool.helpers_for(int(cfg.get("PDF_SLOTS", 1))),
                timeout=float(cfg.get("PDF_TIMEOUT", 20)))
        except pdf_pool.Busy as e:
            raise busy from e
    finally:
        if slots is not None:
            slots.release()
    name = f"bone-mets-discussion-{ctx['today'].isoformat()}.pdf"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/clear")
def clear():
    """"Clear my answers": delete the answers cookie, back to the start page."""
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.form.get("csrf_token"))
        except (ValidationError, CSRFError):
            return render_template("index.html", cleared=False, notice="csrf"), 400
    response = redirect(url_for("web.index", cleared=1), code=303)
    carry.clear(response)
    return response


@bp.get("/rules")
def rules_page():
    return cached_page("rules", "rules.html")


@bp.get("/about")
def about():
    from ..present_values import about_facts
    return cached_page("about", "about.html", lambda: {"about": about_facts(rulebook())})


@bp.get("/healthz")
def healthz():
    # The version is the same in every language: no language is looked up for a load balancer.
    return jsonify(status="ok", rules_version=current_app.extensions["bonemets"].version)
