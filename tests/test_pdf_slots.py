"""PDFs rendered at once per process are bounded (PDF_SLOTS): a PDF asked for while every slot
is taken gets a quick 503 page with Retry-After, the caveat and the security headers, and the
next one after a slot is free is rendered. (benchmarks/pdf_load.py measures what this does for
the other pages; nothing here is timed.)"""
from __future__ import annotations

import threading
import time

import pytest

from app import create_app
from bonemets import messages as msg
from bonemets.views.pages import pdf_queue, pdf_slots
from conftest import TYPICAL


@pytest.fixture(scope="module")
def one_slot_app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "PDF_SLOTS": 1, "PDF_WAIT": 0})  # the queue's wait is 0: a 503 at once


def test_a_pdf_while_the_slot_is_taken_gets_503_with_retry_after(one_slot_app, rulebook, typical):
    client = one_slot_app.test_client()
    with one_slot_app.app_context():
        slots = pdf_slots()
    assert slots.acquire(blocking=False)  # another request is rendering
    try:
        r = client.post("/summary.pdf", data=typical)
    finally:
        slots.release()
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "2"
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert str(msg.HTTP_ERRORS[503]) in html
    assert "Nothing you entered has been stored" in html  # the words of nginx's own 429
    assert rulebook.caveat in html
    assert r.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]

    r = client.post("/summary.pdf", data=typical)  # the slot is free again
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert slots.acquire(blocking=False), "the slot is given back after a PDF"
    slots.release()


def test_the_slot_is_given_back_when_rendering_fails(one_slot_app, monkeypatch, typical):
    import bonemets.pdf_pool

    def broken(*a, **k):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(bonemets.pdf_pool, "render_pdf", broken)
    client = one_slot_app.test_client()
    r = client.post("/summary.pdf", data=typical)
    assert r.status_code == 500
    with one_slot_app.app_context():
        slots = pdf_slots()
    assert slots.acquire(blocking=False)
    slots.release()


def test_invalid_answers_are_reshown_without_taking_a_slot(one_slot_app):
    with one_slot_app.app_context():
        slots = pdf_slots()
    assert slots.acquire(blocking=False)
    try:
        r = one_slot_app.test_client().post("/summary.pdf", data={"pain_score": "99"})
    finally:
        slots.release()
    assert r.status_code == 400  # the form again, not a 503


def test_no_limit_when_slots_is_zero():
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                      "PDF_SLOTS": 0})
    with app.app_context():
        assert pdf_slots() is None


@pytest.fixture(scope="module")
def queue_app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "PDF_SLOTS": 1, "PDF_QUEUE": 1, "PDF_WAIT": 20})


def _wait_until(check, timeout=10.0):
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def _taken(semaphore) -> bool:
    """Every place of ``semaphore`` is taken (read without taking one: taking it to look
    could make the request that is about to wait find the queue full)."""
    return semaphore._value == 0


def test_one_pdf_waits_for_the_slot_and_any_more_get_503_at_once(queue_app, typical):
    """PDF_QUEUE: one PDF asked for while the slot is taken waits for it (and is rendered); a
    second one meanwhile does not hold another thread: its 503 comes at once."""
    with queue_app.app_context():
        slots, queue = pdf_slots(), pdf_queue()
    assert slots.acquire(blocking=False)  # another request is rendering
    waiting = {}

    def ask():
        waiting["r"] = queue_app.test_client().post("/summary.pdf", data=typical)

    t = threading.Thread(target=ask)
    try:
        t.start()
        _wait_until(lambda: _taken(queue))  # the first one waits in the queue
        start = time.monotonic()
        r = queue_app.test_client().post("/summary.pdf", data=typical)
        assert r.status_code == 503 and r.headers["Retry-After"] == "2"
        assert time.monotonic() - start < 5, "the second one did not wait for the slot"
        assert t.is_alive(), "the first one is still waiting"
    finally:
        slots.release()
        t.join(60)
    assert waiting["r"].status_code == 200 and waiting["r"].data.startswith(b"%PDF")
    assert slots.acquire(blocking=False) and queue.acquire(blocking=False)
    slots.release()
    queue.release()


def test_no_queue_means_a_503_at_once():
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                      "PDF_SLOTS": 1, "PDF_QUEUE": 0, "PDF_WAIT": 20})
    with app.app_context():
        slots = pdf_slots()
        assert pdf_queue() is None
    assert slots.acquire(blocking=False)
    try:
        start = time.monotonic()
        r = app.test_client().post("/summary.pdf", data=TYPICAL)
    finally:
        slots.release()
    assert r.status_code == 503 and time.monotonic() - start < 5
