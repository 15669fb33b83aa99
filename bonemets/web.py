"""Puts the web app together: the rule book and form, the message catalog (Flask-Babel), the
template helpers, and the views (bonemets/views/pages.py, bonemets/views/steps.py), the JSON API
(bonemets/api.py) and error handling (bonemets/errors.py).

Nothing about a person is stored or logged: answers arrive in the POST body, are turned into a
plan, and are sent back (as hidden fields where the next page needs them).
"""
from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import Babel
from flask_wtf.csrf import generate_csrf

from . import api, errors, present
from . import iconarray
from .forms import build_form_class
from .jsonprovider import OrjsonProvider
from .rules import RuleBook
from .views import pages, steps


def followup_css(rb: RuleBook) -> str:
    """The stylesheet that shows a follow-up question once its lead answer is chosen (no
    JavaScript), made from the questionnaire's ``only_if``. Browsers without :has() show every
    follow-up, with a hint saying when it applies."""
    shows = [f'.questionnaire:has(input[name="{lead}"][value="{v}"]:checked) '
             f'[data-only-if~="{lead}={v}"]'
             for f in rb.fields.values() for lead, values in f.only_if.items() for v in values]
    shows += [".questionnaire .question--followup.question--error",
              ".questionnaire .question--followup:has(input:checked)"]
    return ("/* Made from rules/questionnaire.yaml (only_if) by bonemets/web.py. */\n"
            "@supports selector(:has(*)) {\n"
            "  .questionnaire .question--followup { display: none; }\n  "
            + ",\n  ".join(dict.fromkeys(shows)) + " { display: block; }\n}\n")


def init_app(app: Flask, rb: RuleBook) -> None:
    app.extensions["bonemets"] = rb
    app.extensions["bonemets_form"] = build_form_class(rb)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    languages = app.config.setdefault("LANGUAGES", ["en"])  # add "es" with its catalog

    def locale() -> str:
        asked = request.args.get("lang")
        if asked in languages:
            return asked
        return request.accept_languages.best_match(languages) or languages[0]

    Babel(app, locale_selector=locale)
    app.json = OrjsonProvider(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(steps.bp)
    api.init_app(app)
    errors.init_app(app)

    app.jinja_env.filters["first_sentence"] = present.first_sentence
    app.jinja_env.filters["option_name"] = lambda oid: rb.options[oid]["name"]
    app.jinja_env.filters["only_if_tokens"] = present.only_if_tokens
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["describe"] = lambda condition: present.describe(rb, condition)
    app.jinja_env.globals["rulebook_card"] = lambda oid: present.rulebook_card(rb, oid)
    iconarray.init_jinja(app.jinja_env)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        return {"rb": rb, "caveat": rb.caveat, "meta": rb.meta,
                "unsure_answers": present.unsure_values(rb)}

    css = followup_css(rb)
    app.add_url_rule("/followup.css", "followup_css",
                     lambda: Response(css, mimetype="text/css"))
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: app.send_static_file("favicon.svg"))
