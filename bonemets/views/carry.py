"""The answers between pages: an encrypted, signed, short-lived cookie, so every page a person
can go Back or Forward to is a GET (post/redirect/get) and nothing is stored on the server.

* Each POST of answers (a step, the one-page form, "Print my summary", ...) puts the answers
  in the ``bonemets_answers`` cookie and redirects (303) to a GET page that is rendered from it.
  The browser's Back and Forward buttons then only ever fetch GET pages: no "Confirm Form
  Resubmission", no lost answers, and every response can stay ``Cache-Control: no-store``
  (nothing about a person is kept in the browser's cache on a shared computer).
* The cookie is Fernet (AES-128-CBC + HMAC-SHA256, from the ``cryptography`` library) with a key
  derived from the app's SECRET_KEY (HKDF), so it cannot be read or changed on the device or on
  the way; it is refused after ``ANSWERS_MAX_AGE`` seconds (2 hours by default) even if a
  browser keeps it. HttpOnly, SameSite=Lax, Secure on HTTPS (or with SESSION_COOKIE_SECURE), Path=/.
* Answers never go in a URL (proxies log URLs): the redirects carry only a page name.
* "Clear my answers" (POST /clear, CSRF-checked) deletes the cookie.
* Every form still carries all the answers as hidden fields too, so a POST never depends on the
  cookie: an expired cookie loses nothing that is on the page.
"""
from __future__ import annotations

import base64
import json
import zlib

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, g, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

COOKIE = "bonemets_answers"
DEFAULT_MAX_AGE = 2 * 3600
# Browsers keep cookies up to about 4096 bytes. Answers are far smaller (a full questionnaire is
# well under 1 KB); a post too large to keep is simply not kept (its page still has it).
MAX_COOKIE = 3800


def max_age() -> int:
    return int(current_app.config.get("ANSWERS_MAX_AGE", DEFAULT_MAX_AGE))


def _fernet() -> Fernet:
    app = current_app._get_current_object()
    f = app.extensions.get("bonemets_fernet")
    if f is None:
        secret = app.config["SECRET_KEY"]
        secret = secret.encode() if isinstance(secret, str) else bytes(secret)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"bonemets answers cookie").derive(secret)
        f = app.extensions["bonemets_fernet"] = Fernet(base64.urlsafe_b64encode(key))
    return f


# Page choices that ride with the answers through post/redirect/get: the decision steps'
# answers (bonemets/present_values.py), the options ticked to compare, and how to print.
PAGE_CHOICES = ("compare", "print_size", "paper")
STEP_PREFIX = "decide_"


def pairs_of(formdata, fields) -> list:
    """(name, value) pairs of the questionnaire's fields and the page choices, as posted."""
    names = list(fields) + [k for k in PAGE_CHOICES if k not in fields]
    names += sorted({k for k in formdata if k.startswith(STEP_PREFIX)})
    return [(k, v) for k in names for v in formdata.getlist(k)[:50] if isinstance(v, str)
            and len(v) <= 200]


def _secure() -> bool:
    return request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def save(response, pairs: list) -> None:
    """Put the answers (a list of (field, value) pairs) in the cookie of ``response``."""
    raw = zlib.compress(json.dumps(pairs, separators=(",", ":")).encode())
    token = _fernet().encrypt(raw).decode()
    if len(token) > MAX_COOKIE:
        return
    response.set_cookie(COOKIE, token, max_age=max_age(), httponly=True, samesite="Lax",
                        secure=_secure(), path="/")


def load() -> MultiDict | None:
    """The answers of this browser's cookie, or None (no cookie, too old, or not ours). Read
    once per request (a page reads its answers and its page choices from it)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    memo = g.get("_bonemets_kept")
    if memo is not None and memo[0] is token:
        return memo[1]
    data = _load(token)
    g._bonemets_kept = (token, data)
    return data


def _load(token: str) -> MultiDict | None:
    try:
        pairs = json.loads(zlib.decompress(_fernet().decrypt(token.encode(), ttl=max_age())))
    except (InvalidToken, ValueError, zlib.error, TypeError):
        return None
    if not isinstance(pairs, list):
        return None
    return ImmutableMultiDict([(str(k), str(v)) for k, v in (p for p in pairs
                                                               if isinstance(p, list) and len(p) == 2)])


def present() -> bool:
    return bool(request.cookies.get(COOKIE))


def clear(response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=_secure())
