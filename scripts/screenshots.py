"""Regenerate the screenshots in docs/screenshots/ from the running app.

    python scripts/screenshots.py

Uses the browser tests' set-up (tests/browser/browser_helpers.py): the app served by werkzeug on
a free local port with CSRF on, Debian's /usr/bin/chromium with the same launch flags, and the
same typical plan (public scenario 1 plus the priorities "fewest visits" and "stay mobile").

* results.png        the results page at 1280 px wide (the first 1600 px of the page)
* results-phone.png  the results page at 375 px wide (the first 2000 px of the page)
* summary.png        page 1 of the printed summary: page.pdf(A4), then pdftoppm at 80 dpi
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))

from browser_helpers import (CHROMIUM, CHROMIUM_ARGS, TYPICAL, results_page,  # noqa: E402
                             serve_app, summary_page)

OUT = os.path.join(ROOT, "docs", "screenshots")
MAX_BYTES = 1_000_000


def clip_shot(page, path: str, width: int, height: int) -> None:
    """The top of the page, at most ``height`` CSS px tall."""
    full = page.evaluate("() => document.documentElement.scrollHeight")
    page.screenshot(path=path, full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": min(full, height)})


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium")
    os.makedirs(OUT, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log on the terminal
    base, server = serve_app()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            desktop = browser.new_page(base_url=base, viewport={"width": 1280, "height": 900})
            results_page(desktop, TYPICAL)
            clip_shot(desktop, os.path.join(OUT, "results.png"), 1280, 1600)

            phone = browser.new_page(base_url=base, viewport={"width": 375, "height": 667},
                                     device_scale_factor=1)
            results_page(phone, TYPICAL)
            clip_shot(phone, os.path.join(OUT, "results-phone.png"), 375, 2000)

            summary = browser.new_page(base_url=base)
            summary_page(summary, TYPICAL)
            with tempfile.TemporaryDirectory() as tmp:
                pdf = os.path.join(tmp, "summary.pdf")
                summary.pdf(path=pdf, format="A4")
                subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1",
                                "-singlefile", pdf, os.path.join(OUT, "summary")], check=True)
            browser.close()
    finally:
        server.shutdown()

    for name in ("results.png", "results-phone.png", "summary.png"):
        path = os.path.join(OUT, name)
        size = os.path.getsize(path)
        print(f"{os.path.relpath(path, ROOT)}: {size // 1024} KB")
        if size >= MAX_BYTES:
            print(f"  {name} is over 1 MB", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
