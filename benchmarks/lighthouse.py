"""Lighthouse audit of the start page, the one-page form and the results page.

    python benchmarks/lighthouse.py            # prints a table; exit 1 if below target
    python benchmarks/lighthouse.py --json out.json

What it does:

1. Starts the app under gunicorn on 127.0.0.1 (a free port; a throwaway SECRET_KEY in the
   environment), the way it runs in production, and waits for /healthz.
2. Installs Lighthouse 12 with npm into ``benchmarks/.lighthouse`` if it is not there yet
   (git-ignored; Lighthouse 13 needs a newer Node than Debian's).
3. ``GET /`` and ``GET /questionnaire``: the Lighthouse CLI, ``CHROME_PATH=/usr/bin/chromium``,
   ``--chrome-flags="--headless --no-sandbox"``.
4. The results page only exists as the answer to ``POST /plan`` (with a CSRF token bound to
   the session cookie), so a plain Lighthouse URL cannot reach it, and ``--extra-headers``
   cannot turn a GET into a POST. Instead ``benchmarks/lighthouse_flow.mjs`` runs a Lighthouse
   *user flow*: puppeteer-core (which ships with Lighthouse) opens ``/questionnaire``, ticks the
   answers of a typical plan (public scenario 1 plus two priorities) and Lighthouse audits the
   navigation caused by pressing "See my options". That is a full navigation report of the real
   POST response, and the app needs no extra route.

Lighthouse's defaults are kept: mobile form factor with simulated slow 4G and CPU throttling.
Targets: accessibility 1.00, best practices 1.00, performance >= 0.95 (SEO is reported).
About 15 s a page.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PREFIX = os.path.join(HERE, ".lighthouse")
LH_BIN = os.path.join(PREFIX, "node_modules", ".bin", "lighthouse")
FLOW = os.path.join(HERE, "lighthouse_flow.mjs")
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
TARGETS = {"performance": 0.95, "accessibility": 1.0, "best-practices": 1.0}

sys.path.insert(0, os.path.join(ROOT, "tests", "browser"))
from browser_helpers import TYPICAL  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app() -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SECRET_KEY": secrets.token_hex(32)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "app:create_app()"],
        cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        if proc.poll() is not None:
            sys.exit("gunicorn stopped while starting")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    sys.exit("gunicorn did not answer /healthz within 10 s")


def ensure_lighthouse() -> None:
    if os.path.exists(LH_BIN):
        return
    if not shutil.which("npm"):
        sys.exit("npm is missing: apt-get install -y npm (Node 18 or newer)")
    print("Installing lighthouse@12 into benchmarks/.lighthouse ...", file=sys.stderr)
    subprocess.run(["npm", "install", "--prefix", PREFIX, "--no-audit", "--no-fund",
                    "--loglevel", "error", "lighthouse@12"], check=True)


def lighthouse_get(url: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "report.json")
        subprocess.run(
            [LH_BIN, url, "--quiet", "--output=json", f"--output-path={out}",
             "--chrome-flags=--headless --no-sandbox",
             "--only-categories=" + ",".join(CATEGORIES)],
            check=True, env={**os.environ, "CHROME_PATH": CHROME})
        with open(out) as fh:
            return json.load(fh)


def lighthouse_results_page(base: str) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROME, "LIGHTHOUSE_PREFIX": PREFIX,
           "BONEMETS_URL": base, "BONEMETS_ANSWERS": json.dumps(TYPICAL)}
    out = subprocess.run(["node", FLOW], check=True, env=env, capture_output=True, text=True)
    return json.loads(out.stdout)


def scores(lhr: dict) -> dict:
    return {c: lhr["categories"][c]["score"] for c in CATEGORIES if c in lhr["categories"]}


def failing_audits(lhr: dict, category: str) -> list:
    """Scored audits of a category that did not get full marks (to say what to fix)."""
    out = []
    for ref in lhr["categories"][category]["auditRefs"]:
        a = lhr["audits"][ref["id"]]
        if ref.get("weight", 0) > 0 and a.get("score") is not None and a["score"] < 1:
            out.append(f"{ref['id']} ({a['score']}): {a.get('displayValue') or a['title']}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", help="also write the scores to this file")
    args = ap.parse_args()

    ensure_lighthouse()
    proc, base = start_app()
    try:
        pages = {
            "start (GET /)": lambda: lighthouse_get(base + "/"),
            "one-page form (GET /questionnaire)": lambda: lighthouse_get(base + "/questionnaire"),
            "results (POST /plan, user flow)": lambda: lighthouse_results_page(base),
        }
        table, ok = {}, True
        for name, run in pages.items():
            lhr = run()
            table[name] = scores(lhr)
            for cat, target in TARGETS.items():
                if table[name].get(cat) is None or table[name][cat] < target:
                    ok = False
                    print(f"  {name}: {cat} {table[name].get(cat)} < {target}: "
                          + "; ".join(failing_audits(lhr, cat)), file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    print(f"{'page':40} " + " ".join(f"{c:>14}" for c in CATEGORIES))
    for name, s in table.items():
        print(f"{name:40} " + " ".join(f"{s.get(c, float('nan')):>14.2f}" for c in CATEGORIES))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(table, fh, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
