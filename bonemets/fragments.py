"""Parts of a page that are the same for everyone: rendered once per process and language.

A results page shows about twenty option cards, and most of each card is the rule book's
catalog (what the option is, its outcomes as pictures, its details): the same words for every
person. ``once(macro, *args)`` (a template global) renders such a macro the first time and
keeps its Markup, keyed on the macro, its arguments, the language (the rule book and the
interface catalog in use) and the rule book's version; later pages reuse it.

The smaller parts the answers pick (a rule's reason with the answers it names, a list of source
links) are kept the same way: their arguments are the rule book's own ids and words, as plain
values, never the card or the answers they come from.

What keeps a person's text from reaching another person: the arguments may only be strings,
numbers, flags, None and tuples of them (a card, the answers, or any dict or list is refused
with TypeError), the key is every argument, and a macro rendered through ``once`` uses nothing
but its arguments, the rule book (``rb``) and the interface's words. tests/test_fragments.py
renders pages on many random answer sets in every language with the cache and without it and
requires byte-identical pages.

What keeps the server from holding what people said: a key is made of what the plan shows (the
rule book's options, reasons, cautions, red flags, sources and catalog texts, by id and words),
never of a person's answers or choices as they gave them. "Because you said: ...", the answers
list, the hidden answer fields, how much each priority matters, the SURE answers and the
leaning are rendered for each page and never kept (tests/test_fragments.py checks that no kept
part or key holds them).

Nothing is kept in debug mode or with TEMPLATES_AUTO_RELOAD (templates may change), or with
``FRAGMENT_CACHE = False`` (the tests' uncached path). The number of parts kept is bounded
(``MAX_PARTS``): when the store is full it is emptied and filled again, so memory stays bounded
and the parts every page needs are soon kept again.
"""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import get_locale
from markupsafe import Markup

# The catalog parts are options x variants x languages, a few hundred; the parts the plan picks
# (a card's head with its lead reason, a further reason, a card's checks and source links) a few
# thousand per language, most under a kilobyte. A bound all the same.
MAX_PARTS = 20000
_PLAIN = (str, int, bool, type(None))


def _check(args, macro) -> bool:
    """Refuse anything but plain values; True when a flag is among them (``True == 1`` and
    ``hash(True) == hash(1)``, so such a key also records which values are flags)."""
    flags = False
    for a in args:
        t = type(a)
        if t in _PLAIN:
            flags = flags or t is bool
            continue
        if isinstance(a, tuple):
            flags = _check(a, macro) or flags
            continue
        raise TypeError(f"once({macro.name}): only ids, words, numbers, flags and tuples of them "
                        f"may be arguments, not {t.__name__}")
    return flags


def _flag_marks(args) -> tuple:
    """Where the flags are in ``args`` (nested tuples alike): part of a key that has flags."""
    return tuple(_flag_marks(a) if type(a) is tuple else type(a) is bool for a in args)


def enabled(app) -> bool:
    return bool(app.config.get("FRAGMENT_CACHE", True)) and not (
        app.debug or app.config.get("TEMPLATES_AUTO_RELOAD"))


def _store():
    """(the parts dict or None when nothing is kept, the key's prefix) for this request.

    Worked out once per request and language: the language (the locale, which picks the
    interface catalog and the rule book, bonemets/language.py), the rule book's version and the
    app's mount point. The memo holds the ``Locale`` object it was made for: a ``force_locale``
    block sets another one, and the next call works it out again."""
    ns = g.get("_flask_babel")  # Flask-Babel's per-request namespace: its Locale, once made
    locale = getattr(ns, "babel_locale", None) if ns is not None else None
    if locale is None:
        locale = get_locale()
    req = request._get_current_object()  # g can outlive a request (an outer app context)
    memo = g.get("_bonemets_once")
    if memo is not None and memo[0] is locale and memo[3] is req:
        return memo[1], memo[2]
    app = current_app._get_current_object()
    parts = app.extensions.setdefault("bonemets_fragments", {}) if enabled(app) else None
    prefix = (str(locale), app.extensions["bonemets"].version, req.script_root)
    g._bonemets_once = (locale, parts, prefix, req)
    return parts, prefix


def bound():
    """``once`` for one render (a template's context, bonemets/web.py): the language, the rule
    book's version and the store are worked out when the render starts, not on every call (a
    results page makes about two hundred)."""
    parts, prefix = _store()

    def once(macro, *args):
        """``macro(*args)``, rendered once per process for this language and rule book."""
        flags = _check(args, macro)
        if parts is None:
            return macro(*args)
        code = macro._func.__code__
        key = (code.co_filename, code.co_firstlineno, macro.name, prefix, args)
        if flags:
            key += (_flag_marks(args),)
        part = parts.get(key)
        if part is None:
            part = macro(*args)
            if len(parts) >= MAX_PARTS:
                parts.clear()
            parts[key] = part
        return part
    def each(macro, keys, *args):
        """``once(macro, key, *args)`` for each of ``keys``, joined (one call from a template
        instead of a loop: a results page lists about forty sources)."""
        return Markup("").join([once(macro, k, *args) for k in keys])

    once.each = each
    return once


def once(macro, *args):
    """``macro(*args)``, rendered once per process for this language and rule book."""
    return bound()(macro, *args)


def _each(macro, keys, *args):
    return bound().each(macro, keys, *args)


once.each = _each
