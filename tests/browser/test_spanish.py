"""The whole journey in Spanish on a phone, in real Chromium with CSRF on: a browser that asks
for Spanish (Accept-Language) gets every page in Spanish, the switch changes language without
losing answers, and axe finds nothing on the Spanish start, questionnaire, results and summary."""
from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .browser_helpers import PHONE, TYPICAL, fill

pytestmark = pytest.mark.browser

AXE = Axe()


@pytest.fixture()
def es_page(browser, base_url):
    context = browser.new_context(base_url=base_url, locale="es-MX", viewport=PHONE)
    page = context.new_page()
    yield page
    context.close()


def _no_axe_violations(page: Page):
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    result = AXE.run(page)
    assert result.violations_count == 0, [(v["id"], [n["target"] for n in v["nodes"][:3]])
                                          for v in result.response["violations"]]
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


def _spanish(page: Page):
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator(".translation-notice")).to_contain_text("todavía no ha revisado")
    expect(page.locator(".caveat").first).to_contain_text("Esto no es un consejo médico")


def test_the_whole_journey_in_spanish_on_a_phone(es_page: Page):
    page = es_page
    page.goto("/")
    _spanish(page)
    expect(page.locator(".language-taglines [lang=en]")).to_have_text("This guide is also in English.")
    _no_axe_violations(page)

    page.goto("/questionnaire")
    _spanish(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Preguntas sobre usted y su cáncer")
    expect(page.locator("legend", has_text="¿Dónde empezó su cáncer?")).to_be_visible()
    _no_axe_violations(page)
    fill(page, TYPICAL)
    with page.expect_navigation():
        page.get_by_role("button", name="Ver mis opciones").click()

    _spanish(page)  # results
    expect(page.locator("main")).to_contain_text("Terapia hormonal")
    expect(page.locator("main")).to_contain_text("Opciones de las que se suele hablar")
    _no_axe_violations(page)

    with page.expect_navigation():
        page.locator(f"form[action='/summary'] button[type=submit]").first.click()
    _spanish(page)  # summary
    expect(page.locator("main")).to_contain_text("Mama")
    _no_axe_violations(page)

    with page.expect_download() as dl:
        page.locator("form[action='/summary.pdf'] button[type=submit]").first.click()
    assert dl.value.suggested_filename.endswith(".pdf")


def test_the_switch_keeps_the_answers(es_page: Page):
    page = es_page
    page.goto("/questionnaire?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    fill(page, {"primary_cancer": "prostate", "prostate_status": "castration_resistant"})
    with page.expect_navigation():
        page.get_by_role("button", name="See my options").click()
    expect(page.locator("main")).to_contain_text("Hormone therapy")
    with page.expect_navigation():
        page.locator(".language-switch [lang=es]").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("main")).to_contain_text("Terapia hormonal")
    with page.expect_navigation():
        page.locator(".language-switch [lang=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main")).to_contain_text("Hormone therapy")
    with page.expect_navigation():
        page.locator("form[action='/questionnaire'] button[type=submit]").first.click()
    expect(page.locator('input[name="prostate_status"][value="castration_resistant"]')).to_be_checked()


@pytest.mark.parametrize("path,heading", [
    ("/rules", "El libro de reglas: cómo se eligen las opciones"),
    ("/about", "Acerca de esta guía"),
])
def test_rules_and_about_in_spanish_pass_axe(es_page: Page, path, heading):
    """The rule book page (safety statements and their reasons included) and the about page are
    in Spanish; the titles of sources, in English, are marked lang="en"; axe finds nothing."""
    page = es_page
    page.goto(path)
    _spanish(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    if path == "/rules":
        expect(page.locator("#safety h2")).to_have_text("Reglas de seguridad que todo plan debe cumplir")
        expect(page.locator("#safety-radium-only-prostate")).to_contain_text("Debe cumplirse: La opción")
        expect(page.locator("#safety-radium-only-prostate")).to_contain_text("El radio-223 es solo para")
        cite = page.locator(".sources-list cite").first
        expect(cite.locator("xpath=..")).to_have_attribute("lang", "en")
    else:
        expect(page.locator("#words")).to_have_text("Palabras que puede oír")
    _no_axe_violations(page)
