"""Our Questionnaire in NLM's LHC-Forms (npm ``lforms``, loaded locally) in real headless
Chromium: it renders, a person fills it there, and the QuestionnaireResponse LHC-Forms produces,
posted unchanged to ``/api/plan``, gives the same plan as the JSON answers. LHC-Forms also
pre-fills it from a record (a second SDC implementation, beside ``test_sdc_populate.py``).

Needs ``npm ci --prefix tests/js``; skipped (with that reason) only when it is absent.
"""
from __future__ import annotations

import json
import os
import threading
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from .browser_helpers import ROOT, TYPICAL

JS = os.path.join(ROOT, "tests", "js")
DIST = os.path.join(JS, "node_modules", "lforms", "dist", "lforms")

pytestmark = pytest.mark.skipif(
    not os.path.isfile(os.path.join(DIST, "webcomponent", "lhc-forms.js")),
    reason="tests/js/node_modules is missing: run `npm ci --prefix tests/js` for LHC-Forms")

# LHC-Forms' own recipe: zone.js and the web component at the end of <body>; the FHIR support
# file is evaluated once LForms is ready (see _open).
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LHC-Forms</title>
<link rel="stylesheet" href="/lforms/webcomponent/styles.css"></head>
<body><div id="formContainer"></div>
<script type="module">import { searchRecord } from '/js/record_search.mjs'; window.searchRecord = searchRecord;</script>
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/lhc-forms.js"></script></body></html>"""

RENDER = """async ([q, resources, prepopulate]) => {
  const patient = resources.find((r) => r.resourceType === 'Patient');
  window.requests = [];
  const client = {  // a FHIR server holding only this record (LHC-Forms uses fhirclient's API)
    request: async (url) => { window.requests.push(url); return window.searchRecord(resources, url); },
    getFhirVersion: async () => '4.0.1',
  };
  LForms.Util.setFHIRContext(client, {patient});
  const form = LForms.Util.convertFHIRQuestionnaireToLForms(q, 'R4');
  await LForms.Util.addFormToPage(form, 'formContainer', {prepopulate});
}"""

RESPONSE = "() => LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4', 'formContainer')"


@pytest.fixture(scope="module")
def lforms_url():
    def page(environ, start_response):
        return Response(PAGE, mimetype="text/html")(environ, start_response)
    app = SharedDataMiddleware(page, {"/lforms": DIST, "/js/record_search.mjs": os.path.join(JS, "record_search.mjs")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def questionnaire(base_url):
    import urllib.request
    with urllib.request.urlopen(base_url + "/fhir/Questionnaire") as r:
        assert r.headers["Content-Type"].startswith("application/fhir+json")
        return json.load(r)


def _open(page, lforms_url, questionnaire, resources=(), prepopulate=False):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(lforms_url + "/")
    page.wait_for_function("!!(window.LForms && window.LForms.Util && window.searchRecord)", timeout=60_000)
    page.add_script_tag(url="/lforms/fhir/R4/lformsFHIR.min.js")
    page.wait_for_function("!!window.LForms.FHIR", timeout=60_000)
    record = [{"resourceType": "Patient", "id": "p1"}, *resources]
    page.evaluate(RENDER, [questionnaire, record, prepopulate])
    assert errors == []
    return page


def _label(name, value, system):
    return f'[id="{name}/1/1|{system}|{value}"]'


def fill_lhc(page, answers, system):
    """Click the answers in LHC-Forms, as a person would."""
    for name, value in answers.items():
        if name == "pain_score":
            page.locator(f'[id="{name}/1/1"]').fill(str(value))
            page.locator(f'[id="{name}/1/1"]').press("Tab")
            continue
        for v in value if isinstance(value, list) else [value]:
            page.locator(_label(name, v, system)).click()


def test_lhcforms_renders_and_its_response_gives_the_same_plan(page, lforms_url, base_url, questionnaire, rulebook):
    system = questionnaire["item"][1]["item"][1]["answerOption"][0]["valueCoding"]["system"]
    _open(page, lforms_url, questionnaire)
    container = page.locator("#formContainer")
    expect(container).to_contain_text(rulebook.caveat)
    for f in rulebook.fields.values():
        if not f.only_if:
            expect(container).to_contain_text(f.label)
    # a follow-up question appears only after the answer it depends on (enableWhen)
    follow_up = page.locator('[id="item-hormone_receptor/1/1"]')
    expect(follow_up).to_have_count(0)

    answers = {**TYPICAL, "pain_score": 6, "bone_damage": ["fracture_risk", "near_spinal_cord"],
               "calcium": "unknown"}
    fill_lhc(page, answers, system)
    expect(follow_up).to_have_count(1)

    qr = page.evaluate(RESPONSE)
    assert qr["resourceType"] == "QuestionnaireResponse"
    assert qr["questionnaire"].split("|")[0] == questionnaire["url"]
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
    QuestionnaireResponse.model_validate(qr)

    # post exactly what LHC-Forms produced
    from_fhir = page.request.post(base_url + "/api/plan", data=json.dumps(qr),
                                  headers={"Content-Type": "application/fhir+json"})
    assert from_fhir.status == 200, from_fhir.text()
    clean, errors = rulebook.validate_answers(answers)
    assert not errors
    from_json = page.request.post(base_url + "/api/plan", data=json.dumps(clean),
                                  headers={"Content-Type": "application/json"})
    assert from_fhir.json() == from_json.json()
    assert from_fhir.json()["answers"] == clean


def test_lhcforms_prefills_from_a_record(page, lforms_url, base_url, questionnaire, rulebook):
    from test_sdc_populate import RECORDS
    resources, expected = RECORDS["prostate, everything recent"]
    _open(page, lforms_url, questionnaire, resources, prepopulate=True)
    assert len(page.evaluate("window.requests")) == 5
    qr = page.evaluate(RESPONSE)
    r = page.request.post(base_url + "/api/plan", data=json.dumps(qr),
                          headers={"Content-Type": "application/fhir+json"})
    assert r.status == 200, r.text()
    assert r.json()["answers"] == expected
    # a follow-up of the pre-filled answer is offered (prostate -> prostate_status)
    expect(page.locator('[id="item-prostate_status/1/1"]')).to_have_count(1)


def test_a_prefill_link_ticks_the_answers_and_leaves_no_trace(page, base_url):
    answers = {"primary_cancer": "breast", "calcium": "high", "pain_score": "8",
               "bone_sites": ["spine", "ribs"]}
    pairs = [(k, v) for k, vals in answers.items() for v in (vals if isinstance(vals, list) else [vals])]
    seen = []
    page.on("request", lambda req: seen.append(req.url))
    page.goto(base_url + "/questionnaire#" + urlencode(pairs))
    expect(page.locator('input[name="primary_cancer"][value="breast"]')).to_be_checked()
    expect(page.locator('input[name="calcium"][value="high"]')).to_be_checked()
    expect(page.locator('input[name="bone_sites"][value="spine"]')).to_be_checked()
    expect(page.locator('input[name="bone_sites"][value="ribs"]')).to_be_checked()
    expect(page.locator('input[name="pain_score"]')).to_have_value("8")
    assert "#" not in page.url   # removed from the address bar and the history entry
    assert all("breast" not in u and "calcium" not in u for u in seen)   # never sent


def test_the_import_page_is_accessible(page, base_url):
    from axe_playwright_python.sync_playwright import Axe
    page.goto(base_url + "/questionnaire/import")
    page.get_by_role("button", name="Open my answers").click()   # nothing pasted: the error page
    expect(page.locator("#error-summary")).to_be_visible()
    for _ in range(2):
        result = Axe().run(page)
        assert result.violations_count == 0, [v["id"] for v in result.response["violations"]]
        page.goto(base_url + "/questionnaire/import")

