"""The language of a request, and the rule book and form in that language.

The locale comes from ``?lang=`` or ``Accept-Language`` (bonemets/web.py); every language's rule
book is loaded at start-up (bonemets/i18n.py), so a request only picks one. Ids, values and
plans are the same in every language: only words differ.
"""
from __future__ import annotations

import flask_babel
from flask import current_app, g, has_app_context
from flask_babel import get_locale

from .rules import RuleBook


def code() -> str:
    loc = get_locale()
    return loc.language if loc is not None else current_app.config["BABEL_DEFAULT_LOCALE"]


def rulebook() -> RuleBook:
    """The rule book in the request's language (English outside a request's language)."""
    books = current_app.extensions.get("bonemets_books") or {}
    return books.get(code()) or current_app.extensions["bonemets"]


def form_class():
    forms = current_app.extensions.get("bonemets_forms") or {}
    return forms.get(code()) or current_app.extensions["bonemets_form"]


def translations():
    """Flask-Babel's translations for the current locale, looked up once per request and locale.

    Flask-Babel's own ``gettext`` finds the context, the locale, its name and the catalog again
    on every call (about 150 calls a results page). This keeps the catalog it returned on
    Flask-Babel's per-request namespace, with the ``Locale`` object it was found for: a
    ``force_locale`` block (which sets another ``Locale`` object) or ``refresh()`` (which drops
    it) makes the next call look it up again, so the answer is always Flask-Babel's own."""
    if not has_app_context():
        return flask_babel.get_translations()
    ns = g.get("_flask_babel")
    if ns is not None:
        memo = getattr(ns, "bonemets_translations", None)
        if memo is not None and memo[0] is getattr(ns, "babel_locale", None) is not None:
            return memo[1]
    t = flask_babel.get_translations()
    ns = g.get("_flask_babel")
    if ns is not None:
        ns.bonemets_translations = (getattr(ns, "babel_locale", None), t)
    return t
