"""Back and Forward everywhere, emergencies first, and short steps, on a 375 px phone.

The answers travel by post/redirect/get (bonemets/views/carry.py): every page a person can go
Back or Forward to is a GET page, so Chromium never shows "Confirm Form Resubmission" /
ERR_CACHE_MISS, and each page still shows the answers given."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .browser_helpers import PHONE, ROOT, TYPICAL, fill

pytestmark = pytest.mark.browser


def _rulebook():
    from bonemets.rules import load_rulebook
    return load_rulebook(f"{ROOT}/rules")


RB = _rulebook()
TOTAL = len(RB.sections)


def click_and_wait(page: Page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def answers_of(n: int) -> dict:
    return {k: v for k, v in TYPICAL.items() if k in RB.sections[n - 1].fields}


def assert_step_shows_answers(page: Page, n: int) -> None:
    for name, value in answers_of(n).items():
        for v in (value if isinstance(value, list) else [value]):
            expect(page.locator(f'input[name="{name}"][value="{v}"]')).to_be_checked()


def assert_page(page: Page, visit: tuple) -> None:
    """The page is the one visited (not an error page) and still has the answers."""
    kind, title, n = visit
    expect(page).to_have_title(re.compile("^" + re.escape(title)))
    assert "ERR_" not in page.content()
    if kind == "step":
        assert_step_shows_answers(page, n)
    elif kind == "check":
        expect(page.locator("main")).to_contain_text("Breast")
        expect(page.locator("main")).to_contain_text("Spine (backbone or neck)")
    elif kind in ("results", "summary"):
        expect(page.locator('form input[name="primary_cancer"][value="breast"]').first).to_be_attached()
        expect(page.locator('form input[name="bone_sites"][value="spine"]').first).to_be_attached()


def back_and_forward(page: Page, visits: list) -> None:
    for visit in reversed(visits[:-1]):
        page.go_back()
        assert_page(page, visit)
    for visit in visits[1:]:
        page.go_forward()
        assert_page(page, visit)


def test_back_and_forward_through_the_steps_check_results_and_summary(page: Page):
    page.set_viewport_size(PHONE)
    page.goto("/")
    visits = [("start", "Start", 0)]
    click_and_wait(page, page.get_by_role("link", name="Start, one step at a time"))
    for n in range(1, TOTAL + 1):
        visits.append(("step", f"Step {n} of {TOTAL}: {RB.sections[n - 1].title}", n))
        expect(page).to_have_title(re.compile("^" + re.escape(visits[-1][1])))
        fill(page, answers_of(n))
        click_and_wait(page, page.get_by_role("button", name="Continue"))
    visits.append(("check", "Check your answers", 0))
    assert_page(page, visits[-1])
    click_and_wait(page, page.get_by_role("button", name="See my options"))
    visits.append(("results", "Your options to discuss", 0))
    assert_page(page, visits[-1])
    click_and_wait(page, page.get_by_role("button", name="Print my summary"))
    visits.append(("summary", "My discussion summary", 0))
    assert_page(page, visits[-1])
    back_and_forward(page, visits)
    # And a step's own Back button, then the browser's Forward: still the answers.
    page.goto(f"/steps/{TOTAL}")
    click_and_wait(page, page.get_by_role("button", name="Back"))
    assert_page(page, ("step", f"Step {TOTAL - 1} of {TOTAL}", TOTAL - 1))
    page.go_back()
    assert_page(page, ("step", f"Step {TOTAL} of {TOTAL}", TOTAL))
    page.go_forward()
    assert_page(page, ("step", f"Step {TOTAL - 1} of {TOTAL}", TOTAL - 1))


def test_back_and_forward_from_the_one_page_form(page: Page):
    page.goto("/questionnaire")
    fill(page, TYPICAL)
    click_and_wait(page, page.get_by_role("button", name="See my options"))
    expect(page).to_have_title(re.compile("^Your options to discuss"))
    click_and_wait(page, page.get_by_role("button", name="Change my answers"))
    expect(page).to_have_title(re.compile("^All questions"))
    page.go_back()
    assert_page(page, ("results", "Your options to discuss", 0))
    page.go_back()
    expect(page).to_have_title(re.compile("^All questions"))
    for name, value in TYPICAL.items():
        for v in (value if isinstance(value, list) else [value]):
            expect(page.locator(f'input[name="{name}"][value="{v}"]')).to_be_checked()
    page.go_forward()
    assert_page(page, ("results", "Your options to discuss", 0))


def test_change_on_the_check_page_comes_back_to_it(page: Page):
    page.goto(f"/steps/{TOTAL}")
    click_and_wait(page, page.get_by_role("button", name="Continue"))
    click_and_wait(page, page.locator("button[value='edit-2']").first)
    expect(page).to_have_title(re.compile(rf"^Step 2 of {TOTAL}"))
    page.check('input[name="primary_cancer"][value="kidney"]')
    click_and_wait(page, page.get_by_role("button", name="Continue"))
    expect(page).to_have_title(re.compile("^Check your answers"))
    expect(page.locator("main")).to_contain_text("Kidney")


def test_clear_my_answers(page: Page):
    page.goto("/questionnaire")
    fill(page, {"primary_cancer": "thyroid"})
    click_and_wait(page, page.get_by_role("button", name="See my options"))
    click_and_wait(page, page.get_by_role("button", name="Clear my answers"))
    expect(page.locator("[role=status]")).to_contain_text("cleared")
    page.go_back()  # the results page again: the answers are gone, and it says so
    expect(page).to_have_title(re.compile("^Your answers are not here any more"))
    page.goto("/questionnaire")
    expect(page.locator('input[name="primary_cancer"][value="thyroid"]')).not_to_be_checked()


# -- emergencies first ------------------------------------------------------------------------
def bottom(page: Page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box, selector
    return box["y"] + box["height"]


def test_start_page_first_screen_says_what_to_do_in_an_emergency_and_has_start(page: Page):
    page.set_viewport_size(PHONE)
    page.goto("/")
    expect(page.locator("#emergency-first")).to_contain_text("Call 999")
    assert bottom(page, "#emergency-first") <= PHONE["height"]
    assert bottom(page, ".button--start") <= PHONE["height"]


def test_leg_weakness_at_step_1_shows_the_emergency_response_at_once(page: Page):
    page.set_viewport_size(PHONE)
    page.goto("/")
    click_and_wait(page, page.get_by_role("link", name="Start, one step at a time"))
    expect(page).to_have_title(re.compile(rf"^Step 1 of {TOTAL}: Symptoms right now"))
    page.check('input[name="symptoms_now"][value="leg_weakness"]')
    click_and_wait(page, page.get_by_role("button", name="Continue"))
    expect(page).to_have_title(re.compile("^Get help now"))
    call = page.get_by_role("link", name=re.compile("Call 999"))
    expect(call.first).to_be_in_viewport()
    assert call.first.get_attribute("href") == "tel:999"
    flag = page.locator("[data-flag='spinal_cord_compression']")
    expect(flag.locator(".action")).to_contain_text("dexamethasone")
    # Back: the symptom is still ticked. Forward, then carry on with the questions.
    page.go_back()
    expect(page.locator('input[name="symptoms_now"][value="leg_weakness"]')).to_be_checked()
    page.go_forward()
    expect(page).to_have_title(re.compile("^Get help now"))
    click_and_wait(page, page.get_by_role("link", name="Carry on with the questions"))
    expect(page).to_have_title(re.compile(rf"^Step 2 of {TOTAL}"))


def test_no_step_is_much_taller_than_two_phone_screens(page: Page):
    page.set_viewport_size(PHONE)
    tall = {}
    for n in range(1, TOTAL + 1):
        page.goto(f"/steps/{n}")
        # the part a person works through: the progress list, the questions and the buttons
        top = page.locator(".progress").bounding_box()["y"]
        tall[n] = round(bottom(page, ".step-buttons") - top)
    assert max(tall.values()) <= 2 * PHONE["height"] + 200, tall
