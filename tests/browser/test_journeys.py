"""People using the guide in a real browser: a patient on the keyboard, a nurse on the one-page
form, someone with a red-flag symptom on a phone, and someone who mistypes an answer."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .browser_helpers import PHONE, ROOT, TYPICAL, fill, results_page

pytestmark = pytest.mark.browser


def focused(page: Page) -> str:
    """A short description of the focused element: id, or tag and text."""
    return page.evaluate(
        "() => { const e = document.activeElement; if (!e) return '';"
        " return e.id ? '#' + e.id : e.tagName.toLowerCase() + ':' + (e.textContent || '').trim(); }")


def tab_to(page: Page, target: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``target`` (a CSS selector)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => document.activeElement && document.activeElement.matches(sel)",
                         target):
            return
    raise AssertionError(f"Tab never reached {target!r}; focus is on {focused(page)!r}")


def focus_is_visible(page: Page) -> bool:
    """The focused element shows a focus ring (an outline or a box shadow)."""
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)"
        "        || s.boxShadow !== 'none'; }")


def press_enter_and_wait(page: Page) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _rulebook():
    from bonemets.rules import load_rulebook
    return load_rulebook(f"{ROOT}/rules")


RB = _rulebook()
TOTAL = len(RB.sections)


def step_of(field: str) -> int:
    return next(i for i, s in enumerate(RB.sections, start=1) if field in s.fields)


def test_patient_walks_the_steps_with_the_keyboard_only(page: Page):
    page.goto("/")
    tab_to(page, "a[href$='/steps/1']")
    press_enter_and_wait(page)
    expect(page).to_have_title(re.compile(rf"^Step 1 of {TOTAL}: Symptoms right now"))
    # Nothing urgent: Continue to "Your cancer".
    tab_to(page, "button[value='next']")
    press_enter_and_wait(page)
    cancer, bones = step_of("primary_cancer"), step_of("bone_sites")
    expect(page).to_have_title(re.compile(rf"^Step {cancer} of {TOTAL}: Your cancer"))

    # Breast (the first answer), then the follow-up that appears, then Continue.
    tab_to(page, "#primary_cancer-0")
    assert focus_is_visible(page)
    page.keyboard.press("Space")
    expect(page.locator("#primary_cancer-0")).to_be_checked()
    expect(page.locator("#q-hormone_receptor")).to_be_visible()
    tab_to(page, "#hormone_receptor-0")
    page.keyboard.press("Space")
    tab_to(page, "button[value='next']")
    assert focus_is_visible(page)
    press_enter_and_wait(page)

    # Tick "Spine", continue; on the next step go Back and find "Spine" still ticked.
    expect(page).to_have_title(re.compile(rf"^Step {bones} of {TOTAL}"))
    tab_to(page, "#bone_sites-0")
    page.keyboard.press("Space")
    tab_to(page, "button[value='next']")
    press_enter_and_wait(page)
    expect(page).to_have_title(re.compile(rf"^Step {bones + 1} of {TOTAL}"))
    tab_to(page, "button[value='back']")
    press_enter_and_wait(page)
    expect(page).to_have_title(re.compile(rf"^Step {bones} of {TOTAL}"))
    expect(page.locator("#bone_sites-0")).to_be_checked()

    # Continue through the other steps to "Check your answers".
    for n in range(bones, TOTAL + 1):
        expect(page).to_have_title(re.compile(rf"^Step {n} of {TOTAL}"))
        tab_to(page, "button[value='next']")
        press_enter_and_wait(page)
    expect(page).to_have_title(re.compile(r"^Check your answers"))
    expect(page.locator("main")).to_contain_text("Spine (backbone or neck)")

    # Change the bones answer: add "Pelvis"; Continue goes straight back to the check page.
    tab_to(page, f"button[value='edit-{bones}']")
    press_enter_and_wait(page)
    expect(page).to_have_title(re.compile(rf"^Step {bones} of {TOTAL}"))
    tab_to(page, "#bone_sites-0")
    page.keyboard.press("Tab")  # checkboxes are one tab stop each
    assert focused(page) == "#bone_sites-1"
    page.keyboard.press("Space")
    tab_to(page, "button[value='next']")
    press_enter_and_wait(page)
    expect(page).to_have_title(re.compile(r"^Check your answers"))
    expect(page.locator("main")).to_contain_text("Spine (backbone or neck); Pelvis or hip socket")
    expect(page.locator("main")).to_contain_text("Breast")

    # See my options.
    tab_to(page, "button[formaction$='/plan']")
    assert focus_is_visible(page)
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Options to talk about with your care team")
    expect(page.locator('form input[name="bone_sites"][value="pelvis"]').first).to_be_attached()
    expect(page.locator('form input[name="primary_cancer"][value="breast"]').first).to_be_attached()


def test_nurse_fills_one_page_form_and_gets_the_right_groups(page: Page):
    page.set_viewport_size({"width": 1280, "height": 900})
    results_page(page, TYPICAL)

    def group(option_id: str) -> str:
        return page.locator(f"article[data-option='{option_id}']").get_attribute("data-group")

    assert group("external_beam_radiation") == "discuss"
    for oid in ("hormone_therapy", "bisphosphonate", "denosumab", "stereotactic_radiation",
                "pain_medicine"):
        assert group(oid) in ("discuss", "consider"), oid
    assert group("radium_223") == "unlikely"
    assert group("focused_ultrasound") != "discuss"
    expect(page.locator("[data-urgency='emergency']")).to_have_count(0)
    # Each option is shown once, under its group's heading, with a reason.
    expect(page.locator("#group-discuss article[data-option='external_beam_radiation']")).to_be_visible()
    expect(page.locator("#group-unlikely article[data-option='radium_223'] .reasons--against")).to_be_visible()
    from bonemets.rules import load_rulebook
    catalog = load_rulebook(f"{ROOT}/rules").options
    expect(page.locator("article[data-option]")).to_have_count(len(catalog))


def test_red_flag_warning_comes_first_and_is_visible_on_a_phone(page: Page):
    page.set_viewport_size(PHONE)
    results_page(page, {"primary_cancer": "lung", "symptoms_now": ["leg_weakness"]})
    expect(page).to_have_title(re.compile(r"^Get help now"))
    flag = page.locator("[data-urgency='emergency']").first
    expect(flag).to_be_visible()
    expect(flag).to_be_in_viewport()
    # Its urgency, title and what to do (not just its box) are on screen without scrolling.
    for part in (".urgency", "h3", ".action"):
        box = flag.locator(part).bounding_box()
        assert box and box["y"] + box["height"] <= PHONE["height"], (part, box)
    # Before every option in the page order.
    first = page.evaluate(
        "() => { const f = document.querySelector('[data-urgency=emergency]');"
        " const o = document.querySelector('article[data-option]');"
        " return !!(f.compareDocumentPosition(o) & Node.DOCUMENT_POSITION_FOLLOWING); }")
    assert first


def test_an_emergency_on_the_one_page_form_is_shown_before_the_rest_is_filled(page: Page):
    page.set_viewport_size(PHONE)
    page.goto("/questionnaire")
    fill(page, {"symptoms_now": ["leg_weakness"], "primary_cancer": "breast"})
    with page.expect_navigation():
        page.get_by_role("button", name="Check these symptoms now").click()
    expect(page).to_have_title(re.compile(r"^Get help now"))
    expect(page.locator("[data-urgency='emergency']").first).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="Carry on with the questions").click()
    assert page.url.endswith(f"/questionnaire#section-{RB.sections[1].id}")
    expect(page.locator('input[name="symptoms_now"][value="leg_weakness"]')).to_be_checked()
    expect(page.locator('input[name="primary_cancer"][value="breast"]')).to_be_checked()
    # Enter in a text box still sends the whole form: the form's first button is "See my
    # options", out of sight.
    box = page.locator(".implicit-submit").bounding_box()
    assert box and box["x"] + box["width"] <= 0, box
    page.fill("#pain_score-0", "6")
    page.focus("#pain_score-0")
    press_enter_and_wait(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Options to talk about with your care team")


def test_no_symptom_on_the_one_page_form_is_said_where_the_check_lands(page: Page):
    page.set_viewport_size(PHONE)
    page.goto("/questionnaire")
    fill(page, {"symptoms_now": ["none"]})
    with page.expect_navigation():
        page.get_by_role("button", name="Check these symptoms now").click()
    result = page.locator("#check-result")
    expect(result).to_contain_text("nothing needs help fast")
    expect(result).to_be_in_viewport()
    expect(page.locator('input[name="symptoms_now"][value="none"]')).to_be_checked()


def test_emergency_is_told_in_words_not_colour_alone(page: Page):
    results_page(page, {"symptoms_now": ["leg_weakness", "bladder_bowel"]})
    flags = page.locator(".red-flags")
    expect(flags.get_by_role("heading", level=2)).to_have_text("Get help now")
    urgency = page.locator("[data-urgency='emergency'] .urgency").first
    expect(urgency).to_contain_text("Get emergency help now")
    # The words are real text (read by screen readers, kept in greyscale and print).
    text = urgency.evaluate("e => e.innerText")
    assert "emergency" in text.lower()
    expect(page.locator("[data-urgency='emergency'] .action").first).not_to_be_empty()


def test_invalid_pain_score_shows_error_summary_and_keeps_other_answers(page: Page):
    page.goto("/questionnaire")
    fill(page, {"primary_cancer": "breast", "hormone_receptor": "negative",
                "bone_sites": ["spine", "ribs"], "pain_score": "12"})
    with page.expect_navigation():
        page.get_by_role("button", name="See my options").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    link = summary.get_by_role("link", name=re.compile("whole number from 0 to 10"))
    link.click()
    expect(page.locator("#pain_score-0")).to_be_focused()
    expect(page.locator("#pain_score-0")).to_have_value("12")
    expect(page.locator("#pain_score-0")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#primary_cancer-0")).to_be_checked()
    expect(page.locator('input[name="hormone_receptor"][value="negative"]')).to_be_checked()
    expect(page.locator('input[name="bone_sites"][value="spine"]')).to_be_checked()
    expect(page.locator('input[name="bone_sites"][value="ribs"]')).to_be_checked()

    # Fix it and send again: the results page.
    page.fill("#pain_score-0", "7")
    with page.expect_navigation():
        page.get_by_role("button", name="See my options").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Options to talk about with your care team")


def test_invalid_pain_score_on_a_step_says_error_in_the_title(page: Page):
    n = step_of("pain_score")
    page.goto(f"/steps/{n}")
    page.fill("#pain_score-0", "12")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile(rf"^Error: Step {n} of {TOTAL}"))
    page.locator("#error-summary a").first.click()
    expect(page.locator("#pain_score-0")).to_be_focused()


@pytest.mark.parametrize("url, button", [("/questionnaire", "See my options"),
                                         (f"/steps/{step_of('primary_cancer')}", "Continue")])
def test_expired_session_keeps_the_answers_and_says_error(page: Page, url: str, button: str):
    page.goto(url)
    fill(page, {"primary_cancer": "breast", "hormone_receptor": "positive"})
    page.context.clear_cookies()  # as if the session had expired: the CSRF check fails
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator('input[name="primary_cancer"][value="breast"]')).to_be_checked()
    expect(page.locator('input[name="hormone_receptor"][value="positive"]')).to_be_checked()
    # Sending again now works.
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    expect(page).not_to_have_title(re.compile(r"^Error: "))


@pytest.mark.parametrize("url", ["/questionnaire", f"/steps/{step_of('primary_cancer')}"])
def test_follow_up_question_shows_only_after_its_lead_answer(page: Page, url: str):
    page.goto(url)
    expect(page.locator("#q-hormone_receptor")).to_be_hidden()
    expect(page.locator("#q-prostate_status")).to_be_hidden()
    page.check('input[name="primary_cancer"][value="lung"]')
    expect(page.locator("#q-hormone_receptor")).to_be_hidden()
    page.check('input[name="primary_cancer"][value="breast"]')
    expect(page.locator("#q-hormone_receptor")).to_be_visible()
    expect(page.locator("#q-prostate_status")).to_be_hidden()
    page.check('input[name="primary_cancer"][value="prostate"]')
    expect(page.locator("#q-hormone_receptor")).to_be_hidden()
    expect(page.locator("#q-prostate_status")).to_be_visible()
