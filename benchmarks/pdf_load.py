"""Do PDFs starve the other pages? /healthz latency while 16 clients ask for PDFs at once.

    python benchmarks/pdf_load.py [--duration 15] [--clients 16] [--settings 1:1 1:0 0:0]

For each setting SLOTS:PROCESS (BONEMETS_PDF_SLOTS: PDFs rendered at once per process, 0 means
no limit; BONEMETS_PDF_PROCESS: 1 renders them in the worker's helper process, 0 in the
request's own thread, bonemets/pdf_pool.py), starts the app under ``gunicorn -c deploy/gunicorn.conf.py`` on a free 127.0.0.1 port,
then measures /healthz with wrk (one connection, requests back to back) three ways: alone, and
while ``--clients`` client threads each post /summary.pdf over and over (a fresh random answer
set each time, with a real CSRF token; after a 503 a client waits the Retry-After it was given,
as a browser's person would, capped at 1 s). Before measuring, PDFs are asked for until each
worker has rendered some (WeasyPrint is imported, and the helper started, on a process's first
PDF). With ``--cpu-floor``, also /healthz beside two busy loops at the helpers' lower priority
and no PDFs: what two busy cores alone cost the other pages. Prints /healthz p50/p99 alone and
under PDF load,
and the PDFs served (200), turned away (503) and failed, with the PDFs' own p50. Nothing is
asserted.
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from _common import (HOST, ROOT, GunicornConf, csrf_session, form_body, print_table,
                     secret_env)
from load import load_vocab, wrk, write_script

from bonemets.rules import load_rulebook
from bonemets.scenarios import random_answers


def pdf_clients(port: int, token: str, cookie: str, n: int, stop: threading.Event) -> dict:
    rb = load_rulebook(os.path.join(ROOT, "rules"))
    out = {"ok": [], "busy": 0, "failed": 0}
    lock = threading.Lock()

    def client(seed):
        rng = random.Random(seed)
        conn = None
        while not stop.is_set():
            body = form_body(random_answers(rb, rng), {"csrf_token": token})
            t = time.perf_counter()
            try:
                conn = conn or http.client.HTTPConnection(HOST, port, timeout=30)
                conn.request("POST", "/summary.pdf", body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
                r = conn.getresponse()
                r.read()
                status, retry = r.status, r.getheader("Retry-After")
            except OSError:
                conn, status, retry = None, None, None
            ms = (time.perf_counter() - t) * 1000
            with lock:
                if status == 200:
                    out["ok"].append(ms)
                elif status == 503:
                    out["busy"] += 1
                else:
                    out["failed"] += 1
            if status == 503:
                stop.wait(min(1.0, float(retry or 1)))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    out["threads"] = threads
    return out


def cpu_floor(script: str, args) -> list:
    """/healthz alone and beside two busy loops at the helpers' priority (no PDFs)."""
    from bonemets.pdf_pool import HELPER_NICE
    busy = "import os\nos.nice(%d)\nwhile True: pass\n" % HELPER_NICE
    with GunicornConf(None, cwd=ROOT, env=secret_env(),
                      args=[] if args.max_requests is None
                      else ["--max-requests", str(args.max_requests)]) as app:
        app.wait_ready("/healthz")
        alone = wrk(app, "/healthz", script, args.duration, 1, 1)
        loops = [subprocess.Popen([sys.executable, "-c", busy]) for _ in range(2)]
        try:
            time.sleep(0.5)
            during = wrk(app, "/healthz", script, args.duration, 1, 1)
        finally:
            for p in loops:
                p.kill()
                p.wait()
    return [f"two busy loops at nice {HELPER_NICE}, no PDFs", f"{alone['p50_us'] / 1000:.1f}",
            f"{alone['p99_us'] / 1000:.1f}", f"{during['p50_us'] / 1000:.1f}",
            f"{during['p99_us'] / 1000:.1f}", int(during["non2xx"] + during["socket"]), "-", "-",
            "-", "-"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=15, help="seconds a measurement (default 15)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--max-requests", type=int, metavar="N",
                    help="override the config's max_requests (0: never recycle a worker; a "
                         "worker restarting during the run stalls the connections it had)")
    ap.add_argument("--settings", nargs="+", default=["1:1", "1:0", "0:0"],
                    help="SLOTS:PROCESS settings to compare (default: 1:1 1:0 0:0)")
    ap.add_argument("--cpu-floor", action="store_true",
                    help="also measure /healthz while two lower-priority busy loops (nice 10, "
                         "like the PDF helpers) keep both cores busy: what sharing the cores "
                         "alone costs, the least a PDF could cost the other pages here")
    args = ap.parse_args(argv)
    vocab = load_vocab()
    rows = []
    print(f"{args.clients} PDF clients, {args.duration} s a measurement, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f} before", flush=True)
    with tempfile.TemporaryDirectory(prefix="bonemets-pdfload-") as tmp:
        script = write_script(tmp, "get", "get", vocab)
        for setting in args.settings:
            slots, process = (int(x) for x in setting.split(":"))
            env = {**secret_env(), "BONEMETS_PDF_SLOTS": str(slots),
                   "BONEMETS_PDF_PROCESS": str(process)}
            extra = [] if args.max_requests is None else ["--max-requests", str(args.max_requests)]
            with GunicornConf(None, cwd=ROOT, env=env, args=extra) as app:
                app.wait_ready("/healthz")
                token, cookie = csrf_session(app.port)
                # WeasyPrint is imported on a process's first PDF: not measured. Warm until
                # both workers (and their helpers) have rendered a few, or 60 s.
                warm = threading.Event()
                w = pdf_clients(app.port, token, cookie, 4, warm)
                deadline = time.monotonic() + 60
                while len(w["ok"]) < 8 and time.monotonic() < deadline:
                    time.sleep(0.2)
                warm.set()
                for t in w["threads"]:
                    t.join(timeout=30)
                alone = wrk(app, "/healthz", script, args.duration, 1, 1)
                stop = threading.Event()
                load = pdf_clients(app.port, token, cookie, args.clients, stop)
                time.sleep(1)
                during = wrk(app, "/healthz", script, args.duration, 1, 1)
                stop.set()
                for t in load["threads"]:
                    t.join(timeout=30)
            label = (f"PDF_SLOTS={slots}" + (" (no limit)" if slots == 0 else "")
                     + (", helper process" if process else ", in the thread"))
            ok = load["ok"]
            none = f"none in {args.duration} s"  # wrk saw no answer at all
            rows.append([label, f"{alone['p50_us'] / 1000:.1f}", f"{alone['p99_us'] / 1000:.1f}",
                         f"{during['p50_us'] / 1000:.1f}" if during["requests"] else none,
                         f"{during['p99_us'] / 1000:.1f}" if during["requests"] else none,
                         int(during["non2xx"] + during["socket"]), len(ok), load["busy"],
                         load["failed"], f"{statistics.median(ok):.0f}" if ok else "-"])
            print(f"  {label}: {during['requests']:.0f} /healthz answers under PDF load", flush=True)
        if args.cpu_floor:
            rows.append(cpu_floor(script, args))
    print()
    print_table(["setting", "healthz p50 alone", "p99 alone", "p50 with PDFs", "p99 with PDFs",
                 "healthz errors", "PDFs 200", "PDFs 503", "PDFs failed", "PDF p50 ms"], rows)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
