"""The words of the answers nginx and gunicorn give themselves, made from the app's own.

Some requests never reach the app: nginx refuses a request it cannot read, one too large or too
long, too many PDFs at once, and answers for an app process that is restarting; gunicorn
refuses a request line or header it cannot read. Those answers are plain text: what happened,
that nothing was stored, and the clinician caveat, like every page of the app. The words come
from the message catalog (bonemets/messages.py, translated under translations/) and the caveat
from the rule book (rules/meta.yaml and rules/i18n/), so neither deploy file holds words of its
own and a changed caveat cannot be missed there:

- nginx: ``deploy/nginx/bonemets-words.conf`` (maps, included in ``http { }`` before
  bonemets.conf) is made by ``flask --app app deploy nginx-words``; tests/test_proxy_words.py
  checks the file in git is what the command makes now. The language is ``?lang=`` or else the
  first language of ``Accept-Language``, where the app knows it (nginx cannot weigh the
  ``q=`` values or read the app's language cookie, so a page in another language than the
  app's choice is possible there; English where nothing says).
- gunicorn: the worker takes the English words from the app it serves (deploy/gunicorn.conf.py
  ``post_worker_init``, bonemets/serving.py): a request gunicorn cannot read has no language
  it can be sure of.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import force_locale

from . import messages

# The codes nginx answers itself (deploy/nginx/bonemets.conf error_page), and gunicorn's.
NGINX_CODES = (400, 405, 413, 414, 429, 503)
GUNICORN_CODES = (400, 403, 414, 417, 431, 500, 501)


def _words(code: int) -> str:
    text = messages.PROXY_ERRORS.get(code)
    return str(text) if text is not None else messages.http_error(code) or messages.http_error(400)


def body(app: Flask, lang: str, code: int) -> str:
    """The plain-text answer for ``code`` in ``lang``: the words, nothing stored, the caveat."""
    books = app.extensions.get("bonemets_books") or {}
    rb = books.get(lang) or app.extensions["bonemets"]
    with app.test_request_context("/"), force_locale(lang):
        return f"{_words(code)} {messages.NOTHING_STORED}\n\n{messages.PLEASE_NOTE} {rb.caveat}\n"


def _quoted(text: str, where: str) -> str:
    """``text`` as an nginx quoted string. nginx reads ``$`` as the start of a variable and has
    no way to write it in a string, so a text with one is refused (naming it)."""
    if "$" in text:
        raise ValueError(f"{where}: nginx cannot send a '$' in its own answers: {text!r}")
    return '"' + (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")) + '"'


_HEADER = """\
# Made by `flask --app app deploy nginx-words` from the app's message catalog and rule
# book (bonemets/proxy_words.py): do not edit; tests/test_proxy_words.py checks it is
# up to date. Included by bonemets.conf (inside http { }).

# The language of nginx's own answers: ?lang= where the app knows it, else the first
# language of Accept-Language, else the app's default."""


def nginx_words(app: Flask) -> str:
    """The text of deploy/nginx/bonemets-words.conf for this app's catalog and rule books."""
    langs, default = app.config["LANGUAGES"], app.config["BABEL_DEFAULT_LOCALE"]  # web.init_app
    out = [_HEADER, 'map "$arg_lang:$http_accept_language" $bonemets_lang {',
           f"    default {default};"]
    out += [f'    "~^{lang}:" {lang};' for lang in langs]
    out += [f'    "~*^[^:]*: *{lang}(?![a-z])" {lang};' for lang in langs]
    out.append("}")
    for code in NGINX_CODES:
        out += ["", f"map $bonemets_lang $bonemets_error_{code} {{"]
        for lang in langs:
            key = "default" if lang == default else lang
            out.append(f"    {key} {_quoted(body(app, lang, code), f'{lang} {code}')};")
        out.append("}")
    return "\n".join(out) + "\n"


def gunicorn_words(app: Flask) -> dict:
    """code -> the answer gunicorn gives for it (bonemets/serving.py), in the app's default
    language: every code gunicorn's workers answer themselves (gunicorn/workers/base.py)."""
    return {code: body(app, app.config["BABEL_DEFAULT_LOCALE"], code) for code in GUNICORN_CODES}
