"""PDFs rendered in a helper process (bonemets/pdf_pool.py, PDF_PROCESS): the same PDF as rendered
in the worker's thread (two pages, the summary's words), the slot given back, and a helper that
dies or hangs costs one quick 503 with Retry-After, not the worker: the next PDF gets a new
helper. (benchmarks/pdf_load.py measures what it does for the other pages.)"""
from __future__ import annotations

import os
import re
import subprocess

import pytest

from app import create_app
from bonemets import pdf_pool as pdf
from bonemets.views.pages import pdf_slots


@pytest.fixture(scope="module")
def process_app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "PDF_PROCESS": True, "PDF_SLOTS": 1})


def _text(data: bytes, tmp_path, name: str) -> tuple[int, str]:
    path = tmp_path / name
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1)), text


def test_a_pdf_from_the_helper_is_the_pdf_of_the_worker(process_app, app, typical, tmp_path):
    r = process_app.test_client().post("/summary.pdf", data=typical)
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert pdf._POOL, "rendered by the helper pool"
    here = app.test_client().post("/summary.pdf", data=typical)  # TESTING: in the thread
    assert here.status_code == 200
    pages, text = _text(r.data, tmp_path, "helper.pdf")
    assert (pages, text) == _text(here.data, tmp_path, "thread.pdf")
    assert pages == 2 and "My discussion summary" in text
    with process_app.app_context():
        slots = pdf_slots()
    assert slots.acquire(blocking=False), "the slot is given back"
    slots.release()


def test_the_helper_gives_way_to_the_worker(process_app, typical):
    """The helper runs at a lower priority (nice) than the worker that serves the pages."""
    assert process_app.test_client().post("/summary.pdf", data=typical).status_code == 200
    helpers = list(pdf._POOL[os.getpid()]._processes)
    assert helpers
    mine = os.nice(0)
    if mine >= 19:
        pytest.skip("this test runs at the lowest priority already: no room below it")
    for pid in helpers:
        theirs = os.getpriority(os.PRIO_PROCESS, pid)
        assert theirs > mine and theirs == min(19, mine + pdf.HELPER_NICE)


def test_a_helper_that_dies_costs_one_503_and_is_replaced(process_app, typical):
    client = process_app.test_client()
    assert client.post("/summary.pdf", data=typical).status_code == 200
    pool = next(iter(pdf._POOL.values()))
    for proc in list(pool._processes.values()):
        proc.kill()
    r = client.post("/summary.pdf", data=typical)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert r.headers["Cache-Control"] == "no-store"
    r = client.post("/summary.pdf", data=typical)
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert next(iter(pdf._POOL.values())) is not pool


def test_a_pdf_that_takes_too_long_gets_503_and_the_slot_back(typical):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                      "PDF_PROCESS": True, "PDF_SLOTS": 1, "PDF_TIMEOUT": 0.001})
    r = app.test_client().post("/summary.pdf", data=typical)
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    with app.app_context():
        slots = pdf_slots()
    assert slots.acquire(blocking=False)
    slots.release()


def test_off_by_default_on_when_asked(app, monkeypatch):
    from bonemets.views.pages import pdf_process
    monkeypatch.delenv("BONEMETS_PDF_PROCESS", raising=False)
    prod = create_app({"SECRET_KEY": "test"})
    for a in (app, prod):
        with a.app_context():
            assert pdf_process() is False
    monkeypatch.setenv("BONEMETS_PDF_PROCESS", "1")
    with prod.app_context():
        assert pdf_process() is True
    with create_app({"SECRET_KEY": "test", "PDF_PROCESS": False}).app_context():
        assert pdf_process() is False  # the config wins over the environment
