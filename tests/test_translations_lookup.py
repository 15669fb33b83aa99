"""The templates' gettext looks the catalog up once per request (bonemets.language.translations):
it must always give what Flask-Babel's own lookup gives, also inside ``force_locale`` and after
``refresh()``."""
from __future__ import annotations

import flask_babel
from flask import render_template_string

from bonemets import language

# Messages of the interface catalog that have a Spanish text (tests fail if the catalog loses them).
SAMPLES = ["Back", "Change my answers", "Print my summary"]


def _spanish_of(app, text):
    with app.test_request_context("/?lang=es", headers={"Accept-Language": "es"}):
        return flask_babel.gettext(text)


def test_the_samples_are_translated(app):
    assert all(_spanish_of(app, s) != s for s in SAMPLES)


def test_same_as_flask_babel_in_each_language_and_inside_force_locale(app):
    tpl = "{% for s in samples %}{{ _(s) }}|{% endfor %}"
    for lang in ("en", "es"):
        with app.test_request_context(f"/?lang={lang}", headers={"Accept-Language": lang}):
            want = "".join(flask_babel.gettext(s) + "|" for s in SAMPLES)
            assert render_template_string(tpl, samples=SAMPLES) == want
            other = "es" if lang == "en" else "en"
            with flask_babel.force_locale(other):
                inside = "".join(flask_babel.gettext(s) + "|" for s in SAMPLES)
                assert inside != want
                assert render_template_string(tpl, samples=SAMPLES) == inside
            # back outside: the request's own language again
            assert render_template_string(tpl, samples=SAMPLES) == want


def test_refresh_drops_the_kept_catalog(app):
    with app.test_request_context("/?lang=es", headers={"Accept-Language": "es"}):
        t1 = language.translations()
        assert language.translations() is t1
        flask_babel.refresh()
        assert language.translations() is flask_babel.get_translations()


def test_in_an_app_context_with_a_forced_locale_it_is_flask_babels(app):
    with app.app_context(), flask_babel.force_locale("es"):
        assert language.translations().ugettext("Back") == flask_babel.gettext("Back") != "Back"
