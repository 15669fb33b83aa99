"""Real headless Chromium (Debian's /usr/bin/chromium) driven by pytest-playwright.

Never run ``playwright install``: the browser comes from the system package. The app is served
by werkzeug in a daemon thread with CSRF ON, so every form is sent exactly as a person's
browser would send it.

The set-up itself lives in ``browser_helpers.py`` so that ``scripts/screenshots.py`` reuses it.
"""
from __future__ import annotations

import os

import pytest

from .browser_helpers import CHROMIUM, CHROMIUM_ARGS, serve_app

HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.fspath).startswith(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package "
                    "(apt-get install -y chromium) to run the browser tests")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    url, server = serve_app({"TESTING": True, "SECRET_KEY": "browser-tests"})
    yield url
    server.shutdown()
