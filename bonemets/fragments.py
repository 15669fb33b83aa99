"""Parts of a page that are the same for everyone: rendered once per process and language.

A results page shows about twenty option cards, and most of each card is the rule book's
catalog (what the option is, its outcomes as pictures, its details): the same words for every
person. ``once(macro, *args)`` (a template global) renders such a macro the first time and
keeps its Markup, keyed on the macro, its arguments, the language (the rule book and the
interface catalog in use) and the rule book's version; later pages reuse it.

What keeps a person's text from reaching another person: the arguments may only be ids,
numbers, flags and None (a card, the answers, or any dict or list is refused with TypeError),
and a macro rendered through ``once`` uses nothing but its arguments, the rule book (``rb``)
and the interface's words. tests/test_fragments.py renders pages on many random answer sets in
every language with the cache and without it and requires byte-identical pages.

Nothing is kept in debug mode or with TEMPLATES_AUTO_RELOAD (templates may change), or with
``FRAGMENT_CACHE = False`` (the tests' uncached path).
"""
from __future__ import annotations

from flask import current_app, request
from flask_babel import get_locale

# Options x variants x languages is a few hundred at most; a bound all the same, past which
# parts are rendered every time instead of kept.
MAX_PARTS = 4096
_KEYS = (str, int, bool, type(None))


def enabled(app) -> bool:
    return bool(app.config.get("FRAGMENT_CACHE", True)) and not (
        app.debug or app.config.get("TEMPLATES_AUTO_RELOAD"))


def once(macro, *args):
    """``macro(*args)``, rendered once per process for this language and rule book."""
    for a in args:
        if type(a) not in _KEYS:
            raise TypeError(f"once({macro.name}): only ids, numbers and flags may be arguments, "
                            f"not {type(a).__name__}")
    app = current_app._get_current_object()
    if not enabled(app):
        return macro(*args)
    code = macro._func.__code__
    # The language: the locale, which picks the interface catalog and the rule book
    # (bonemets/language.py); each app keeps its own parts, its books fixed at start-up.
    key = (code.co_filename, code.co_firstlineno, macro.name, str(get_locale()),
           app.extensions["bonemets"].version, request.script_root, args)
    parts = app.extensions.setdefault("bonemets_fragments", {})
    part = parts.get(key)
    if part is None:
        part = macro(*args)
        if len(parts) < MAX_PARTS:
            parts[key] = part
    return part
