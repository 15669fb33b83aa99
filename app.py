"""bonemets: a shared decision-making guide for people whose cancer has spread to their bones.

Run:  bash scripts/run.sh (or flask --app app run)
Production:  gunicorn -c deploy/gunicorn.conf.py, behind nginx (deploy/nginx.conf); see the README.

Configuration (environment variables): SECRET_KEY (required outside debug and testing; the same
on every replica), TRUSTED_HOSTS (comma-separated host names this site answers to, `.example.org`
for its subdomains, `*` for any; localhost and 127.0.0.1 always), BONEMETS_PROXY_FIX=1 (trust
one proxy's X-Forwarded-Proto and -Host), SESSION_COOKIE_SECURE=1, BONEMETS_RULES_DIR,
BONEMETS_PDF_SLOTS (PDFs rendered at once per process, default 1; 0 for no limit),
BONEMETS_PDF_PROCESS=1 (render PDFs in a lower-priority helper process of the worker;
deploy/gunicorn.conf.py sets it unless it is given).
"""
from __future__ import annotations

import os
import sys

from flask import Flask

from bonemets.paths import RULES_DIR, STATIC_DIR, TEMPLATES_DIR
from bonemets.rules import RuleBookError, load_rulebook
from bonemets.security import trusted_hosts_from


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


def _cli_task() -> bool:
    """True under the ``flask`` command for a task that serves no requests (``flask rules check``)."""
    import click
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.info_name != "run"


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, template_folder=TEMPLATES_DIR,
                static_folder=STATIC_DIR)
    app.config.from_mapping(
        # A clinician can check a proposed rule book folder: BONEMETS_RULES_DIR=... flask rules check
        RULES_DIR=os.environ.get("BONEMETS_RULES_DIR") or RULES_DIR,
        MAX_CONTENT_LENGTH=64 * 1024,           # answers are small; refuse anything large
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        WTF_CSRF_TIME_LIMIT=6 * 3600,           # a long appointment-prep session is fine
        # PDFs rendered at once per process (0: no limit); more get a 503 with Retry-After
        PDF_SLOTS=int(os.environ.get("BONEMETS_PDF_SLOTS", "1")),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        # Host headers the app answers to; any other gets a 400 (and never reaches a URL).
        TRUSTED_HOSTS=trusted_hosts_from(os.environ.get("TRUSTED_HOSTS")),
    )
    if os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"):
        app.config["SESSION_COOKIE_SECURE"] = True
    if test_config:
        app.config.update(test_config)

    if not app.config.get("SECRET_KEY"):
        if app.debug or app.testing or os.environ.get("FLASK_DEBUG") == "1" or _cli_task():
            app.config["SECRET_KEY"] = os.urandom(32)
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
                "string (for example: export SECRET_KEY=$(python -c 'import secrets; "
                "print(secrets.token_hex(32))')). The app refuses to start without one outside "
                "debug or testing.")

    if os.environ.get("BONEMETS_PROXY_FIX", "").lower() in ("1", "true", "yes"):
        # Behind a proxy that terminates TLS (on another machine): trust its X-Forwarded-Proto
        # and -Host, so HTTPS is known (HSTS is sent) and URLs are right.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)

    from bonemets import cli, fhir_web, security, serving, web

    # Nothing about a visit in a log: not even the development server's line for each request.
    serving.quiet_dev_server()

    # The rule book is read and checked once; a broken rule book stops the app from starting.
    # Only a command-line task (such as `flask rules check`) goes on, to report the problem.
    try:
        rulebook = load_rulebook(app.config["RULES_DIR"])
        web.init_app(app, rulebook)  # also every language's rule book (bonemets/i18n.py)
    except RuleBookError as exc:
        if not _cli_task():
            raise
        app.extensions["bonemets_error"] = exc
        cli.init_app(app)
        return app
    fhir_web.init_app(app, rulebook)   # FHIR, QuestionnaireResponse, CDS Hooks
    security.init_app(app)
    cli.init_app(app)
    return app


if __name__ == "__main__":  # pragma: no cover - convenience for `python app.py`
    try:
        create_app().run()
    except (RuleBookError, ConfigError) as exc:
        sys.exit(f"bonemets cannot start: {exc}")
