"""Error handling (bonemets/errors.py): plain words and the caveat, never a traceback."""
from __future__ import annotations


def test_error_page_renders_even_when_templates_break(app, monkeypatch):
    """errors.py: a plain-language page with the caveat even if error.html cannot render."""
    import bonemets.errors as errors

    def broken(*a, **k):
        raise RuntimeError("template broke")

    monkeypatch.setattr(errors, "render_template", broken)
    r = app.test_client().get("/no-such-page")
    assert r.status_code == 404
    html = r.get_data(as_text=True)
    assert "We could not find that page." in html and app.extensions["bonemets"].caveat in html
    assert "Traceback" not in html and html.startswith("<!doctype html>")
