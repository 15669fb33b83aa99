"""The app's Jinja environment (bonemets/templating.py) looks ``a.b`` up as Jinja does."""
from __future__ import annotations

import collections

import pytest
from jinja2 import Environment as JinjaEnvironment
from jinja2 import Undefined

from bonemets import templating


class Keyed(dict):
    """A dict subclass with an attribute of its own: it must keep Jinja's order."""
    id = "attribute"


class Card:
    def __init__(self):
        self.id = "card"


NAMES = ["id", "items", "keys", "get", "__class__", "__len__", "missing", "said", "values",
         "copy", "__dict__", "mro", ""]
OBJECTS = [
    {"id": 1, "items": "an item called items", "said": ["Lung"], "": "empty"},
    {},
    {1: "int key"},
    Keyed(id="item"),
    collections.OrderedDict(id="ordered"),
    collections.defaultdict(list, id="default"),
    Card(),
    "a string",
    ("a", "tuple"),
    None,
]


def _same(a, b) -> bool:
    if isinstance(a, Undefined) or isinstance(b, Undefined):
        return type(a) is type(b) and a._undefined_name == b._undefined_name
    if callable(a) and callable(b):
        return getattr(a, "__self__", None) is getattr(b, "__self__", None) and \
            getattr(a, "__name__", None) == getattr(b, "__name__", None)
    return a is b or a == b


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda o: type(o).__name__)
def test_every_lookup_is_jinjas(obj):
    ours, jinjas = templating.Environment.__new__(templating.Environment), JinjaEnvironment()
    ours.undefined = jinjas.undefined
    for name in NAMES:
        assert _same(ours.getattr(obj, name), jinjas.getattr(obj, name)), (obj, name)


def test_the_app_renders_with_it(app):
    assert isinstance(app.jinja_env, templating.Environment)
    t = app.jinja_env.from_string("{{ d.id }} {{ d.items()|list|length }} {{ d.nothing is undefined }}")
    assert t.render(d={"id": "x", "items": "y"}) == "x 2 True"


def test_it_must_come_before_the_environment_is_made():
    from flask import Flask
    app = Flask(__name__)
    app.jinja_env  # noqa: B018 - made now
    with pytest.raises(RuntimeError):
        templating.install(app)


class Catalog:
    """A catalog that marks what it translated."""
    def ugettext(self, s):
        return "«" + s + "»"

    def ungettext(self, s, p, n):
        return "«" + (s if n == 1 else p) + "»"


TEMPLATES = [
    '{{ _("Hello") }}',
    '{{ _("A & B <b> %(name)s", name=who) }}',
    '{{ _("100%% sure") }}',
    '{{ gettext("Hello %(name)s", name=who) }}',
    '{{ ngettext("%(num)s item", "%(num)s items", n) }}',
    '{{ ngettext("one of %(name)s", "%(num)s of %(name)s", n, name=who) }}',
    '{% trans %}Plain{% endtrans %} {% trans count=n %}{{ count }} thing{% pluralize %}{{ count }} things{% endtrans %}',
    '{% trans name=who %}Hi {{ name }}{% endtrans %}',
]


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("source", TEMPLATES)
def test_the_quick_gettext_gives_what_jinjas_gives(source, autoescape):
    def env(quick):
        e = JinjaEnvironment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
        c = Catalog()
        e.install_gettext_callables(c.ugettext, c.ungettext, newstyle=True)
        if quick:
            e.globals.update(templating.newstyle_gettext(lambda: c))
        return e
    for n in (1, 3):
        values = {"who": "<Ann & Bo>", "n": n}
        assert env(True).from_string(source).render(values) == \
            env(False).from_string(source).render(values)
