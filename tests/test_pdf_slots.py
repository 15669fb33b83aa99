"""PDFs rendered at once per process are bounded (PDF_SLOTS): a PDF asked for while every slot
is taken gets a quick 503 page with Retry-After, the caveat and the security headers, and the
next one after a slot is free is rendered. (benchmarks/pdf_load.py measures what this does for
the other pages; nothing here is timed.)"""
from __future__ import annotations

import pytest

from app import create_app
from bonemets import messages as msg
from bonemets.views.pages import pdf_slots


@pytest.fixture(scope="module")
def one_slot_app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "PDF_SLOTS": 1, "PDF_WAIT": 0})


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
    import bonemets.pdf

    def broken(*a, **k):
        raise RuntimeError("renderer failed")

    monkeypatch.setattr(bonemets.pdf, "render_pdf", broken)
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
