"""Every page a person can reach: zero axe violations, no sideways scrolling on a 375px phone,
titles that say where you are, and targets big enough to tap."""
from __future__ import annotations

import re
from typing import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .browser_helpers import PHONE, TYPICAL, fill, results_page, summary_page

pytestmark = pytest.mark.browser

AXE = Axe()


def _rulebook():
    from bonemets.paths import RULES_DIR
    from bonemets.rules import load_rulebook
    return load_rulebook(RULES_DIR)


RB = _rulebook()
TOTAL = len(RB.sections)
PAIN = next(i for i, s in enumerate(RB.sections, start=1) if "pain_score" in s.fields)


def _steps_to_check(page: Page) -> None:
    page.goto(f"/steps/{TOTAL}")
    fill(page, {"priorities": ["stay_mobile"]})
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


def _questionnaire_with_errors(page: Page) -> None:
    page.goto("/questionnaire")
    fill(page, {"primary_cancer": "breast", "pain_score": "12"})
    with page.expect_navigation():
        page.get_by_role("button", name="See my options").click()


def _step_with_error(page: Page) -> None:
    page.goto(f"/steps/{PAIN}")
    page.fill("#pain_score-0", "eleven")
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


def _step_from_check(page: Page) -> None:
    _steps_to_check(page)
    with page.expect_navigation():
        page.locator("button[value='edit-2']").first.click()


def _urgent(page: Page) -> None:
    page.goto("/steps/1")
    fill(page, {"symptoms_now": ["leg_weakness", "new_back_pain"]})
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


def _start_with_answers(page: Page) -> None:
    _steps_to_check(page)
    page.goto("/")


# name -> (how to get there, the start of the expected <title>)
PAGES: dict[str, tuple[Callable[[Page], object], str]] = {
    "start": (lambda p: p.goto("/"), "Start"),
    **{f"step-{n}": ((lambda p, n=n: p.goto(f"/steps/{n}")), f"Step {n} of {TOTAL}: ")
       for n in range(1, TOTAL + 1)},
    "step-with-error": (_step_with_error, f"Error: Step {PAIN} of {TOTAL}: Your pain"),
    "check": (_steps_to_check, "Check your answers"),
    "step-from-check": (_step_from_check, f"Step 2 of {TOTAL}: "),
    "urgent": (_urgent, "Get help now"),
    "start-with-answers": (_start_with_answers, "Start"),
    "answers-gone": (lambda p: p.goto("/plan"), "Your answers are not here any more"),
    "results": (lambda p: results_page(p, TYPICAL), "Your options to discuss"),
    "results-emergency": (lambda p: results_page(p, {"symptoms_now": ["leg_weakness"],
                                                      "calcium": "high"}),
                          "Get help now"),
    "summary": (lambda p: summary_page(p, TYPICAL), "My discussion summary"),
    "rules": (lambda p: p.goto("/rules"), "The rule book"),
    "about": (lambda p: p.goto("/about"), "About this guide"),
    "questionnaire": (lambda p: p.goto("/questionnaire"), "All questions"),
    "questionnaire-errors": (_questionnaire_with_errors, "Error: All questions"),
    "not-found": (lambda p: p.goto("/steps/99"), "Page not found"),
}


def _violations(result) -> str:
    lines = []
    for v in result.response["violations"]:
        targets = [n["target"] for n in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_violations(page: Page, name: str):
    PAGES[name][0](page)
    # Follow-up questions and <details> content count too: open and show them.
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    result = AXE.run(page)
    assert result.violations_count == 0, _violations(result)


@pytest.mark.parametrize("name", list(PAGES))
def test_no_sideways_scrolling_on_a_phone(page: Page, name: str):
    page.set_viewport_size(PHONE)
    PAGES[name][0](page)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width}px wide at {PHONE['width']}px"


@pytest.mark.parametrize("name", list(PAGES))
def test_title_says_where_you_are(page: Page, name: str):
    PAGES[name][0](page)
    expect(page).to_have_title(re.compile("^" + re.escape(PAGES[name][1])))
    title = page.title()
    assert title.endswith("Bone metastases discussion guide"), title
    assert title.startswith("Error:") == ("error" in name), title


TARGET_PAGES = ["questionnaire", "step-1", "step-7", "check", "results", "summary",
                "questionnaire-errors"]


@pytest.mark.parametrize("name", TARGET_PAGES)
@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"])
def test_targets_are_at_least_24px(page: Page, name: str, viewport: dict):
    page.set_viewport_size(viewport)
    PAGES[name][0](page)
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                'input[type=radio], input[type=checkbox], button, .button, input[type=text], summary')]
            .filter(e => e.getClientRects().length > 0)
            .map(e => { const r = e.getBoundingClientRect();
                        return {what: e.id || e.name || e.textContent.trim().slice(0, 40),
                                w: r.width, h: r.height}; })
            .filter(r => r.w < 24 || r.h < 24)""")
    assert small == [], small
    assert page.locator("button:visible").count() > 0
