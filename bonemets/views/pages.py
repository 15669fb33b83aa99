"""The HTML pages: start, one-page questionnaire, results, summary and its PDF, rule book, about.

Every view is a thin layer: read the answers, ask the rule book for a plan, let the presenter
(bonemets/present.py) make what the page shows, render. The blueprint keeps the name ``web`` so
links (``url_for('web.summary')``) stay as they were.
"""
from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import ServiceUnavailable

from .common import cached_page, form_class, parse_form, plan_context, rulebook

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    return cached_page("index", "index.html")


@bp.get("/questionnaire")
def questionnaire():
    return cached_page("questionnaire", "questionnaire.html",
                       lambda: {"form": form_class()(formdata=None)})


@bp.post("/questionnaire")
def edit_answers():
    """Back to the one-page form with the answers filled in (from the results page). Nothing is
    validated here: the answers are checked when the person sends the form again."""
    return render_template("questionnaire.html", form=form_class()())


def show_plan(template: str):
    """A page of the posted answers' plan, or the form again with its errors."""
    answers, error = parse_form()
    if error:
        return error
    return render_template(template, **plan_context(answers))


@bp.post("/plan")
def plan_page():
    return show_plan("results.html")


@bp.post("/summary")
def summary():
    return show_plan("summary.html")


def pdf_slots() -> threading.BoundedSemaphore | None:
    """How many PDFs this process renders at once (``PDF_SLOTS``, default 1; 0 for no limit).
    A PDF is a quarter of a second of CPU holding the GIL: when every thread of a gthread worker
    renders one, /healthz and every other page wait behind them. With a slot per process, a PDF
    asked for while the slot is taken gets a quick 503 with Retry-After instead, and the
    worker's other threads stay free for the other pages."""
    app = current_app._get_current_object()
    slots = app.extensions.get("bonemets_pdf_slots")
    if slots is None:
        n = int(app.config.get("PDF_SLOTS", 1))
        slots = app.extensions["bonemets_pdf_slots"] = (
            threading.BoundedSemaphore(n) if n > 0 else False)
    return slots or None


@bp.post("/summary.pdf")
def summary_pdf():
    answers, error = parse_form()
    if error:
        return error
    slots = pdf_slots()
    if slots is not None and not slots.acquire(timeout=current_app.config.get("PDF_WAIT", 0.05)):
        raise ServiceUnavailable(retry_after=int(current_app.config.get("PDF_RETRY_AFTER", 2)))
    try:
        from ..pdf import render_pdf  # WeasyPrint is slow to import: only when a PDF is asked for
        ctx = plan_context(answers)
        html = render_template("summary.html", pdf=True, **ctx)
        data = render_pdf(html, base_url=request.url_root)
    finally:
        if slots is not None:
            slots.release()
    name = f"bone-mets-discussion-{ctx['today'].isoformat()}.pdf"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/rules")
def rules_page():
    return cached_page("rules", "rules.html")


@bp.get("/about")
def about():
    from ..present_values import about_facts
    return cached_page("about", "about.html", lambda: {"about": about_facts(rulebook())})


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok", rules_version=rulebook().version)
