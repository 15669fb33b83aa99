"""bonemets/serving.py: gunicorn writes a response's headers with the first bytes of its body
(one sendall), and otherwise exactly the bytes gunicorn's own Response writes."""
from __future__ import annotations

import pytest

pytest.importorskip("gunicorn")

from gunicorn.config import Config  # noqa: E402
from gunicorn.http import wsgi  # noqa: E402

from bonemets import serving  # noqa: E402


class Sock:
    def __init__(self):
        self.writes = []

    def sendall(self, data):
        self.writes.append(bytes(data))


class Req:
    version = (1, 1)

    def __init__(self, method="GET"):
        self.method = method

    def should_close(self):
        return False


def run(cls, status, headers, body, method="GET"):
    sock = Sock()
    resp = cls(Req(method), sock, Config())
    resp.start_response(status, headers)
    for chunk in body:
        resp.write(chunk)
    resp.close()
    return sock.writes


def same_bytes(a, b):
    # the Date header may tick between the two runs
    import re
    strip = lambda w: re.sub(rb"Date: [^\r]*\r\n", b"", b"".join(w))  # noqa: E731
    return strip(a) == strip(b)


HOLDING = serving.response_class()
PAGE = [("Content-Type", "text/html"), ("Content-Length", "11")]


def test_headers_and_body_in_one_write():
    writes = run(HOLDING, "200 OK", PAGE, [b"hello world"])
    assert len(writes) == 1 and writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert writes[0].endswith(b"\r\n\r\nhello world")
    # gunicorn's own Response: two writes, the same bytes
    plain = run(wsgi.Response, "200 OK", PAGE, [b"hello world"])
    assert len(plain) == 2 and same_bytes(writes, plain)


@pytest.mark.parametrize("status, headers, body, method", [
    ("200 OK", [("Content-Length", "0")], [b""], "GET"),                       # empty body
    ("200 OK", [("Content-Length", "0")], [], "GET"),                          # no body at all
    ("204 No Content", [], [b"ignored"], "GET"),                               # body omitted
    ("200 OK", PAGE, [b"hello world"], "HEAD"),                               # HEAD
    ("200 OK", [("Content-Type", "text/plain")], [b"abc", b"def"], "GET"),   # chunked
    ("200 OK", [("Content-Length", "6")], [b"abc", b"def"], "GET"),          # two parts
    ("200 OK", [("Content-Length", "3")], [b"abcdef"], "GET"),               # cut to the length
])
def test_the_same_bytes_as_gunicorn_in_every_case(status, headers, body, method):
    ours = run(HOLDING, status, headers, body, method)
    theirs = run(wsgi.Response, status, headers, body, method)
    assert same_bytes(ours, theirs)
    assert ours and ours[0].startswith(b"HTTP/1.1 ")


def test_install_is_what_gunicorn_uses(monkeypatch):
    from gunicorn import util
    original = wsgi.Response
    monkeypatch.setattr(wsgi, "Response", original)  # put back after the test
    monkeypatch.setattr(util, "write_error", util.write_error)
    serving.install()
    serving.install()  # twice is once
    assert wsgi.Response.holds_headers and wsgi.Response.__bases__ == (original,)
    assert util.write_error is serving.write_error


@pytest.mark.parametrize("code, reason", [(400, "Bad Request"), (403, "Forbidden"),
                                          (414, "URI Too Long"), (417, "Expectation Failed"),
                                          (431, "Request Header Fields Too Large"),
                                          (500, "Internal Server Error"),
                                          (501, "Bad Request")])  # gunicorn's own 501 reason
def test_gunicorns_own_answers_are_plain_words_with_the_security_headers(code, reason):
    from http import HTTPStatus

    from bonemets import messages, security
    data = serving.error_bytes(code, reason)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == f"HTTP/1.1 {code} {HTTPStatus(code).phrase}"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    for name, value in security.FIXED + security.NO_STORE:
        assert headers[name] == value
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Connection"] == "close" and int(headers["Content-Length"]) == len(body)
    words = messages.http_error(code) or messages.http_error(400)
    assert body.decode("utf-8") == f"{words} {messages.NOTHING_STORED}\n"
