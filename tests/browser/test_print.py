"""The discussion summary as printed by the browser: no buttons, and a typical plan fits on
two A4 pages."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browser_helpers import TYPICAL, pdf_page_count, summary_page

pytestmark = pytest.mark.browser


def test_print_hides_buttons_and_site_chrome(page: Page):
    summary_page(page, TYPICAL)
    expect(page.get_by_role("button", name="Download PDF")).to_be_visible()
    page.emulate_media(media="print")
    for sel in ("button", ".button", ".actions", ".site-header", ".skip-link", "#caveat-top"):
        loc = page.locator(sel)
        for i in range(loc.count()):
            expect(loc.nth(i)).to_be_hidden()
    # What the team needs is still there, with the caveat in the page footer.
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("#s-options")).to_be_visible()
    expect(page.locator(".print-footer")).to_be_visible()
    expect(page.locator(".print-footer")).to_contain_text("This is not medical advice")


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_typical_summary_prints_on_at_most_two_pages(page: Page, tmp_path, paper):
    summary_page(page, TYPICAL)
    out = tmp_path / "summary.pdf"
    page.pdf(path=str(out), format=paper)
    pages = pdf_page_count(str(out))
    assert 1 <= pages <= 2, f"the typical summary prints on {pages} pages"


def test_emergency_summary_puts_the_warning_first_in_print(page: Page, tmp_path):
    summary_page(page, {**TYPICAL, "symptoms_now": ["leg_weakness"]})
    page.emulate_media(media="print")
    first = page.evaluate(
        "() => { const f = document.querySelector('[data-urgency=emergency]');"
        " const s = document.querySelector('#s-situation');"
        " return !!(f && (f.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING)); }")
    assert first
    expect(page.locator("[data-urgency='emergency'] .urgency").first).to_contain_text(
        "Get emergency help now")
