"""The app's Jinja environment: Flask's, with ``a.b`` on a plain dict looked up without an exception.

The presenter's views (option cards, reasons, groups, the grid) are plain dicts, and the
templates read them as ``card.id``. Jinja's ``Environment.getattr`` tries the attribute first
(``getattr(card, "id")``, which raises AttributeError for a dict's key), catches that, then
tries the item: a results page makes about a thousand such lookups, each with an exception
raised and caught, about a tenth of its render time (measured on random answer sets, 2.7 ->
2.4 ms).

For an object whose type is exactly ``dict`` (no subclass: a subclass may add attributes or
``__getattr__``), ``getattr(obj, name)`` succeeds exactly when ``name`` is one of ``dir(dict)``
(a dict instance has no ``__dict__``): for any other name this environment goes straight to the
item, and to Jinja's own undefined when there is none, which is what Jinja does after its
exception. So ``card.items`` is still the method and ``card.id`` the item, every template's
output is unchanged (tests/test_templating.py checks both lookups agree).
"""
from __future__ import annotations

from flask.templating import Environment as FlaskEnvironment
from jinja2 import pass_context
from markupsafe import Markup

_DICT_ATTRIBUTES = frozenset(dir(dict))


class Environment(FlaskEnvironment):
    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):  # an unhashable name cannot be a key: as Jinja
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def install(app) -> None:
    """Make ``app`` build its Jinja environment from this class. Call before anything reads
    ``app.jinja_env`` (Flask makes it once, on first use)."""
    if "jinja_env" in app.__dict__:
        raise RuntimeError("install the template environment before app.jinja_env is first used")
    app.jinja_environment = Environment


def newstyle_gettext(translations) -> dict:
    """``_``, ``gettext`` and ``ngettext`` for templates, as Jinja's i18n extension makes them with
    ``newstyle=True`` (a Markup in an autoescaped template, always %-formatted with the keyword
    arguments, ``num`` given to ngettext), calling ``translations()`` (the request's catalog)
    directly. tests/test_templating.py checks they give what Jinja's own give."""
    @pass_context
    def gettext(context, string, **variables):
        rv = translations().ugettext(string)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    @pass_context
    def ngettext(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        rv = translations().ungettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
