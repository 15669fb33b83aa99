"""gunicorn: a response's headers go out in the same write as the first bytes of its body.

gunicorn's HTTP/1 ``Response`` writes the status line and headers with one ``sendall`` and the
body with the next. Between the two a worker thread can lose the GIL to its siblings for
milliseconds; if the process dies in that moment (a crash, the kernel's OOM killer, a
``SIGKILL``), the proxy has already passed the headers to the person's browser and can neither
finish the page nor try the other app process: the page breaks half-way. With the headers and
the body's first bytes in one write (each of our pages is one block of bytes), a response is
either wholly with the proxy or not sent at all, and then nginx retries it on the other process
(deploy/nginx/bonemets.conf ``proxy_next_upstream``). tests/test_deploy.py kills a process under
load and counts every request; tests/test_serving.py checks the writes.

``install()`` is called by deploy/gunicorn.conf.py. It changes only when bytes are written,
never which bytes: chunked bodies, bodies gunicorn omits (HEAD, 204, 304) and ``sendfile`` take
gunicorn's own path.

It also replaces gunicorn's own answer to a request that never reaches the app (a broken
request line or header, one too long, an unknown HTTP version): instead of an HTML page that
repeats part of what was sent, plain words with the clinician caveat and the app's security
headers, like nginx's own answers (bonemets/proxy_words.py).

And Flask's development server (``bash scripts/run.sh``, ``flask run``) logs no requests: its
log line for each request names the visitor's address and the address asked for, and nothing
about a visit is written to a log here (production: no access log in gunicorn or nginx).
``quiet_dev_server()`` is called by ``create_app``; the server's own start-up lines stay.
"""
from __future__ import annotations

import logging
from http import HTTPStatus


class _Capture:
    """A socket stand-in that keeps what gunicorn's ``send_headers`` writes."""

    def __init__(self):
        self.data = b""

    def sendall(self, data):
        self.data += bytes(data)


def response_class():
    """gunicorn's Response, holding its headers back until the first body bytes."""
    from gunicorn import util
    from gunicorn.http import wsgi

    base = wsgi.Response
    if getattr(base, "holds_headers", False):
        return base

    class Response(base):
        holds_headers = True
        _hold = False
        _held = None

        def write(self, arg):
            if self.headers_sent or self.chunked:
                return super().write(arg)
            self._hold = True
            try:
                return super().write(arg)
            finally:
                self._hold = False
                self._flush_held()  # no body bytes were written (empty, omitted): headers alone

        def send_headers(self):
            if not self._hold or self.headers_sent:
                return super().send_headers()
            sock, self.sock = self.sock, _Capture()
            try:
                super().send_headers()
                self._held = self.sock.data
            finally:
                self.sock = sock

        def _emit_body(self, data):
            held, self._held = self._held, None
            if held is None:
                return super()._emit_body(data)
            util.write(self.sock, held + bytes(data), False)

        def _flush_held(self):
            held, self._held = self._held, None
            if held is not None:
                util.write(self.sock, held)

        def close(self):
            self._flush_held()
            return super().close()

    return Response


# code -> the plain-text answer, from the app being served (bonemets/proxy_words.py): set by
# use_app(), which deploy/gunicorn.conf.py calls as each worker starts.
_WORDS: dict = {}


def use_app(app) -> None:
    """Take the words of gunicorn's own answers (and their caveat) from ``app``'s catalog and
    rule book (``app`` is the Flask app gunicorn serves, or anything else, which changes
    nothing)."""
    if hasattr(app, "extensions") and "bonemets" in app.extensions:
        from . import proxy_words

        _WORDS.clear()
        _WORDS.update(proxy_words.gunicorn_words(app))


def error_bytes(status_int: int, reason: str) -> bytes:
    """The whole answer gunicorn sends for a request it cannot read: the status, the app's
    security headers (bonemets/security.py), and plain words with the clinician caveat
    (:func:`use_app`; in the app's default language: the request's language is not known),
    never what was sent. Before use_app, the words alone (bonemets/messages.py)."""
    from . import messages, security

    text = _WORDS.get(status_int) or _WORDS.get(400)
    if text is None:
        words = messages.http_error(status_int) or messages.http_error(400)
        text = f"{words} {messages.NOTHING_STORED}\n"
    body = text.encode("utf-8")
    try:
        reason = HTTPStatus(status_int).phrase  # gunicorn's own can be wrong (501 "Bad Request")
    except ValueError:
        reason = reason if reason.isascii() and reason.isprintable() else ""
    headers = [*security.FIXED, *security.NO_STORE, ("Connection", "close"),
               ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    head = f"HTTP/1.1 {status_int} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("latin-1") + b"\r\n" + body


def write_error(sock, status_int, reason, mesg):
    """gunicorn's ``util.write_error``, answering with :func:`error_bytes` (``mesg``, which
    can hold part of the request, is not sent)."""
    from gunicorn import util

    util.write_nonblock(sock, error_bytes(int(status_int), str(reason)))


def install() -> None:
    """Make gunicorn's HTTP/1 workers use :func:`response_class` (``wsgi.create`` reads the
    module's ``Response`` on every request) and answer unreadable requests with
    :func:`write_error` (the workers call ``util.write_error`` through the module)."""
    from gunicorn import util
    from gunicorn.http import wsgi

    wsgi.Response = response_class()
    util.write_error = write_error


class NoRequestLines(logging.Filter):
    """Drops the development server's line for each request (and its per-request errors, which
    repeat the request line): werkzeug writes them as "<address> - - [<date>] <message>"."""

    def filter(self, record: logging.LogRecord) -> bool:
        return " - - [" not in str(record.msg)


def quiet_dev_server() -> None:
    """Filter werkzeug's request lines out of its log (once, however many apps are made)."""
    log = logging.getLogger("werkzeug")
    if not any(isinstance(f, NoRequestLines) for f in log.filters):
        log.addFilter(NoRequestLines())
