"""The JSON API: ``POST /api/plan`` (answers as JSON -> the plan as JSON), with JSON errors of
its own: every error under /api/ is ``{"caveat": ..., "errors": {field: message}}``, never an
HTML page. Needs no CSRF token: it changes nothing on the server and accepts only JSON objects.
"""
from __future__ import annotations

import weakref

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from . import fhir_web, language
from . import messages as msg
from .answers import BODY
from .jsonprovider import PlanJSON, read_json

bp = Blueprint("api", __name__, url_prefix="/api")


def api_error(errors: dict, status: int = 400):
    return jsonify(caveat=language.rulebook().caveat, errors=errors), status


@bp.post("/plan")
def plan():
    if request.mimetype == "application/fhir+json":  # a QuestionnaireResponse (fhir_web.py)
        return fhir_web.api_plan()
    if request.mimetype != "application/json":  # the contract: only application/json
        return api_error({BODY: str(msg.API_PROBLEMS["not_json_type"])})
    try:
        data = read_json(request.get_data(cache=False))
    except (ValueError, RecursionError):
        return api_error({BODY: str(msg.API_PROBLEMS["not_json"])})
    rb = language.rulebook()  # the plan's texts in the request's language; ids never change
    answers, problems = rb.validate_answers(data)
    if problems:
        return api_error(msg.api_problems(problems, rb.fields))
    return plan_response(rb, rb.plan(answers))


_ENCODERS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def plan_bytes(rb, plan) -> bytes | None:
    """The plan as JSON: the bytes ``jsonify(plan.to_dict())`` gives, with the rule book's fixed
    parts encoded once (:class:`bonemets.jsonprovider.PlanJSON`); None for text orjson refuses."""
    enc = _ENCODERS.get(rb)
    if enc is None:
        enc = _ENCODERS[rb] = PlanJSON(rb)
    try:
        return enc.encode(plan)
    except TypeError:  # e.g. a lone surrogate (see OrjsonProvider)
        return None


def plan_response(rb, plan):
    body = plan_bytes(rb, plan)
    if body is None:  # the standard library's way, as OrjsonProvider does
        return jsonify(plan.to_dict())
    return current_app.response_class(body, mimetype="application/json")


def is_api_request() -> bool:
    return request.path.startswith(bp.url_prefix + "/")


def http_error(err: HTTPException):
    """An HTTP error (404, 405, 413...) under /api/, as JSON."""
    return api_error({"_request": msg.http_error(err.code, err.description)}, err.code)


def crash():
    return api_error({"_server": msg.http_error(500)}, 500)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    if app.config.setdefault("API_FAST_PATH", True):  # POST /api/plan without Flask's per-request work
        from . import api_wsgi
        api_wsgi.mount(app)
