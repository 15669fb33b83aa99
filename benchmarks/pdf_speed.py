"""How long the typical summary takes as a PDF, against the same summary as HTML, in one run.

    python benchmarks/pdf_speed.py [--runs 9]

Posts the typical answers (public scenario 1) to /summary.pdf, and renders the same summary as
HTML (GET /summary from the answers cookie that POST /summary keeps: post/redirect/get), through
the Flask test client (CSRF off; no network), after one unmeasured call of each (WeasyPrint is
imported lazily on the first PDF). Prints the median, min and max of each (wall clock), the median CPU
time of this process per request (less moved by other work on a shared machine than the wall
clock), the ratio, and the load average. Target: PDF median < 200 ms. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _common import form_body, print_table, typical_answers

from app import create_app


CPU: dict = {}


def timed(client, path: str, body: str, runs: int) -> tuple[list, int]:
    """``runs`` POSTs of ``path``; for /summary, the GET page it redirects to (the answers
    cookie set by one untimed POST)."""
    times, size = [], 0
    if path == "/summary":
        r = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        if r.status_code != 303:
            sys.exit(f"POST {path} answered {r.status_code}, not 303")
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        if path == "/summary":
            r = client.get(path)
        else:
            r = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        times.append((time.perf_counter() - t) * 1000)
        CPU.setdefault(path, []).append((time.process_time() - c) * 1000)
        if r.status_code != 200:
            sys.exit(f"{path} answered {r.status_code}")
        size = len(r.data)
    return times, size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="then profile N more PDFs with cProfile and print the top 40 functions")
    args = ap.parse_args(argv)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "benchmark"})
    client = app.test_client()
    body = form_body(typical_answers())

    t = time.perf_counter()
    timed(client, "/summary.pdf", body, 1)
    first = (time.perf_counter() - t) * 1000
    timed(client, "/summary", body, 1)

    CPU.clear()
    html, pdf = [], []
    for _ in range(args.runs):  # interleaved, so a busy moment hits both alike
        h, html_size = timed(client, "/summary", body, 1)
        p, pdf_size = timed(client, "/summary.pdf", body, 1)
        html += h
        pdf += p
    hm, pm = statistics.median(html), statistics.median(pdf)
    pc, hc = statistics.median(CPU["/summary.pdf"]), statistics.median(CPU["/summary"])
    print(f"{args.runs} runs each, interleaved; first PDF (with the WeasyPrint import) {first:.0f} ms; "
          f"load average {os.getloadavg()[0]:.2f}\n")
    print_table(["what", "median ms", "min", "max", "CPU ms", "size KB", "x HTML", "target"], [
        ["POST /summary.pdf", f"{pm:.0f}", f"{min(pdf):.0f}", f"{max(pdf):.0f}", f"{pc:.0f}",
         f"{pdf_size / 1024:.0f}", f"{pm / hm:.0f}x", "< 200 ms " + ("met" if pm < 200 else "MISSED")],
        ["GET /summary (HTML)", f"{hm:.1f}", f"{min(html):.1f}", f"{max(html):.1f}", f"{hc:.1f}",
         f"{html_size / 1024:.0f}", "1x", ""],
    ])
    if args.profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        timed(client, "/summary.pdf", body, args.profile)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumtime").print_stats(40)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
