"""Pages and the JSON API. Every view is a thin layer: parse answers, ask the rule book, render.

Nothing about a person is stored or logged: answers arrive in the POST body, are turned into a
plan, and are sent back (as hidden fields where the next page needs them).
"""
from __future__ import annotations

import datetime as _dt
import json

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import iconarray
from .forms import build_form_class
from .jsonprovider import OrjsonProvider
from .rules import RuleBook

bp = Blueprint("web", __name__)

# The option grid's rows (results page and summary): catalog fields, in order.
GRID_ROWS = (
    ("what_it_is", "What is it?"),
    ("how_given", "How is it given?"),
    ("how_soon", "How soon might it help?"),
    ("visits", "Visits and hospital stays"),
    ("downsides", "Main downsides"),
    ("daily_life", "What daily life is like"),
)


def rulebook() -> RuleBook:
    return current_app.extensions["bonemets"]


def form_class():
    return current_app.extensions["bonemets_form"]


# --------------------------------------------------------------------------------------------
# Helpers shared by the views and templates
# --------------------------------------------------------------------------------------------
def answer_items(rb: RuleBook, answers: dict) -> list:
    """The person's answers in plain words, one row per question, "I don't know" included."""
    rows = []
    for section in rb.sections:
        for name in section.fields:
            f = rb.fields[name]
            if not f.applies(answers) and name not in answers:
                continue
            v = answers.get(name)
            if v is None or v == []:
                text = "Not answered"
            elif f.kind == "many":
                text = "; ".join(f.label_for(x) for x in v)
            elif f.kind == "number":
                text = str(v)
            else:
                text = f.label_for(v)
            rows.append({"field": name, "question": f.summary_label, "answer": text,
                         "unknown": v in (None, [], "unknown") or v == ["unknown"]})
    return rows


def said(because: list) -> list:
    """Turn a reason's trigger list (``field=value``) into plain words."""
    rb = rulebook()
    out = []
    for item in because:
        name, _, value = item.partition("=")
        f = rb.fields.get(name)
        if f is None:
            out.append(item)
            continue
        if value == "not answered":
            text = "not answered"
        elif f.kind == "number":
            text = value
        else:
            text = "; ".join(f.label_for(v) for v in value.split(","))
        out.append(f"{f.summary_label}: {text}")
    return out


def first_sentence(text: str) -> str:
    """The first sentence of a catalog text (used for the compact printed grid)."""
    for i, ch in enumerate(text):
        if ch in ".!?" and (i + 1 == len(text) or text[i + 1] == " ") and i > 20:
            return text[: i + 1]
    return text


def hidden_pairs(values: dict, skip=()) -> list:
    """(name, value) pairs that carry answers to the next page as hidden fields."""
    pairs = []
    for name, v in values.items():
        if name in skip:
            continue
        for item in (v if isinstance(v, list) else [v]):
            if item not in (None, ""):
                pairs.append((name, str(item)))
    return pairs


def plan_context(answers: dict) -> dict:
    rb = rulebook()
    plan = rb.plan(answers)
    grid = [o for o in plan.options if o.group in ("discuss", "consider")]
    cited = [k for f in plan.red_flags for k in f.sources]
    cited += [k for o in grid for k in o.reasons[0].sources]
    return {
        "plan": plan,
        "summary_sources": {k: plan.sources.get(k) or rb.sources[k] for k in dict.fromkeys(cited)},
        "answers": answers,
        "answer_rows": answer_items(rb, answers),
        "hidden": hidden_pairs(answers),
        "grid_options": grid,
        "grid_rows": GRID_ROWS,
        "today": _dt.date.today(),
    }


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


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------
_TOKEN_SLOT = "\x00csrf-token\x00"


def cached_page(key: str, template: str, context=dict) -> str:
    """A page that is the same for everyone, rendered once per process.

    The only per-person part of these pages is the CSRF token, so the page is rendered with a
    placeholder and each request gets its own token put in. The blank one-page questionnaire
    has about 150 inputs; this makes it several times faster to serve.
    """
    app = current_app._get_current_object()
    cache = app.extensions.setdefault("bonemets_pages", {})
    html = cache.get(key)
    if html is None:
        html = render_template(template, csrf_token=lambda: _TOKEN_SLOT, **context())
        if not (app.debug or app.config.get("TEMPLATES_AUTO_RELOAD")):
            cache[key] = html
    return html.replace(_TOKEN_SLOT, generate_csrf()) if _TOKEN_SLOT in html else html


@bp.get("/")
def index():
    return cached_page("index", "index.html")


@bp.get("/questionnaire")
def questionnaire():
    return cached_page("questionnaire", "questionnaire.html",
                       lambda: {"form": form_class()(formdata=None)})


@bp.post("/plan")
def plan_page():
    answers, error = parse_form()
    if error:
        return error
    return render_template("results.html", **plan_context(answers))


@bp.post("/summary")
def summary():
    answers, error = parse_form()
    if error:
        return error
    return render_template("summary.html", **plan_context(answers))


@bp.post("/summary.pdf")
def summary_pdf():
    answers, error = parse_form()
    if error:
        return error
    from .pdf import render_pdf  # WeasyPrint is slow to import: only when a PDF is asked for
    ctx = plan_context(answers)
    html = render_template("summary.html", pdf=True, **ctx)
    data = render_pdf(html, base_url=request.url_root)
    name = f"bone-mets-discussion-{ctx['today'].isoformat()}.pdf"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/questionnaire")
def edit_answers():
    """Back to the one-page form with the answers filled in (from the results page). Nothing is
    validated here: the answers are checked when the person sends the form again."""
    return render_template("questionnaire.html", form=form_class()())


# --------------------------------------------------------------------------------------------
# Step by step: one section per page, answers carried forward as hidden fields
# --------------------------------------------------------------------------------------------
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
    answers = form.answers()
    rows = answer_items(rb, answers)
    by_field = {r["field"]: r for r in rows}
    sections = [{"n": i, "section": s, "rows": [by_field[f] for f in s.fields if f in by_field]}
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
        return render_template("error.html", code=404, message="There is no such step."), 404
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
        errors = [(f, msg) for f, msg in form.error_list() if f in rb.sections[n - 1].fields]
        if errors:
            return render_step(form, n, errors=errors, status=400)
        if n < total:
            return render_step(form, n + 1)
    if not valid and form.error_list():  # an error left in an earlier step: show it there
        first = form.error_list()[0][0]
        k = next(i for i, s in enumerate(rb.sections, start=1) if first in s.fields)
        errors = [(f, msg) for f, msg in form.error_list() if f in rb.sections[k - 1].fields]
        return render_step(form, k, errors=errors, status=400)
    return render_check(form)


@bp.get("/rules")
def rules_page():
    return cached_page("rules", "rules.html")


@bp.get("/about")
def about():
    return cached_page("about", "about.html")


@bp.get("/healthz")
def healthz():
    rb = rulebook()
    return jsonify(status="ok", rules_version=rb.version)


# --------------------------------------------------------------------------------------------
# JSON API
# --------------------------------------------------------------------------------------------
def api_error(errors: dict, status: int = 400):
    return jsonify(caveat=rulebook().caveat, errors=errors), status


@bp.post("/api/plan")
def api_plan():
    if not request.is_json:
        return api_error({"_body": "Send the answers as JSON with the header "
                                   "Content-Type: application/json."})
    try:
        data = json.loads(request.get_data(cache=False) or b"")
    except (ValueError, RecursionError):
        return api_error({"_body": "The body is not valid JSON."})
    rb = rulebook()
    answers, errors = rb.validate_answers(data)
    if errors:
        return api_error(errors)
    return jsonify(rb.plan(answers).to_dict())


# --------------------------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------------------------
# What an error page says, in plain words (the same for pages and the API).
PLAIN_ERRORS = {
    400: "We could not read what was sent. Please go back and try again.",
    404: "We could not find that page.",
    405: "This page cannot be opened that way. Please start from the questions.",
    413: "What was sent is too large. The questions need only a few answers: please go back "
         "and send them again.",
}


def init_app(app: Flask, rb: RuleBook) -> None:
    app.extensions["bonemets"] = rb
    app.extensions["bonemets_form"] = build_form_class(rb)
    app.json = OrjsonProvider(app)
    app.register_blueprint(bp)
    app.jinja_env.filters["said"] = said
    app.jinja_env.filters["first_sentence"] = first_sentence
    app.jinja_env.globals["csrf_token"] = generate_csrf
    iconarray.init_jinja(app.jinja_env)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.before_request
    def _streamed_body_within_limit():
        # A chunked upload has no Content-Length. Werkzeug then stops reading at
        # MAX_CONTENT_LENGTH without complaint and the rest of the body is silently dropped
        # (a 200 KB form got a 200 from the first 64 KB under gunicorn). Refuse it with 413 like
        # any other oversized body. The body read here is cached for the form or JSON parser.
        limit = request.max_content_length
        if (limit is not None and request.content_length is None
                and request.method not in ("GET", "HEAD", "OPTIONS")
                and len(request.get_data(cache=True)) >= limit):
            raise RequestEntityTooLarge()

    @app.context_processor
    def _globals():
        return {"rb": rb, "caveat": rb.caveat, "meta": rb.meta}

    @app.errorhandler(HTTPException)
    def _http(err):
        message = PLAIN_ERRORS.get(err.code, err.description)
        if request.path.startswith("/api/"):
            response, code = api_error({"_request": message}, err.code)
        else:
            response = app.make_response(
                (render_template("error.html", code=err.code, message=message), err.code))
            code = err.code
        # Keep the headers HTTP asks for, such as Allow on a 405.
        for name, value in err.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        return response, code

    @app.errorhandler(Exception)
    def _crash(err):  # never show a traceback or a bare 500 page; log no answers
        # (HTTP errors such as 404 never get here: Flask gives them to _http above.)
        if current_app.config.get("PROPAGATE_EXCEPTIONS"):
            raise err
        current_app.logger.error("Unhandled error on %s %s: %s", request.method, request.path,
                                 type(err).__name__)
        if request.path.startswith("/api/"):
            return api_error({"_server": "Something went wrong on our side."}, 500)
        return render_template("error.html", code=500,
                               message="Something went wrong on our side."), 500

    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: app.send_static_file("favicon.svg"))
