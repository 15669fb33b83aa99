"""Shared fixtures: the app (CSRF off for most HTTP tests, on where a test checks it),
its test client and the rule book."""
from __future__ import annotations

import os

import pytest

from flask.testing import FlaskClient

from app import create_app
from bonemets.paths import REPO as ROOT, RULES_DIR, SCENARIOS_DIR as SCENARIO_DIR
from bonemets.rules import load_rulebook



class BrowserLikeClient(FlaskClient):
    """A test client that follows redirects, as a browser does: a POST of answers redirects
    (303, post/redirect/get: bonemets/views/carry.py) to the GET page made from the answers
    cookie. A test that looks at the redirect itself passes ``follow_redirects=False``."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("follow_redirects", True)
        return super().open(*args, **kwargs)


def _browser_like(app):
    app.test_client_class = BrowserLikeClient
    return app


@pytest.fixture(scope="session")
def rulebook():
    return load_rulebook(RULES_DIR)


@pytest.fixture(scope="session")
def app():
    return _browser_like(create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"}))


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def csrf_app():
    return _browser_like(create_app({"TESTING": True, "WTF_CSRF_ENABLED": True, "SECRET_KEY": "test"}))


@pytest.fixture()
def csrf_client(csrf_app):
    return csrf_app.test_client()


# A typical answer set used across tests (public scenario 1: HR-positive breast cancer, plus two
# priorities); defined once, beside the browser tests that also use it.
from browser.browser_helpers import TYPICAL  # noqa: E402


@pytest.fixture()
def typical():
    return {k: (list(v) if isinstance(v, list) else v) for k, v in TYPICAL.items()}
