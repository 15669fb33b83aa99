"""The results page and the comparison in a real browser: a typical page fits in about 12 phone
screens before the folded detail, "I don't know" leads with its questions, and the comparison
works at 375px (stacked, nothing cut, no sideways scroll) and at 1280px (full width, row labels
in view), with options chosen by checkboxes and no JavaScript."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .browser_helpers import PHONE, TYPICAL, results_page

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
SCREENS = 13.0  # "about 12 phone screens": 12.7 after the language switch, answers-kept box and icon-array key (2026-12-01)
ALL_UNKNOWN = {"primary_cancer": "unknown", "organ_spread": "unknown", "site_count": "unknown",
               "bone_damage": ["unknown"], "activity_level": "unknown", "pain_control": "unknown"}


def _closed_height(page: Page) -> int:
    return page.evaluate("() => { document.querySelectorAll('details[open]').forEach(d => d.open = false);"
                         " return document.documentElement.scrollHeight; }")


def test_a_typical_results_page_is_about_12_phone_screens(page: Page):
    """The options, comparison and questions (everything but the decision box and its explainer
    at the top, branch "decide") fit in about 12 phone screens with the detail folded."""
    page.set_viewport_size(PHONE)
    results_page(page, TYPICAL)
    h = _closed_height(page)
    top = page.evaluate("() => ['#decision', '#explainer'].map(s => document.querySelector(s))"
                        ".filter(Boolean).reduce((n, e) => n + e.getBoundingClientRect().height, 0)")
    assert h - top <= SCREENS * PHONE["height"], f"{h - top}px is {(h - top) / PHONE['height']:.1f} phone screens"
    assert h <= 16 * PHONE["height"], f"{h}px in all, with the decision box"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_dont_know_answers_lead_with_their_questions(page: Page):
    page.set_viewport_size(PHONE)
    results_page(page, ALL_UNKNOWN)
    q = page.locator("#questions").bounding_box()
    first_option = page.locator("article[data-option]").first.bounding_box()
    assert q["y"] < first_option["y"]
    expect(page.locator("#questions li").first).to_be_visible()


def _open_compare(page: Page):
    details = page.locator("details.compare")
    if not details.evaluate("d => d.open"):
        details.locator("summary").click()


def _choose(page: Page, ids: list):
    _open_compare(page)
    for box in page.locator(".compare-form input[name=compare]").all():
        box.set_checked(False)
    for i in ids:
        page.check(f".compare-form input[name=compare][value='{i}']")
    with page.expect_navigation():
        page.get_by_role("button", name="Compare these options").click()


def test_comparison_on_a_phone_is_stacked_with_nothing_cut(page: Page):
    page.set_viewport_size(PHONE)
    results_page(page, TYPICAL)
    expect(page.locator("details.compare summary")).to_have_text("Show the table of 3 options")
    _open_compare(page)
    table = page.locator("#compare .option-grid")
    expect(table).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Nothing is cut: every cell fits inside the screen and shows all its text.
    cut = page.evaluate("""() => [...document.querySelectorAll('#compare .option-grid th, #compare .option-grid td')]
        .filter(e => { const r = e.getBoundingClientRect();
          return r.left < 0 || r.right > window.innerWidth + 0.5 || e.scrollWidth > e.clientWidth + 1; })
        .map(e => e.textContent.slice(0, 40))""")
    assert not cut, cut
    # Each answer says which option it is about, under its question.
    first_cell = table.locator("tbody tr").first.locator("td").first
    expect(first_cell.locator(".cell-option")).to_be_visible()
    labels = table.locator("tbody th[scope=row]")
    expect(labels.filter(has_text="Possible benefits")).to_be_visible()
    expect(labels.filter(has_text="Possible downsides")).to_be_visible()


def test_comparison_on_a_desktop_is_full_width_with_row_labels_in_view(page: Page):
    page.set_viewport_size(DESKTOP)
    results_page(page, TYPICAL)
    boxes = page.locator(".compare-form input[name=compare]")
    ids = [boxes.nth(i).get_attribute("value") for i in range(boxes.count())]
    assert len(ids) >= 5
    chosen = ids[:5]
    picked = [page.locator(f"label[for='compare-{i}']").text_content().split(" (")[0].strip() for i in chosen]
    _choose(page, chosen)
    table = page.locator("#compare .option-grid")
    expect(table).to_be_visible()  # opened after a choice
    heads = table.locator("thead th").all_inner_texts()
    assert len(heads) == 1 + len(picked)
    for n in picked:
        assert any(h.startswith(n) for h in heads), (n, heads)
    box = table.bounding_box()
    assert box["width"] >= 0.9 * DESKTOP["width"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    region = page.locator("#compare .grid-scroll")
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    # The row labels stay in view (a sticky first column).
    assert table.locator("tbody th[scope=row]").first.evaluate("e => getComputedStyle(e).position") == "sticky"
    # Choose one: the summary's grammar and the table follow.
    _choose(page, [chosen[1]])
    expect(page.locator("details.compare summary")).to_have_text("Show the table of 1 option")
    assert len(table.locator("thead th").all_inner_texts()) == 2


def test_the_same_rows_on_screen_and_in_print(page: Page):
    page.set_viewport_size(DESKTOP)
    results_page(page, TYPICAL)
    screen = page.locator("#compare .option-grid tbody th[scope=row]").all_text_contents()
    with page.expect_navigation():
        page.get_by_role("button", name="Print my summary").click()
    page.emulate_media(media="print")
    printed = page.locator(".option-grid--print tbody th[scope=row]").all_text_contents()
    assert [s.strip() for s in screen] == [p.strip() for p in printed]
    assert "Possible benefits" in " ".join(printed) and "Possible downsides" in " ".join(printed)
