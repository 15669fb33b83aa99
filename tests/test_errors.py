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


def test_a_language_is_a_catalog_and_a_setting(tmp_path):
    """A Spanish catalog needs no code: compile one message and ask for Spanish."""
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from app import create_app

    catalog = Catalog(locale="es")
    catalog.add("Enter a whole number from %(min)s to %(max)s.",
                "Escriba un número entero de %(min)s a %(max)s.")
    catalog.add("We could not find that page.", "No encontramos esa página.")
    mo = tmp_path / "es" / "LC_MESSAGES"
    mo.mkdir(parents=True)
    with open(mo / "messages.mo", "wb") as fh:
        write_mo(fh, catalog)
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "LANGUAGES": ["en", "es"], "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path)})
    c = app.test_client()
    es = c.post("/api/plan", json={"pain_score": 11}, headers={"Accept-Language": "es"}).get_json()
    assert es["errors"]["pain_score"] == "Escriba un número entero de 0 a 10."
    en = c.post("/api/plan", json={"pain_score": 11}).get_json()
    assert en["errors"]["pain_score"] == "Enter a whole number from 0 to 10."
    assert "No encontramos esa página." in c.get("/nowhere?lang=es").get_data(as_text=True)
