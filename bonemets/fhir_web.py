"""Routes for FHIR and CDS Hooks: the Questionnaire and its terminology, QuestionnaireResponse
download and import, ``application/fhir+json`` on ``POST /api/plan``, and the CDS service.

Registered by one call, :func:`init_app`. Like every other view: nothing about a person is
stored or logged; what comes in is turned into answers or a plan and sent straight back.
"""
from __future__ import annotations

import datetime as _dt
import json

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import force_locale
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import MultiDict
from wtforms.validators import ValidationError

from . import cds, language
from . import messages as msg
from .fhir import (FHIR_JSON, HTTP_ISSUE_TYPES, FhirBook, load_record_map, operation_outcome,
                   plan_input)
from .jsonprovider import read_json

bp = Blueprint("fhir", __name__)

DEFAULT_BASE = "https://bonemets.example/fhir"   # canonical URLs: set FHIR_CANONICAL_BASE


def book() -> FhirBook:
    """The FHIR resources in the request's language (texts only: linkIds and codes never change)."""
    books = current_app.extensions.get("bonemets_fhir_books") or {}
    return books.get(language.code()) or current_app.extensions["bonemets_fhir"]


def fhir_response(resource: dict, status: int = 200, download: str | None = None) -> Response:
    indent = 1 if download else None
    try:
        body = json.dumps(resource, ensure_ascii=False, indent=indent).encode("utf-8")
    except UnicodeEncodeError:  # text UTF-8 cannot hold (a lone surrogate): JSON escapes it
        body = json.dumps(resource, indent=indent).encode("ascii")
    r = Response(body, status=status, mimetype=FHIR_JSON)
    if download:
        r.headers["Content-Disposition"] = f'attachment; filename="{download}"'
    return r


def outcome(problems: list, status: int = 400) -> Response:
    return fhir_response(operation_outcome(problems, caveat=language.rulebook().caveat), status)


def is_fhir_request() -> bool:
    """A request whose errors are OperationOutcomes: the FHIR and CDS Hooks routes, and a
    QuestionnaireResponse sent to the JSON API."""
    path = request.path
    return (path.startswith(("/fhir/", "/cds-services")) or
            (path.startswith("/api/") and request.mimetype == FHIR_JSON))


def http_error(code: int, words: str) -> Response:
    """An HTTP error the framework raises (404, 405, 413...) on a FHIR or CDS Hooks route."""
    return outcome([(None, HTTP_ISSUE_TYPES.get(code, "processing" if code < 500 else "exception"),
                     words)], code)


# --------------------------------------------------------------------------------------------
# Questionnaire and terminology
# --------------------------------------------------------------------------------------------
@bp.get("/fhir/Questionnaire")
@bp.get("/fhir/Questionnaire/<any(bonemets):rid>")
def questionnaire(rid=None):
    return fhir_response(book().questionnaire)


@bp.get("/fhir/CodeSystem/<rid>")
def codesystem(rid):
    if rid != book().codesystem["id"]:
        return outcome([("CodeSystem", "not-found",
                         str(msg.FHIR_PROBLEMS["no_codesystem"]) % {"id": rid[:60]})], 404)
    return fhir_response(book().codesystem)


@bp.get("/fhir/ValueSet/<rid>")
def valueset(rid):
    b = book()
    if rid == b.codesystem["id"]:
        return fhir_response(b.all_valueset())
    for vs in b.valuesets.values():
        if vs["id"] == rid:
            return fhir_response(vs)
    return outcome([("ValueSet", "not-found",
                     str(msg.FHIR_PROBLEMS["no_valueset"]) % {"id": rid[:60]})], 404)


# --------------------------------------------------------------------------------------------
# QuestionnaireResponse out (a download) and in (import, API)
# --------------------------------------------------------------------------------------------
def _form_class():
    return language.form_class()


@bp.post("/questionnaire-response")
def response_download():
    """The form's answers (CSRF-protected, like /plan) -> a QuestionnaireResponse file."""
    form = _form_class()()
    if not form.validate():
        token = getattr(form, "csrf_token", None)
        csrf = token is not None and token.errors and not form.error_list()
        return render_template("questionnaire.html", form=form,
                               notice="csrf" if csrf else None), 400
    now = _dt.datetime.now(_dt.timezone.utc)
    qr = book().response(form.answers(), now)
    return fhir_response(qr, download=f"bone-mets-answers-{now.date().isoformat()}.json")


def api_plan() -> Response:
    """``POST /api/plan`` with ``Content-Type: application/fhir+json``: a QuestionnaireResponse
    -> the same JSON plan as the equivalent answers (called by the JSON API view)."""
    answers, problems = plan_input(book(), request.get_data(cache=False))
    if problems:
        return outcome(problems)
    return jsonify(book().rb.plan(answers).to_dict())


def _csrf_ok() -> bool:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
        return True
    except (ValidationError, CSRFError):
        return False


@bp.get("/questionnaire/import")
def import_page():
    return render_template("import.html", pasted="", problems=[])


@bp.post("/questionnaire/import")
def import_response():
    """A pasted or uploaded QuestionnaireResponse -> the one-page form, pre-filled. Nothing is
    kept: on a problem the page comes back with what was pasted and what is wrong."""
    pasted = request.form.get("response", "")
    if not _csrf_ok():
        return render_template("import.html", pasted=pasted, problems=[], notice="csrf"), 400
    upload = request.files.get("file")
    body = pasted
    if upload is not None and upload.filename:
        data = upload.read()
        try:
            body = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return render_template("import.html", pasted=pasted, problems=[(
                "file", "structure", str(msg.FHIR_PROBLEMS["file_not_text"]))]), 400
    if not body.strip():
        return render_template("import.html", pasted=pasted, problems=[(
            "response", "required", str(msg.FHIR_PROBLEMS["nothing_pasted"]))]), 400
    answers, problems = plan_input(book(), body.encode("utf-8"))
    if problems:
        return render_template("import.html", pasted=pasted or body, problems=problems), 400
    pairs = [(name, str(v)) for name, value in answers.items()
             for v in (value if isinstance(value, list) else [value])]
    form = _form_class()(formdata=MultiDict(pairs))
    return render_template("questionnaire.html", form=form, notice="imported")


# --------------------------------------------------------------------------------------------
# CDS Hooks 2.0
# --------------------------------------------------------------------------------------------
@bp.get("/cds-services")
def cds_discovery():
    return jsonify(cds.discovery(book()))


def _no_service(service_id: str):
    return outcome([("service", "not-found",
                     str(msg.FHIR_PROBLEMS["no_service"]) % {"id": service_id[:60]})], 404)


@bp.post("/cds-services/<service_id>")
def cds_service(service_id):
    if service_id != cds.SERVICE_ID:
        return _no_service(service_id)
    if not request.is_json:
        return outcome([("request", "structure", str(msg.FHIR_PROBLEMS["hook_not_json"]))])
    try:
        body = read_json(request.get_data(cache=False))
    except (ValueError, RecursionError):
        return outcome([("request", "structure", str(msg.API_PROBLEMS["not_json"]))])
    problems = cds.check_request(body)
    if problems:
        return outcome(problems)
    if not isinstance(body.get("prefetch"), dict) or not body["prefetch"]:
        # We fetch nothing from the record server ourselves: the EHR must send the prefetch.
        return outcome([("prefetch", "required", str(msg.FHIR_PROBLEMS["no_prefetch"]))], 412)
    links = {"questionnaire": url_for("web.questionnaire", _external=True),
             "rules": url_for("web.rules_page", _external=True)}
    # The cards' language: Accept-Language of the call, else Patient.communication (cds.py).
    books = current_app.extensions["bonemets_fhir_books"]
    asked = request.accept_languages.best_match(list(books)) if "Accept-Language" in request.headers else None
    lang, guide = cds.choose_language(asked, body["prefetch"], list(books),
                                      current_app.config["BABEL_DEFAULT_LOCALE"])
    with force_locale(lang):
        return jsonify(cds.cards(books[lang], body["prefetch"], _dt.date.today(), links, guide))


@bp.post("/cds-services/<service_id>/feedback")
def cds_feedback(service_id):
    """Feedback is welcome but not kept: nothing is stored."""
    if service_id != cds.SERVICE_ID:
        return _no_service(service_id)
    return jsonify({})


# --------------------------------------------------------------------------------------------
# Set-up
# --------------------------------------------------------------------------------------------
def init_app(app: Flask, rb) -> None:
    """Build every resource once (a bad ``record.yaml`` stops the app) and add the routes."""
    rm = load_record_map(app.config["RULES_DIR"], rb)
    base = app.config.get("FHIR_CANONICAL_BASE") or DEFAULT_BASE
    app.extensions["bonemets_fhir"] = FhirBook(rb, rm, base)
    books = app.extensions.get("bonemets_books") or {}
    fhir_books = {}
    for lang, b in books.items():  # each in its language (the resources' own titles: messages.py)
        with app.app_context(), force_locale(lang):
            fhir_books[lang] = app.extensions["bonemets_fhir"] if b is rb else FhirBook(b, rm, base)
    app.extensions["bonemets_fhir_books"] = fhir_books
    app.register_blueprint(bp)
