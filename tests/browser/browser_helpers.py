"""Shared set-up for the real-browser tests and ``scripts/screenshots.py``.

* ``serve_app``: the app on a free local port (werkzeug, daemon thread), CSRF on.
* ``CHROMIUM`` / ``CHROMIUM_ARGS``: Debian's Chromium and the flags it needs in a container.
* ``TYPICAL``: a typical plan (public scenario 1 plus two priorities).
* Page helpers that fill the one-page form the way a person would (clicks on the inputs).
"""
from __future__ import annotations

import os
import subprocess
import threading

from bonemets.paths import REPO as ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]

# Answers of public scenario 1 (HR-positive breast cancer) plus priorities: "a typical plan".
TYPICAL = {
    "primary_cancer": "breast", "hormone_receptor": "positive", "organ_spread": "no",
    "bone_sites": ["spine"], "site_count": "two_to_five", "painful_sites": "one_or_two",
    "bone_damage": ["none_known"], "prior_treatments": ["none"],
    "activity_level": "light_activity", "kidney_function": "normal",
    "dental_health": "checked_ok", "pain_control": "partly_controlled",
    "symptoms_now": ["none"], "priorities": ["fewest_visits", "stay_mobile"],
}

PHONE = {"width": 375, "height": 667}


def serve_app(config: dict | None = None):
    """Start the app on a free local port in a daemon thread. Returns (base url, server)."""
    from werkzeug.serving import make_server

    from app import create_app
    app = create_app(config or {"TESTING": True, "SECRET_KEY": "browser-tests"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def fill(page, answers: dict) -> None:
    """Fill the questionnaire on the current page by clicking, as a person would."""
    for name, value in answers.items():
        if name == "pain_score":
            page.fill(f'input[name="{name}"]', str(value))
            continue
        for v in (value if isinstance(value, list) else [value]):
            page.check(f'input[name="{name}"][value="{v}"]')


def results_page(page, answers: dict, url: str = "/questionnaire"):
    """Fill the one-page form with ``answers`` and press "See my options"."""
    page.goto(url)
    fill(page, answers)
    with page.expect_navigation():
        page.get_by_role("button", name="See my options").click()
    return page


def summary_page(page, answers: dict):
    """Results for ``answers``, then "Print my summary"."""
    results_page(page, answers)
    with page.expect_navigation():
        page.get_by_role("button", name="Print my summary").click()
    return page


def pdf_page_count(path: str) -> int:
    """Pages in a PDF: pdfinfo if present, else count the page objects."""
    try:
        out = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Pages:"):
                return int(line.split()[1])
    except (OSError, subprocess.CalledProcessError):
        pass
    import re
    with open(path, "rb") as fh:
        return len(re.findall(rb"/Type\s*/Page(?![s\w])", fh.read()))
