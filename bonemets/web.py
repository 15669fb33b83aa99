"""Puts the web app together: the rule book and form, the message catalog (Flask-Babel), the
template helpers, and the views (bonemets/views/pages.py, bonemets/views/steps.py), the JSON API
(bonemets/api.py) and error handling (bonemets/errors.py).

Nothing about a person is stored or logged: answers arrive in the POST body, are turned into a
plan, and are sent back (as hidden fields where the next page needs them).
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Response, request, session, url_for
from flask_babel import Babel
from werkzeug.datastructures import ImmutableMultiDict
from flask_wtf.csrf import generate_csrf

from . import api, errors, fragments, i18n, iconarray, language, present, templating, translations
from . import messages as msg
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


SWITCH_PREFIX = "lang-switch:"


def language_switch(current: str, languages, repost: bool = True) -> list:
    """The other languages a page can be shown in: [{"lang", "url", "post", "pairs"}]. A GET
    page links to itself with ``lang=``; a page made from posted answers re-posts them to the
    same address (the template makes a small form of ``pairs``), so nothing typed is lost and no
    JavaScript is needed. An error page never echoes what was posted: after a POST it links to
    the start page in the other language."""
    post = request.method == "POST"
    pairs: list = []
    if post and repost:
        try:
            pairs = [(SWITCH_PREFIX + k, msg.echoed(v)) for k, vs in request.form.lists()
                     if k != "csrf_token" for v in vs]
        except Exception:  # noqa: BLE001 - an unreadable body: offer the start page instead
            repost = False
    out = []
    for lang in languages:
        if lang == current:
            continue
        if post and not repost:
            out.append({"lang": lang, "url": url_for("web.index", lang=lang), "post": False,
                        "pairs": []})
            continue
        args = request.args.to_dict(flat=False)
        args["lang"] = [lang]
        url = request.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, vs in args.items()
                                            for v in vs)
        out.append({"lang": lang, "url": url, "post": post, "pairs": pairs})
    return out


def init_app(app: Flask, rb: RuleBook) -> None:
    templating.install(app)  # before Flask-Babel and the helpers below make app.jinja_env
    app.extensions["bonemets"] = rb
    app.extensions["bonemets_form"] = build_form_class(rb)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", i18n.SOURCE_LANGUAGE)
    # A language is its catalog (translations/) and its rule book texts (rules/i18n/<lang>/):
    # every text must be there, or the app does not start (RuleBookError names file and id).
    languages = app.config.setdefault("LANGUAGES", ["en", "es"])
    books = i18n.load_rulebooks(app.config["RULES_DIR"], languages, english=rb)
    app.extensions["bonemets_books"] = books
    app.extensions["bonemets_forms"] = {lang: (app.extensions["bonemets_form"] if b is rb
                                               else build_form_class(b))
                                        for lang, b in books.items()}

    def locale() -> str:
        """?lang= first; then the language chosen earlier in this browser (kept in the session
        cookie, so forms posted without ?lang= stay in it); then Accept-Language."""
        asked = request.args.get("lang")
        if asked in languages:
            return asked
        kept = session.get("lang")
        if kept in languages:
            return kept
        return request.accept_languages.best_match(languages) or languages[0]

    @app.before_request
    def _switched_language():
        """A page re-posted by the language switch: its answers come back under their own names
        (the switch's copies carry a prefix so they never look like the page's own inputs)."""
        if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
            form = request.form
            if any(k.startswith(SWITCH_PREFIX) for k in form):
                request.form = ImmutableMultiDict(
                    [(k[len(SWITCH_PREFIX):], v) for k, vs in form.lists()
                     if k.startswith(SWITCH_PREFIX) for v in vs]
                    + [("csrf_token", v) for v in form.getlist("csrf_token")])

    @app.before_request
    def _keep_language():
        asked = request.args.get("lang")
        if asked in languages and session.get("lang") != asked and not request.path.startswith("/api/"):
            session["lang"] = asked  # the person's choice of language, nothing else

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES",
                          translations.catalog_dir(languages, log=app.logger))
    Babel(app, locale_selector=locale)
    # The same callables Flask-Babel installs, with the catalog looked up once per request.
    tr = language.translations
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: tr().ugettext(s),
        ngettext=lambda s, p, n: tr().ungettext(s, p, n),
        pgettext=lambda c, s: tr().upgettext(c, s),
        npgettext=lambda c, s, p, n: tr().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # ``_()`` and ``ngettext()`` (a results page makes about seventy calls) as Jinja's newstyle
    # callables do them, without its two extra calls through the template context each
    # (Jinja's ``_`` looks ``gettext`` up and calls it, which calls the function above).
    app.jinja_env.globals.update(templating.newstyle_gettext(tr))

    @app.after_request
    def _vary(response):
        response.vary.add("Accept-Language")  # a page's language can come from this header
        return response
    app.json = OrjsonProvider(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(steps.bp)
    api.init_app(app)
    errors.init_app(app)

    app.jinja_env.filters["first_sentence"] = present.first_sentence
    app.jinja_env.filters["option_name"] = lambda oid: language.rulebook().options[oid]["name"]
    app.jinja_env.filters["only_if_tokens"] = present.only_if_tokens
    app.jinja_env.globals["csrf_token"] = generate_csrf
    app.jinja_env.globals["describe"] = lambda condition: present.describe(language.rulebook(), condition)
    app.jinja_env.globals["rulebook_card"] = lambda oid: present.rulebook_card(language.rulebook(), oid)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # as babel.cfg extracts them
    iconarray.init_jinja(app.jinja_env)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        book = language.rulebook()
        lang = language.code()
        return {"rb": book, "caveat": book.caveat, "meta": book.meta,
                "unsure_answers": present.unsure_values(book), "lang": lang,
                "languages": languages, "translation": i18n.translation_status(book, lang),
                "language_switch": lambda repost=True: language_switch(lang, languages, repost),
                "once": fragments.bound()}

    css = followup_css(rb)
    app.add_url_rule("/followup.css", "followup_css",
                     lambda: Response(css, mimetype="text/css"))
    app.add_url_rule("/favicon.ico", "favicon",
                     lambda: app.send_static_file("favicon.svg"))
