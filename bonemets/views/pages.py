"""The HTML pages: start, one-page questionnaire, results, summary and its PDF, rule book, about.

Every view is a thin layer: read the answers, ask the rule book for a plan, let the presenter
(bonemets/present.py) make what the page shows, render. The blueprint keeps the name ``web`` so
links (``url_for('web.summary')``) stay as they were.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

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


@bp.post("/summary.pdf")
def summary_pdf():
    answers, error = parse_form()
    if error:
        return error
    from ..pdf import render_pdf  # WeasyPrint is slow to import: only when a PDF is asked for
    ctx = plan_context(answers)
    html = render_template("summary.html", pdf=True, **ctx)
    data = render_pdf(html, base_url=request.url_root, paper=ctx["paper"])
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
