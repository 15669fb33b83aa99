"""The words of nginx's and gunicorn's own answers (bonemets/proxy_words.py): the app's words and
the clinician caveat, in every language, and deploy/nginx/bonemets-words.conf up to date.
Through a real nginx and gunicorn: tests/test_deploy.py and tests/test_http_layer.py."""
from __future__ import annotations

import os
import re

import pytest

from bonemets import messages, proxy_words, serving
from servers import DEPLOY

WORDS_CONF = os.path.join(DEPLOY, "nginx", "bonemets-words.conf")


def test_the_nginx_words_file_is_what_the_app_makes_now(app):
    """A changed caveat or message must reach nginx: `flask --app app deploy nginx-words -o
    deploy/nginx/bonemets-words.conf` makes the file again."""
    with open(WORDS_CONF, encoding="utf-8") as fh:
        assert fh.read() == proxy_words.nginx_words(app), (
            "deploy/nginx/bonemets-words.conf is out of date: run "
            "`flask --app app deploy nginx-words -o deploy/nginx/bonemets-words.conf`")


def test_the_cli_writes_the_same_file(app, tmp_path):
    out = tmp_path / "words.conf"
    result = app.test_cli_runner().invoke(args=["deploy", "nginx-words", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == proxy_words.nginx_words(app)
    printed = app.test_cli_runner().invoke(args=["deploy", "nginx-words"])
    assert printed.output == proxy_words.nginx_words(app)


def test_every_answer_nginx_gives_itself_has_words_in_the_file():
    """Each ``return`` of nginx's own answers in bonemets.conf sends a variable the words file
    defines, for the code it returns, and every code of error_page is answered so."""
    with open(os.path.join(DEPLOY, "nginx", "bonemets.conf"), encoding="utf-8") as fh:
        site = fh.read()
    with open(WORDS_CONF, encoding="utf-8") as fh:
        words = fh.read()
    returns = re.findall(r"return (\d+) (\S+);", site)
    assert returns and all(var == f"$bonemets_error_{code}" for code, var in returns), returns
    assert not re.search(r'return \d+ "', site), "words written into bonemets.conf"
    defined = set(re.findall(r"map \$bonemets_lang \$bonemets_error_(\d+) \{", words))
    assert {code for code, _ in returns} == defined == {str(c) for c in proxy_words.NGINX_CODES}
    assert "include bonemets-words.conf;" in site


@pytest.mark.parametrize("code", proxy_words.NGINX_CODES + proxy_words.GUNICORN_CODES)
def test_each_answer_has_the_words_nothing_stored_and_the_caveat_in_each_language(app, code):
    for lang, rb in app.extensions["bonemets_books"].items():
        text = proxy_words.body(app, lang, code)
        assert text.endswith(rb.caveat + "\n"), (lang, code)
        assert "%(" not in text and "$" not in text, text
    english = proxy_words.body(app, "en", code)
    assert str(messages.NOTHING_STORED) in english
    assert english != proxy_words.body(app, "es", code)  # translated, not English twice


def test_an_answer_nginx_cannot_send_is_refused_with_its_name():
    with pytest.raises(ValueError, match="es 413"):
        proxy_words._quoted("costs $5", "es 413")
    assert proxy_words._quoted('a "b" \\ c\nd', "x") == '"a \\"b\\" \\\\ c\\nd"'


def test_gunicorn_takes_its_words_from_the_app(app):
    before = dict(serving._WORDS)
    try:
        serving._WORDS.clear()
        assert app.extensions["bonemets"].caveat.encode() not in serving.error_bytes(400, "x")
        serving.use_app(object())  # not our app: nothing changes
        assert not serving._WORDS
        serving.use_app(app)
        for code in proxy_words.GUNICORN_CODES + (599,):
            body = serving.error_bytes(code, "Bad Request").split(b"\r\n\r\n", 1)[1]
            assert body.endswith(app.extensions["bonemets"].caveat.encode() + b"\n"), code
        too_long = serving.error_bytes(414, "URI Too Long")
        assert str(messages.PROXY_ERRORS[414]).encode() in too_long
    finally:
        serving._WORDS.clear()
        serving._WORDS.update(before)
