"""Where the summary's PDF is rendered: in the request's thread, or in a helper process.

A PDF is half a second or more of CPU in pure Python (bonemets/pdf.py, WeasyPrint). Rendered in
a thread of the web worker it holds the worker's GIL, and every other request of that process
(the other pages, /healthz) waits for it in turns. ``render_pdf(..., separate_process=True)``
(``BONEMETS_PDF_PROCESS=1``, on under deploy/gunicorn.conf.py; ``views/pages.py``) renders it
instead in a small pool of helper processes of the worker (``multiprocessing`` "spawn": a fresh
interpreter, no copied threads or locks), so the worker's threads only wait on a pipe. The
helper runs at a lower priority (``HELPER_NICE``), so when the cores are busy the operating
system gives the web threads most of the CPU. The pool has as many processes as the worker has
PDF slots; each is replaced after ``MAX_PER_CHILD`` PDFs (memory) or if it dies. Only the page's
HTML goes to the helper and only the PDF's bytes come back; nothing is written anywhere.

This module does not import WeasyPrint: with the helper, the worker never loads it (about half a
second of CPU under the worker's GIL, and 30 MB, on each worker's first PDF).
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool


class Busy(RuntimeError):
    """The helper process did not answer in time or died: try again shortly."""


MAX_PER_CHILD = 200
# How much lower the helper's priority is than the worker's (Linux nice, 0-19): with both cores
# busy, the operating system gives the worker's threads (the other pages, /healthz) most of the
# CPU (nice is a weight: a helper at +10 beside a busy thread at 0 gets about a tenth of a
# core), instead of sharing the cores evenly between them.
HELPER_NICE = 10
_POOL: dict = {}
_POOL_LOCK = threading.Lock()


def _helper_start(nice: int = HELPER_NICE) -> None:
    """Run in each helper process as it starts: give way to the web worker (lowering one's own
    priority needs no privilege; it stops at 19)."""
    os.nice(nice)


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


def helpers_for(slots: int) -> int:
    """How many helper processes a worker with ``slots`` PDF slots has (0 slots, no limit: 2)."""
    return slots if slots > 0 else 2


def asked_for(environ=os.environ) -> bool:
    """Whether the environment asks for PDFs in a helper: ``BONEMETS_PDF_PROCESS`` set, and
    not to 0 (deploy/gunicorn.conf.py sets it to 1 unless it is given)."""
    return environ.get("BONEMETS_PDF_PROCESS", "") not in ("", "0")


def _render(html: str, base_url: str, paper: str) -> bytes:
    """The PDF, in this process (WeasyPrint is imported here on the first one)."""
    from . import pdf
    return pdf.render(html, base_url, paper)


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
