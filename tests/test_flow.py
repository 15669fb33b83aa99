"""The flow (issue 16): post/redirect/get, emergencies first, the emergency number, the progress
list, "Change" returning to the check page, and the glitches of a page's text: no duplicate
ids, no "..", no cut-off sentence, no heading said twice in a row, the caveat not repeated."""
from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from app import create_app
from browser.browser_helpers import TYPICAL

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "summary")
BLOCKS = HEADINGS + ("p", "li", "dd", "dt", "td", "th", "div", "label", "legend", "section")


class Read(HTMLParser):
    """A page as a person reads it: ids, headings (and <summary>) in order, visible text (no
    script, style or aria-hidden parts)."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.ids, self.headings, self.parts = [], [], []
        self._heading, self._stack = None, []
        self.feed(html)
        self.text = " ".join("".join(self.parts).split())

    @property
    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        if tag in self.VOID:
            return
        self._stack.append(tag in ("script", "style") or a.get("aria-hidden") == "true")
        if tag in HEADINGS and not self._hidden:
            self._heading = [tag, ""]

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self._heading and tag == self._heading[0]:
            self.headings.append(" ".join(self._heading[1].split()))
            self._heading = None
        if self._stack:
            self._stack.pop()
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._hidden:
            return
        if self._heading:
            self._heading[1] += data
        self.parts.append(data)


@pytest.fixture(scope="module")
def flow_app():
    from conftest import _browser_like
    return _browser_like(create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "f"}))


def kept(app, answers):
    """A client whose answers cookie holds ``answers`` (as after "See my options")."""
    c = app.test_client()
    assert c.post("/plan", data=answers).status_code == 200
    return c


# An emergency, a "today" flag and an activity answer that ends in a full stop (the kind that
# made "half the day.." before).
BUSY = {**TYPICAL, "symptoms_now": ["leg_weakness", "new_back_pain"],
        "activity_level": "self_care_only", "pain_control": "not_controlled"}


@pytest.fixture(scope="module")
def busy_pages(flow_app):
    """Every main page, each read once, with BUSY kept in the answers cookie."""
    from bonemets.paths import RULES_DIR
    from bonemets.rules import load_rulebook
    c = kept(flow_app, BUSY)
    return {u: c.get(u).get_data(as_text=True) for u in main_pages(load_rulebook(RULES_DIR))}


def main_pages(rb):
    return (["/", "/questionnaire"] + [f"/steps/{i}" for i in range(1, len(rb.sections) + 1)]
            + ["/check", "/urgent", "/plan", "/summary", "/rules", "/about", "/no-such-page"])


# Pages owned by branch `results` (issue 16 parts 3-5) still have these glitches on this branch;
# strict: the mark must go when that work is merged.
RESULTS_GLITCHES: dict = {
    # (kind, url): reason, for a glitch known on a page and being fixed (a strict xfail).
    # The results branch's truncated reasons, ".." after said answers and the glossary heading
    # said twice are fixed; nothing is left here.
}


def page_cases(kind):
    from bonemets.paths import RULES_DIR
    from bonemets.rules import load_rulebook
    rb = load_rulebook(RULES_DIR)
    return [pytest.param(u, marks=pytest.mark.xfail(reason=RESULTS_GLITCHES[(kind, u)], strict=True))
            if (kind, u) in RESULTS_GLITCHES else u for u in main_pages(rb)]


@pytest.mark.parametrize("url", page_cases("ids"))
def test_no_page_has_duplicate_ids(busy_pages, url):
    page = Read(busy_pages[url])
    dupes = [k for k, v in Counter(page.ids).items() if v > 1]
    assert page.ids and dupes == [], dupes


@pytest.mark.parametrize("url", page_cases("dots"))
def test_no_double_punctuation(busy_pages, url):
    text = Read(busy_pages[url]).text
    assert not re.findall(r".{0,40}(?<![.])[.!?][.](?![.]).{0,10}", text)
    assert not re.findall(r".{0,30} [.,;:](?!\w).{0,10}", text)


@pytest.mark.parametrize("url", page_cases("cut_off"))
def test_no_cut_off_sentence(busy_pages, url):
    text = Read(busy_pages[url]).text
    assert not re.findall(r".{0,40}(?:\w\.\.\.|…)", text)


@pytest.mark.parametrize("url", page_cases("heading_twice"))
def test_no_heading_said_twice_in_a_row(busy_pages, url):
    """A heading followed by the same words (a heading or a <summary>), e.g. "Words you may hear"
    as a heading and again as the summary of the list under it."""
    heads = Read(busy_pages[url]).headings
    assert [a for a, b in zip(heads, heads[1:]) if a.lower() == b.lower()] == []


@pytest.mark.parametrize("url", page_cases("caveat"))
def test_caveat_once_at_the_top_and_once_at_the_foot(busy_pages, rulebook, url):
    text = Read(busy_pages[url]).text
    assert text.count(rulebook.caveat) == 2, url


def test_glitch_checks_catch_their_kind():
    """The checks above find what they are for."""
    page = Read('<h2>Words you may hear</h2><details><summary>Words you may hear</summary></details>'
                '<p id="a">Up half the day..</p><p id="a">because the cancer is not...</p>'
                '<p aria-hidden="true">hidden text</p>')
    assert page.headings == ["Words you may hear", "Words you may hear"]
    assert [k for k, v in Counter(page.ids).items() if v > 1] == ["a"]
    assert re.search(r"(?<![.])[.!?][.](?![.])", page.text)
    assert re.search(r"\w\.\.\.", page.text)
    assert "hidden" not in page.text


# -- post/redirect/get ------------------------------------------------------------------------
def test_every_post_of_answers_redirects_to_a_get_page(flow_app, rulebook):
    c = flow_app.test_client()
    for path, data, target in [
        ("/plan", TYPICAL, "/plan"), ("/summary", TYPICAL, "/summary"),
        ("/questionnaire", TYPICAL, "/questionnaire"),
        ("/steps", {"step": "2", "go": "next", "primary_cancer": "breast"}, "/steps/3"),
        ("/steps", {"step": "3", "go": "back"}, "/steps/2"),
        ("/steps", {"step": str(len(rulebook.sections)), "go": "next"}, "/check"),
        ("/steps", {"step": "check", "go": "edit-4"}, "/steps/4?then=check"),
    ]:
        r = c.post(path, data=data, follow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"] == target, (path, data)
        assert "bonemets_answers=" in r.headers["Set-Cookie"]
        assert c.get(target).status_code == 200
    c.post("/questionnaire", data=TYPICAL)
    html = c.get("/questionnaire").get_data(as_text=True)
    assert 'name="primary_cancer" value="breast" checked' in html


def test_an_answer_to_fix_is_shown_at_once_and_kept_for_back(flow_app, rulebook):
    c = flow_app.test_client()
    pain = next(i for i, s in enumerate(rulebook.sections, 1) if "pain_score" in s.fields)
    r = c.post("/steps", data={"step": str(pain), "go": "next", "pain_score": "eleven",
                               "primary_cancer": "lung"}, follow_redirects=False)
    assert r.status_code == 400 and "There is a problem" in r.get_data(as_text=True)
    # Back to an earlier step (a GET) still has every answer.
    html = c.get(f"/steps/{pain - 1}").get_data(as_text=True)
    assert '<input type="hidden" name="primary_cancer" value="lung">' in html
    assert '<input type="hidden" name="pain_score" value="eleven">' in html


def test_a_tampered_or_foreign_cookie_is_ignored(flow_app):
    c = flow_app.test_client()
    c.set_cookie("bonemets_answers", "gAAAAABnot-a-real-token")
    assert "Your answers are not here any more" in c.get("/plan").get_data(as_text=True)
    other = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "other"})
    oc = other.test_client()
    token = oc.post("/plan", data=TYPICAL).headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    c.set_cookie("bonemets_answers", token)
    assert "Your answers are not here any more" in c.get("/plan").get_data(as_text=True)


# -- emergencies first ------------------------------------------------------------------------
def test_urgent_symptoms_come_first_in_both_forms(client, rulebook):
    assert rulebook.sections[0].fields == ("symptoms_now",)
    step1 = client.get("/steps/1").get_data(as_text=True)
    assert 'name="symptoms_now"' in step1
    form = client.get("/questionnaire").get_data(as_text=True)
    first = min(form.index(f'name="{f}"') for f in rulebook.fields)
    assert form.index('name="symptoms_now"') == first


@pytest.mark.parametrize("symptom", ["leg_weakness", "chest_pain_breathless",
                                     "sudden_bone_pain_cannot_bear_weight"])
def test_an_emergency_symptom_at_step_1_goes_straight_to_the_emergency_page(client, rulebook, symptom):
    r = client.post("/steps", data={"step": "1", "go": "next", "symptoms_now": symptom},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/urgent?next=2"
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    plan = rulebook.plan({"symptoms_now": [symptom]})
    flag = next(f for f in plan.red_flags if f.urgency == "emergency")
    assert "<title>Get help now" in html
    assert " ".join(flag.action.split()) in " ".join(html.split())
    assert 'href="tel:999"' in html and "Call 999" in html
    assert 'href="/steps/2"' in html  # a way to carry on


def test_a_symptom_that_can_wait_goes_on_to_step_2(client):
    r = client.post("/steps", data={"step": "1", "go": "next", "symptoms_now": "jaw_symptoms"},
                    follow_redirects=False)
    assert r.headers["Location"] == "/steps/2"


# -- the one-page form's symptoms check --------------------------------------------------------
def _form_button(html: str) -> tuple[str, str]:
    """(the one-page form's first submit button, the form's action): what Enter in a text box
    presses."""
    form = html[html.index('<form method="post"'):]
    first = form[form.index("<button"):]
    return first[:first.index("</button>")], form[:form.index(">")]


def test_the_one_page_form_can_check_symptoms_before_the_rest(client, rulebook):
    html = client.get("/questionnaire").get_data(as_text=True)
    first = rulebook.sections[0]
    section = html[html.index(f'id="section-{first.id}"'):html.index(f'id="section-{rulebook.sections[1].id}"')]
    assert 'formaction="/questionnaire/symptoms"' in section
    assert "Check these symptoms now" in section
    button, form = _form_button(html)
    assert 'action="/plan"' in form and "formaction" not in button and "See my options" in button
    assert 'tabindex="-1"' in button and 'aria-hidden="true"' in button


@pytest.mark.parametrize("symptom", ["leg_weakness", "chest_pain_breathless"])
def test_an_emergency_ticked_on_the_one_page_form_is_shown_at_once(client, rulebook, symptom):
    typed = {"symptoms_now": symptom, "primary_cancer": "breast", "pain_score": "not a number"}
    r = client.post("/questionnaire/symptoms", data=typed, follow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/urgent?next=form"
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    flag = next(f for f in rulebook.plan({"symptoms_now": [symptom]}).red_flags
                if f.urgency == "emergency")
    assert "<title>Get help now" in html and 'href="tel:999"' in html
    assert " ".join(flag.action.split()) in " ".join(html.split())
    back = f'href="/questionnaire#section-{rulebook.sections[1].id}"'
    assert back in html
    again = client.get("/questionnaire").get_data(as_text=True)  # nothing typed is lost
    assert re.search(rf'value="{symptom}"[^>]*checked', again)
    assert re.search(r'value="breast"[^>]*checked', again) and 'value="not a number"' in again
    assert "nothing needs help fast" not in again


def test_a_symptom_that_can_wait_is_shown_too_and_none_says_so(client, rulebook):
    r = client.post("/questionnaire/symptoms", data={"symptoms_now": "jaw_symptoms"},
                    follow_redirects=False)
    assert r.headers["Location"] == "/urgent?next=form"
    html = client.get("/urgent?next=form").get_data(as_text=True)
    assert "<title>Symptoms that need attention" in html
    r = client.post("/questionnaire/symptoms", data={"symptoms_now": "none", "primary_cancer": "prostate"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == "/questionnaire?checked=1#check-result"
    html = client.get("/questionnaire?checked=1").get_data(as_text=True)
    result = html[html.index('id="check-result"'):]
    assert "nothing needs help fast" in result[:result.index("</div>")]
    assert 'href="tel:999"' in result[:result.index("</div>")]
    # It sits right under the button (where the redirect lands), not above the heading.
    assert html.index("Check these symptoms now") < html.index('id="check-result"') < html.index(
        f'id="section-{rulebook.sections[1].id}"')
    assert re.search(r'value="prostate"[^>]*checked', html)
    # Back to that address after a symptom was added: it is not said again.
    client.post("/questionnaire/symptoms", data={"symptoms_now": "leg_weakness"})
    assert "nothing needs help fast" not in client.get("/questionnaire?checked=1").get_data(as_text=True)


@pytest.mark.parametrize("symptoms", [[], ["unknown"]])
def test_nothing_ticked_or_not_sure_is_not_told_all_is_well(client, symptoms):
    r = client.post("/questionnaire/symptoms",
                    data={"symptoms_now": symptoms, "primary_cancer": "lung"}, follow_redirects=False)
    assert r.headers["Location"] == "/questionnaire?checked=1#check-result"
    html = client.get("/questionnaire?checked=1").get_data(as_text=True)
    assert "nothing needs help fast" not in html
    assert "You have not ticked a symptom" in html and 'href="tel:999"' in html


def test_an_answer_the_rule_book_does_not_take_is_never_told_all_is_well(client):
    """A value the rule book does not know (a tampered post, a page from before a rule-book
    change) drops the whole answer from the plan, so it may hide an emergency: the form again
    with the problem, never "nothing needs help fast"."""
    typed = {"symptoms_now": ["leg_weakness", "an_old_value"], "pain_score": "5"}
    r = client.post("/questionnaire/symptoms", data=typed, follow_redirects=False)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "There is a problem" in html
    assert "nothing needs help fast" not in html
    assert re.search(r'value="leg_weakness"[^>]*checked', html) and 'value="5"' in html
    # And the address of the notice, opened with those answers kept, does not say it either.
    assert "nothing needs help fast" not in client.get("/questionnaire?checked=1").get_data(as_text=True)


def test_the_symptoms_check_refuses_a_bad_token_and_keeps_what_was_typed(csrf_client):
    r = csrf_client.post("/questionnaire/symptoms",
                         data={"symptoms_now": "leg_weakness", "pain_score": "7", "csrf_token": "x"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Please send your answers again" in html
    assert 'press "Check these symptoms now" again' in html  # the button that was pressed
    assert re.search(r'value="leg_weakness"[^>]*checked', html) and 'value="7"' in html


@pytest.mark.parametrize("config, number", [
    ({}, "999"), ({"BABEL_DEFAULT_LOCALE": "en_US"}, "911"), ({"EMERGENCY_LOCALE": "es"}, "112"),
    ({"EMERGENCY_LOCALE": "de-DE"}, "112"), ({"EMERGENCY_NUMBER": "000"}, "000")])
def test_emergency_number_by_deployment(config, number, monkeypatch):
    monkeypatch.delenv("EMERGENCY_NUMBER", raising=False)
    monkeypatch.delenv("EMERGENCY_LOCALE", raising=False)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "n", **config})
    html = app.test_client().get("/").get_data(as_text=True)
    assert f'href="tel:{number}"' in html and f"call {number}" in html.lower()
    other = {"999", "911", "112", "000"} - {number}
    assert not any(f"tel:{o}" in html for o in other)


def test_emergency_number_from_the_environment(monkeypatch):
    monkeypatch.setenv("EMERGENCY_NUMBER", "112")
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "n"})
    assert 'href="tel:112"' in app.test_client().get("/").get_data(as_text=True)


def test_results_and_summary_name_the_number_once(client):
    client.post("/plan", data={"symptoms_now": ["leg_weakness", "chest_pain_breathless"]})
    for path in ("/plan", "/summary"):
        html = client.get(path).get_data(as_text=True)
        assert html.count('href="tel:999"') == 1, path


# -- flow details -----------------------------------------------------------------------------
def test_progress_names_every_step_and_marks_the_current_one(client, rulebook):
    for n in (1, len(rulebook.sections)):
        html = client.get(f"/steps/{n}").get_data(as_text=True)
        ol = re.search(r'<ol class="progress-list".*?</ol>', html, re.S).group(0)
        names = re.findall(r'<span class="progress-name">([^<]+)</span>', ol)
        assert names == [s.title for s in rulebook.sections] + ["Check your answers"]
        assert ol.count('aria-current="step"') == 1
        current = re.search(r'aria-current="step">.*?progress-name">([^<]+)<', ol, re.S).group(1)
        assert current == rulebook.sections[n - 1].title


def test_no_step_is_much_longer_than_the_others(rulebook):
    """Step length in answers to read (a question counts as 2 more; a follow-up question shows
    only after its lead answer): the longest step (once step 5 at 3,100 px) is split. The
    browser tests measure the real heights."""
    size = {s.id: sum(len(rulebook.fields[f].choices) + 2 for f in s.fields
                      if not rulebook.fields[f].only_if) for s in rulebook.sections}
    assert max(size.values()) <= 24, size


def test_rules_page_headings_nest_and_links_land_on_the_option(client, typical):
    html = client.get("/rules").get_data(as_text=True)
    # A rule placing several options: one block per option, each under that option's heading.
    for oid in ("bisphosphonate", "denosumab"):
        i = html.index(f'id="bone-drug-breast--{oid}"')
        assert html.rindex('<div class="rule-option" id="opt-', 0, i) == \
            html.rindex(f'<div class="rule-option" id="opt-{oid}"', 0, i)
    block = re.search(r'id="opt-denosumab".*?<h3>.*?</h3>(.*?)<div class="rule-option"', html, re.S).group(1)
    assert '<h4 class="rule-group">' in block and "<h5><code>" in block and "<h4><code>" not in block
    client.post("/plan", data=typical)
    results = client.get("/plan").get_data(as_text=True)
    assert re.search(r'href="/rules#[\w-]+--\w+"', results), "a rule of several options"
    for m in re.finditer(r'<article[^>]* data-option="(\w+)"(.*?)</article>', results, re.S):
        for anchor in re.findall(r'href="/rules#([\w-]+)"', m.group(2)):
            assert f'id="{anchor}"' in html, anchor
            if "--" in anchor:
                assert anchor.endswith("--" + m.group(1)), (m.group(1), anchor)
