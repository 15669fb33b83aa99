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


# -- readable print (issue 16): sizes, large print, the page budget, lines to write in, sources --
PT = 96 / 72  # CSS px per pt

SIZES_JS = """() => {
  const out = [];
  for (const e of document.querySelectorAll('main *')) {
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !e.getClientRects().length) continue;
    const s = getComputedStyle(e);
    if (s.display === 'none' || s.visibility === 'hidden') continue;
    out.push([e.tagName + '.' + e.className, parseFloat(s.fontSize), e.matches('.s-option') ? 1 : 0]);
  }
  return out;
}"""


def _sizes(page: Page):
    page.emulate_media(media="print")
    return page.evaluate(SIZES_JS)


def _pages_text(path):
    import subprocess
    out = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True,
                         check=True).stdout
    return [p for p in out.split("\f") if p.strip()]


def test_print_text_is_11pt_and_nothing_below_9pt(page: Page):
    summary_page(page, TYPICAL)
    sizes = _sizes(page)
    assert sizes
    small = [(w, s) for w, s, _ in sizes if s < 9 * PT - 0.01]
    assert not small, small[:5]
    body = [s for w, s, b in sizes if b]
    assert body and min(body) >= 11 * PT - 0.01, min(body)
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 11 * PT - 0.01


def test_large_print_is_14pt_and_nothing_below_12pt(page: Page, tmp_path):
    summary_page(page, TYPICAL)
    with page.expect_navigation():
        page.get_by_role("button", name="Large print").click()
    expect(page.get_by_role("button", name="Standard print")).to_be_visible()
    sizes = _sizes(page)
    small = [(w, s) for w, s, _ in sizes if s < 12 * PT - 0.01]
    assert not small, small[:5]
    body = [s for w, s, b in sizes if b]
    assert min(body) >= 14 * PT - 0.01, min(body)
    out = tmp_path / "large.pdf"
    page.pdf(path=str(out), format="A4")
    assert pdf_page_count(str(out)) <= 4


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_the_last_printed_page_is_not_mostly_empty(page: Page, tmp_path, paper):
    summary_page(page, TYPICAL)
    out = tmp_path / "summary.pdf"
    page.pdf(path=str(out), format=paper)
    pages = _pages_text(str(out))
    if len(pages) > 1:
        lines = [len([ln for ln in p.splitlines() if ln.strip()]) for p in pages]
        assert lines[-1] >= 0.5 * lines[0], lines


def test_print_has_lines_for_name_birth_date_and_appointment(page: Page):
    summary_page(page, TYPICAL)
    page.emulate_media(media="print")
    heads = page.locator(".write-in th").all_inner_texts()
    assert heads == ["Name", "Date of birth", "Appointment date"]
    for cell in page.locator(".write-in td.line").all():
        box = cell.bounding_box()
        assert box and box["width"] > 60


def test_print_lists_every_source_of_the_listed_options_in_full(page: Page):
    from bonemets.paths import RULES_DIR
    from bonemets.rules import load_rulebook
    rb = load_rulebook(RULES_DIR)
    plan = rb.plan(rb.validate_answers(TYPICAL)[0])
    listed = rb.meta["vocabulary"]["listed_groups"]
    keys = {k for o in plan.options if o.group in listed for r in o.reasons for k in r.sources}
    summary_page(page, TYPICAL)
    page.emulate_media(media="print")
    text = page.locator(".s-sources .sources-list").inner_text()
    assert "…" not in text and "..." not in text
    for k in keys:
        assert k in text and plan.sources[k]["url"] in text.replace("\n", ""), k


def test_print_wording_suits_a_phone(page: Page):
    summary_page(page, TYPICAL)
    words = page.locator(".actions").inner_text()
    assert "phone" in words.lower()
    assert "Ctrl+P" not in words
