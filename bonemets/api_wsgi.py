"""The JSON API's fast path: a small WSGI app, mounted in front of the Flask app, that answers
``POST /api/plan`` with a JSON object of valid answers without Flask's per-request machinery
(request and app contexts, hooks, routing, session, response object). Everything else, and every
request it is not sure about, it hands to the Flask app unchanged, which answers as before.

It shares everything that decides what is answered: the rule books and their engine (one
``RuleBook.plan``), the one answer validator (``RuleBook.validate_answers``), the plan's JSON
(``api.plan_response``'s encoder, byte for byte ``jsonify(plan.to_dict())``), the language rule
(``?lang=``, then Accept-Language; the API never reads the session), and it sits inside the same
middleware (``security.SecurityHeaders`` adds the same security headers; ``ReadErrorsAreBadRequests``
guards the body). It answers only when Flask would have answered 200 with the same bytes:

* the method is POST, the path exactly ``/api/plan``, the media type exactly ``application/json``
  (FHIR's ``application/fhir+json`` goes to ``fhir_web``), no query string (``?lang=``), a
  ``Host`` that is well formed and trusted (``TRUSTED_HOSTS``), and a ``Content-Length`` within
  ``MAX_CONTENT_LENGTH`` (a chunked body goes to Flask's streamed-size check);
* the body is read whole, is valid JSON, an object, and has no answer problems.

Otherwise (a bad type, bad JSON, a problem, a body that cannot be read, a host to refuse, any
error of its own) it gives the request, with the body it read put back, to the Flask app, so the
error answers (JSON ``errors`` with the caveat, 400/413/415, HTML where Flask gives it) are
exactly the Flask app's. tests/test_api_wsgi.py sends every such case both ways and compares
status, headers and body.
"""
from __future__ import annotations

import io
import json

from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_accept_header, parse_options_header
from werkzeug.wsgi import get_host

from .security import host_is_well_formed

PATH = "/api/plan"


class _Unreadable:
    """A request body whose reading failed: reading it again fails the same way (for Flask)."""

    def __init__(self, exc: BaseException):
        self.exc = exc

    def read(self, *args):
        raise self.exc

    readline = read

    def __iter__(self):
        raise self.exc


class PlanEndpoint:
    """WSGI: the fast path of ``POST /api/plan`` (see the module); ``flask_wsgi`` the rest."""

    def __init__(self, app, flask_wsgi):
        from . import api  # the encoder cache and response shape are the API's own

        self.next = flask_wsgi
        self.app = app
        self.api = api
        self.languages = list(app.config["LANGUAGES"])
        self.books = app.extensions.get("bonemets_books") or {}
        self.english = app.extensions["bonemets"]

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST"
                or environ.get("QUERY_STRING")):
            return self.next(environ, start_response)
        try:
            answer = self._answer(environ)
        except Exception:  # noqa: BLE001 - anything unexpected: Flask answers (and logs no answers)
            answer = None
        if answer is None:
            return self.next(environ, start_response)
        body, headers = answer
        start_response("200 OK", headers)
        return [body]

    def _answer(self, environ):
        """(body, headers) of the 200 answer, or None to let the Flask app answer."""
        mimetype = parse_options_header(environ.get("CONTENT_TYPE", ""))[0].lower()
        if mimetype != "application/json":
            return None
        config = self.app.config
        host = environ.get("HTTP_HOST")
        if host is None or not host_is_well_formed(host):
            return None
        try:
            get_host(environ, config["TRUSTED_HOSTS"])
        except SecurityError:
            return None
        text = environ.get("CONTENT_LENGTH") or ""
        # digits only, as Werkzeug reads it ("+5" or " 5" is no length to it); a chunked body is
        # read to its end by Werkzeug, whatever the length says
        if not (text.isascii() and text.isdigit()) or environ.get("HTTP_TRANSFER_ENCODING"):
            return None
        length, limit = int(text), config["MAX_CONTENT_LENGTH"]
        if limit is not None and length > limit:
            return None
        try:
            raw = environ["wsgi.input"].read(length) if length else b""
        except Exception as exc:  # noqa: BLE001 - Flask turns it into the same 400 as before
            environ["wsgi.input"] = _Unreadable(exc)
            return None
        environ["wsgi.input"] = io.BytesIO(raw)  # for the Flask app, if it answers after all
        if len(raw) != length:
            return None
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict):
            return None
        lang = (parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
                .best_match(self.languages) or self.languages[0])
        rb = self.books.get(lang) or self.english
        answers, problems = rb.validate_answers(data)
        if problems:
            return None
        body = self.api.plan_bytes(rb, rb.plan(answers))
        if body is None:
            return None
        return body, [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                      ("Vary", "Accept-Language")]


def mount(app) -> None:
    """Put :class:`PlanEndpoint` in front of the Flask app, inside any ProxyFix (so the forwarded
    host and scheme are the ones it checks and ``SecurityHeaders`` sees)."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    inner = app.wsgi_app
    if isinstance(inner, ProxyFix):
        inner.app = PlanEndpoint(app, inner.app)
    else:
        app.wsgi_app = PlanEndpoint(app, inner)
