"""The HTTP layer's defences: security headers on every response, trusted hosts, form routes
that accept only form encodings, and request bodies that cannot crash a view.

A small set of hooks rather than an extension (e.g. Flask-Talisman): the app needs a few fixed
headers and no per-view policy changes, and the hooks are easy to read and test. Everything
here is registered by ``init_app`` and knows the app only by its fixed routes (CONTRACT.md).
"""
from __future__ import annotations

import re

from urllib.parse import parse_qsl

from flask import Flask, Request, abort, current_app, render_template, request
from flask.globals import request_ctx
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.formparser import FormDataParser

from . import messages as msg

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


FIXED = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")

# The routes that take the questionnaire's answers as an HTML form (CONTRACT.md "Routes").
FORM_ROUTES = frozenset({"/plan", "/summary", "/summary.pdf", "/steps", "/questionnaire",
                         "/questionnaire/symptoms",
                         "/questionnaire-response"})
# Routes that answer machines (JSON, FHIR, CDS Hooks) rather than people.
MACHINE_ROUTES = ("/api/", "/fhir/", "/cds-services")
# Always trusted: health checks from the same machine or pod.
LOCAL_HOSTS = ("localhost", "127.0.0.1")
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

# A Host header: a DNS name (labels of 1-63 characters, 253 in all), an IPv4 address or a
# bracketed IPv6 address, and an optional port. Anything else cannot be a real host name and
# breaks URL building (Werkzeug's IDNA encoding, port parsing) further down.
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_RE = re.compile(rf"(?:(?:{_LABEL}\.)*{_LABEL}\.?|\[[0-9a-f:.]+\])(?::([0-9]{{1,5}}))?",
                      re.IGNORECASE)

MESSAGES = msg.REFUSED  # the words, in the request's language (bonemets/messages.py)


def host_is_well_formed(host: str) -> bool:
    m = _HOST_RE.fullmatch(host)
    if m is None or len(host) > 260:
        return False
    port = m.group(1)
    return port is None or 0 < int(port) <= 65535


def trusted_hosts_from(value: str | None) -> list[str] | None:
    """The ``TRUSTED_HOSTS`` setting from an environment variable: comma-separated host names
    (``.example.org`` also matches its subdomains); ``*`` trusts any well-formed host. This
    machine's own names (localhost, 127.0.0.1) are always trusted, for health checks from the
    same machine or pod; unset, they are the only ones."""
    hosts = [h.strip() for h in (value or "").split(",") if h.strip()]
    if hosts == ["*"]:
        return None
    return hosts + [h for h in LOCAL_HOSTS if h not in hosts]


class SecurityHeaders:
    """WSGI middleware: the security headers on every response the app sends (pages, errors,
    static files), added as plain tuples when the response starts. The values are fixed and
    checked once, here, rather than validated again by Werkzeug's header object on every
    response (which cost about a sixth of a cached page's time). Pages, which may carry a
    person's answers, are never kept in any cache (``no-store``); static files keep their own
    caching. HSTS goes only on HTTPS (after ProxyFix, which sets the scheme in the environ)."""

    def __init__(self, wsgi_app, static_url_path: str | None):
        self.wsgi_app = wsgi_app
        self.static_prefix = (static_url_path or "/static").rstrip("/") + "/"

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            if environ.get("PATH_INFO", "").startswith(self.static_prefix):
                headers = headers + _FIXED_STATIC
            else:
                headers = [h for h in headers if h[0].lower() != "cache-control"] + _FIXED_PAGE
            if environ.get("wsgi.url_scheme") in ("https", "wss"):
                headers.append(HSTS)
            return start_response(status, headers, exc_info)
        return self.wsgi_app(environ, start)


def _checked(headers) -> list:
    for name, value in headers:
        if not (name.isascii() and value.isascii()) or set("\r\n\0") & set(name + value):
            raise ValueError(f"bad header {name!r}")
    return list(headers)


_FIXED_STATIC = _checked(FIXED)
_FIXED_PAGE = _checked(FIXED + NO_STORE)


class ReadErrorsAreBadRequests:
    """WSGI middleware: an error while reading the request body (a malformed chunked body, a
    client that goes away mid-upload; gunicorn raises its own exception types for these)
    becomes a 400, not a 500 from whichever view happened to read the body first."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        stream = environ.get("wsgi.input")
        if stream is not None:
            environ["wsgi.input"] = _GuardedInput(stream)
        return self.wsgi_app(environ, start_response)


class _GuardedInput:
    __slots__ = ("_stream",)

    def __init__(self, stream):
        self._stream = stream

    def _call(self, name, *args):
        try:
            return getattr(self._stream, name)(*args)
        except HTTPException:
            raise
        except Exception as exc:  # gunicorn.http.errors.*, OSError, ValueError ...
            raise BadRequest("The request body could not be read.") from exc

    def read(self, *args):
        return self._call("read", *args)

    def readline(self, *args):
        return self._call("readline", *args)

    def readlines(self, *args):
        return self._call("readlines", *args)

    def __iter__(self):
        return iter(self.readline, b"")


# Routes that never show a form, so never need the session (it holds only the CSRF token).
SESSIONLESS = MACHINE_ROUTES + ("/healthz", "/static/", "/followup.css", "/favicon.ico")


class FormSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session (it holds only Flask-WTF's CSRF token), without the work on
    routes that never show or check a form: there the cookie is not read, no serializer is made,
    and nothing is saved (a session changed there would be dropped, and none is). Elsewhere the
    same session as Flask's, with its signing serializer made once per secret key rather than
    on every request."""

    def __init__(self):
        self._serializer = (None, None)

    def get_signing_serializer(self, app):
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached_key, serializer = self._serializer
        if cached_key != key:
            serializer = super().get_signing_serializer(app)
            self._serializer = (key, serializer)
        return serializer

    def open_session(self, app, request):
        if request.path.startswith(SESSIONLESS):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if request.path.startswith(SESSIONLESS):
            return None
        return super().save_session(app, session, response)


def _error_page(code: int, message: str, carried=()):
    return render_template("error.html", code=code, message=message, carried=list(carried)), code


def _carried_text_answers() -> list:
    """The text parts of a form post, to carry back to the questionnaire."""
    return [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"]


class FormParser(FormDataParser):
    """Werkzeug's form parser, but a url-encoded body with a byte that is not UTF-8 is read
    with that byte replaced (U+FFFD), as Werkzeug reads a multipart body and a %-escaped byte:
    Werkzeug's own drops the whole form, so every answer and the CSRF token were lost and the
    page said the form had been open too long. Now the one bad answer is named and the rest
    kept (tests/test_security.py)."""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        items = parse_qsl(stream.read().decode("utf-8", "replace"), keep_blank_values=True,
                          errors="werkzeug.url_quote")
        return stream, self.cls(items), self.cls()


class FormRequest(Request):
    form_data_parser_class = FormParser


def init_app(app: Flask) -> None:
    app.request_class = FormRequest
    app.wsgi_app = ReadErrorsAreBadRequests(app.wsgi_app)
    app.session_interface = FormSessionInterface()

    def _request_is_sound():
        # URLs are built from the Host header. When it is broken or untrusted, Flask has no URL
        # adapter for the request, and every page (the error page too) would then fail in
        # url_for: give the request one bound to a fixed name, which builds paths only.
        ctx = request_ctx._get_current_object()
        if ctx.url_adapter is None:
            ctx.url_adapter = current_app.url_map.bind(
                "localhost", script_name=request.script_root or None,
                url_scheme=request.scheme)
        host = request.environ.get("HTTP_HOST")
        if ((host is not None and not host_is_well_formed(host))
                or isinstance(request.routing_exception, BadRequest)):  # untrusted (Flask)
            if request.path.startswith(MACHINE_ROUTES):
                abort(400)  # the app's error handler answers in the route's own format
            return _error_page(400, str(MESSAGES["host"]))
        if request.method == "POST" and request.path in FORM_ROUTES:
            # No Content-Type and no body is an empty form; anything else must be a form.
            if request.mimetype not in FORM_TYPES and (request.mimetype
                                                       or request.get_data(cache=True)):
                return _error_page(415, str(MESSAGES["type"]))
            if request.files:
                return _error_page(400, str(MESSAGES["file"]), _carried_text_answers())
        return None

    # First, so that no other hook meets a broken request.
    app.before_request_funcs.setdefault(None, []).insert(0, _request_is_sound)

    app.wsgi_app = SecurityHeaders(app.wsgi_app, app.static_url_path)
