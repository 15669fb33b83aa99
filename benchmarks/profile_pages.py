"""Where the time of the results page and the summary goes: cProfile through the test client.

    python benchmarks/profile_pages.py [--requests 200] [--pages /plan /summary] [--langs en es]
                                       [--top 25] [--sort tottime]

Pre-makes ``--requests`` answers cookies of random answer sets (benchmarks/_common.py
``kept_cookies``: the app's own carry code), then, for each page and language, renders the GET
page from them unprofiled (each answer set ``--repeat`` times: the median over the answer sets
of each one's least CPU time of this process, which other work on the machine moves least) and
once under cProfile, and prints the top functions. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time

from _common import kept_cookies

from app import create_app
from bonemets.views import carry


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--pages", nargs="+", default=["/plan", "/summary"])
    ap.add_argument("--langs", nargs="+", default=["en", "es"])
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--sort", default="tottime")
    ap.add_argument("--repeat", type=int, default=3, help="renders of each answer set (default 3)")
    ap.add_argument("--no-profile", action="store_true", help="only the timings")
    args = ap.parse_args(argv)
    key = "profile-pages"
    cookies = kept_cookies(key, args.requests)
    app = create_app({"TESTING": True, "SECRET_KEY": key})
    client = app.test_client()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.requests} random kept answer sets")

    def run(path, lang, repeat=1):
        """CPU ms per answer set: the least of ``repeat`` renders of it (other work on a shared
        machine only ever adds time)."""
        times = []
        for value in cookies:
            client.set_cookie(carry.COOKIE, value)
            best = None
            for _ in range(repeat):
                t = time.process_time()
                r = client.get(path, headers={"Accept-Language": lang})
                ms = (time.process_time() - t) * 1000
                best = ms if best is None else min(best, ms)
                if r.status_code != 200:
                    sys.exit(f"GET {path} answered {r.status_code}")
            times.append(best)
        return times

    for path in args.pages:
        for lang in args.langs:
            run(path, lang)  # warm: templates compiled, caches filled
            times = run(path, lang, args.repeat)
            print(f"GET {path} ({lang}): median {statistics.median(times):.2f} ms CPU "
                  f"(each answer set's best of {args.repeat}), "
                  f"p90 {sorted(times)[int(len(times) * 0.9)]:.2f} ms")
            if args.no_profile:
                continue
            prof = cProfile.Profile()
            prof.enable()
            run(path, lang)
            prof.disable()
            pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
