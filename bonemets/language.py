"""The language of a request, and the rule book and form in that language.

The locale comes from ``?lang=`` or ``Accept-Language`` (bonemets/web.py); every language's rule
book is loaded at start-up (bonemets/i18n.py), so a request only picks one. Ids, values and
plans are the same in every language: only words differ.
"""
from __future__ import annotations

from flask import current_app
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
