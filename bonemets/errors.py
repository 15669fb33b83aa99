"""Error handling for every request: plain-language error pages, JSON errors under /api/,
OperationOutcomes on the FHIR and CDS Hooks routes, and a last resort that never shows a traceback and logs no answers.

An error page must render even for a broken request (a body too large, a bad form, a missing
rule book entry): it uses only the rule book's caveat and version and the message catalog.
"""
from __future__ import annotations

from flask import Flask, current_app, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import api, fhir_web, language
from . import messages as msg


def error_page(code: int, message: str):
    """The error page; if even that cannot be rendered (a broken template or context), a bare
    page with the same words and the caveat, so a person never sees a traceback."""
    try:
        return render_template("error.html", code=code, message=message), code
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        current_app.logger.error("Error page failed: %s", type(exc).__name__)
        rb, lang = current_app.extensions.get("bonemets"), "en"
        try:
            rb, lang = language.rulebook(), language.code()
        except Exception:  # noqa: BLE001 - no rule book or locale: English words, no caveat
            pass
        caveat = escape(rb.caveat) if rb is not None else ""
        return (f'<!doctype html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8"><title>{escape(message)}'
                f'</title></head><body><main><h1>{escape(message)}</h1><p>{caveat}</p></main></body></html>',
                code, {"Content-Type": "text/html; charset=utf-8"})


def init_app(app: Flask) -> None:
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

    @app.errorhandler(HTTPException)
    def _http(err):
        if fhir_web.is_fhir_request():
            response, code = fhir_web.http_error(err.code, msg.http_error(err.code, err.description)), err.code
        elif api.is_api_request():
            response, code = api.http_error(err)
        else:
            response = app.make_response(error_page(err.code, msg.http_error(err.code, err.description)))
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
        if fhir_web.is_fhir_request():
            return fhir_web.http_error(500, msg.http_error(500))
        if api.is_api_request():
            return api.crash()
        return error_page(500, msg.http_error(500))
