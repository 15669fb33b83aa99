"""The discussion summary as a PDF, rendered server-side with WeasyPrint.

WeasyPrint takes about half a second to import, so this module is imported only when a PDF is
asked for; start-up and every other page stay fast. The PDF may load only the app's own
``/static/`` files, read from disk: it never reaches the network.

A PDF is a quarter of a second or more of CPU in pure Python. Rendered in a thread of the web
worker it holds the worker's GIL, and every other request of that process (the other pages,
/healthz) waits for it in turns. ``render_pdf(..., separate_process=True)`` (``BONEMETS_PDF_PROCESS=1``,
``views/pages.py``; off by default) renders it instead in a small pool of helper processes
of the worker (``multiprocessing`` "spawn": a fresh interpreter, no copied threads or locks),
so the worker's threads only wait on a pipe; the operating system shares the cores between the
helper and the web threads. The pool has as many processes as the worker has PDF slots; each
is replaced after ``MAX_PER_CHILD`` PDFs (memory) or if it dies. Only the page's HTML goes to
the helper and only the PDF's bytes come back; nothing is written anywhere.
"""
from __future__ import annotations

import gc
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
import multiprocessing

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, path2url

from .paths import STATIC_DIR as STATIC

_FONTS = FontConfiguration()
# The stylesheets are parsed once per process, not on every PDF (the page does not link them
# when it is rendered for the PDF).
_STYLESHEETS = [CSS(filename=os.path.join(STATIC, name), font_config=_FONTS)
                for name in ("style.css", "language.css", "print.css")]


class StaticOnlyFetcher(URLFetcher):
    """Serve ``/static/`` URLs from disk; refuse everything else."""

    def __init__(self):
        super().__init__(allowed_protocols={"file"})

    def fetch(self, url, headers=None):
        marker = "/static/"
        if marker in url:
            rel = url.split(marker, 1)[1].split("?", 1)[0]
            path = os.path.normpath(os.path.join(STATIC, rel))
            if path.startswith(STATIC + os.sep) and os.path.isfile(path):
                return super().fetch(path2url(path), headers)
        raise ValueError(f"refusing to fetch {url!r} while rendering a PDF")


# The page size of the PDF (the browser's print dialog chooses its own).
_PAPER = {name: CSS(string=f"@page {{ size: {size}; }}", font_config=_FONTS)
          for name, size in (("a4", "A4"), ("letter", "letter"))}


def _render(html: str, base_url: str, paper: str = "a4") -> bytes:
    """The PDF, in this process."""
    # A render makes hundreds of thousands of short-lived objects; pausing the cycle collector
    # for its ~0.25 s makes it about 15% faster (measured in benchmarks/pdf_speed.py). Memory is
    # still freed by reference counting, and any cycles at the next collection.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return HTML(string=html, base_url=base_url, url_fetcher=StaticOnlyFetcher()).write_pdf(
            stylesheets=[*_STYLESHEETS, _PAPER.get(paper, _PAPER["a4"])], font_config=_FONTS)
    finally:
        if was_enabled:
            gc.enable()


class Busy(RuntimeError):
    """The helper process did not answer in time or died: try again shortly."""


MAX_PER_CHILD = 200
# How much lower the helper's priority is than the worker's (Linux nice, 0-19): with both cores
# busy, the operating system runs the worker's threads (the other pages, /healthz) first and the
# PDF with the time left, instead of sharing the cores evenly between them.
HELPER_NICE = 10
_POOL: dict = {}
_POOL_LOCK = threading.Lock()


def _helper_start(nice: int = HELPER_NICE) -> None:
    """Run in each helper process as it starts: give way to the web worker."""
    try:
        os.nice(nice)
    except OSError:  # not allowed here: the helper runs at the worker's priority
        pass


def _pool(size: int) -> ProcessPoolExecutor:
    """This process's helper pool (made on its first PDF; a forked child makes its own)."""
    with _POOL_LOCK:
        pool = _POOL.get(os.getpid())
        if pool is None:
            pool = _POOL[os.getpid()] = ProcessPoolExecutor(
                max_workers=max(1, size), mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=MAX_PER_CHILD, initializer=_helper_start)
        return pool


def _drop_pool(pool) -> None:
    """Stop using ``pool``: its processes are ended (one may be stuck) and the next PDF makes a
    new one."""
    with _POOL_LOCK:
        if _POOL.get(os.getpid()) is pool:
            del _POOL[os.getpid()]
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def render_pdf(html: str, base_url: str, paper: str = "a4", separate_process: bool = False,
               processes: int = 1, timeout: float = 20.0) -> bytes:
    """The summary page's HTML as PDF bytes: in this process, or (``separate_process``) in the
    helper pool of ``processes`` processes, waiting at most ``timeout`` seconds (then
    :class:`Busy`; a helper that died is replaced for the next PDF)."""
    if not separate_process:
        return _render(html, base_url, paper)
    pool = _pool(processes)
    try:
        return pool.submit(_render, html, base_url, paper).result(timeout=timeout)
    except BrokenProcessPool as e:
        _drop_pool(pool)
        raise Busy("the PDF helper process stopped") from e
    except TimeoutError as e:
        _drop_pool(pool)  # a helper stuck on one PDF is not given the next
        raise Busy("the PDF took too long") from e
