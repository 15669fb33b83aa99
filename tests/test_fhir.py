"""FHIR: the Questionnaire, CodeSystem and ValueSets are generated from the rule book and parse
with fhir.resources (R4B models); QuestionnaireResponse out and in is lossless and gives the same
plan as the JSON answers; bad FHIR input gets 400 with an OperationOutcome, never a 500.

(fhir.resources checks structure, not codes: the codes are checked here against the rule book.)
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import os
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _pages import Page, as_answers, submitted
from bonemets.fhir import (FhirBook, answers_from_record, initial_expression, load_record_map,
                           operation_outcome)
from bonemets.rules import RuleBookError, load_rulebook
from conftest import RULES_DIR

# fhir.resources 8.x (pip install 'fhir.resources>=8,<9'): R4B models under fhir.resources.R4B
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.valueset import ValueSet

BASE = "https://bonemets.example/fhir"
FHIR = "application/fhir+json"
NOW = _dt.datetime(2026, 12, 1, 10, 0, tzinfo=_dt.timezone.utc)


@pytest.fixture(scope="module")
def book(rulebook):
    return FhirBook(rulebook, load_record_map(RULES_DIR, rulebook), BASE)


def walk(items):
    for it in items:
        yield it
        yield from walk(it.get("item", []))


def by_link(q) -> dict:
    return {it["linkId"]: it for it in walk(q["item"])}


# --------------------------------------------------------------------------------------------
# Questionnaire
# --------------------------------------------------------------------------------------------
def test_questionnaire_route_serves_the_generated_resource(client, book):
    r = client.get("/fhir/Questionnaire")
    assert r.status_code == 200 and r.mimetype == FHIR
    q = r.get_json()
    assert q == book.questionnaire
    assert client.get("/fhir/Questionnaire/bonemets").get_json() == q
    Questionnaire.model_validate(q)
    assert q["status"] == "active" and q["url"] == f"{BASE}/Questionnaire/bonemets"


def test_questionnaire_follows_the_rule_book(rulebook, book):
    q = book.questionnaire
    assert q["version"] == rulebook.version and q["date"] == rulebook.reviewed.isoformat()
    assert any("sdc-questionnaire" in p for p in q["meta"]["profile"])
    items = by_link(q)
    assert q["item"][0] == {"linkId": "caveat", "type": "display", "text": rulebook.caveat}
    # every section is a group holding its fields, in order
    groups = [it for it in q["item"] if it["type"] == "group"]
    assert [g["linkId"] for g in groups] == [f"section-{s.id}" for s in rulebook.sections]
    for g, s in zip(groups, rulebook.sections):
        assert g["text"] == s.title
        assert [i["linkId"] for i in g["item"] if i["type"] != "display"] == list(s.fields)
    for name, f in rulebook.fields.items():
        it = items[name]
        assert it["text"] == f.label
        if f.kind == "number":
            assert it["type"] == "integer" and "answerOption" not in it
            ext = {e["url"].rsplit("/", 1)[1]: e.get("valueInteger") for e in it["extension"]}
            assert ext["minValue"] == f.min and ext["maxValue"] == f.max
        else:
            assert it["type"] == "choice"
            assert it.get("repeats", False) is (f.kind == "many")
            codings = [o["valueCoding"] for o in it["answerOption"]]
            assert [c["code"] for c in codings] == list(f.values)
            assert [c["display"] for c in codings] == [label for _, label in f.choices]
            assert {c["system"] for c in codings} == {book.system}
        if "unknown" in f.values:
            assert "unknown" in [o["valueCoding"]["code"] for o in it["answerOption"]]
        if f.hint:
            help_items = [c for c in it["item"] if c["type"] == "display"]
            assert help_items[0]["text"] == f.hint
            assert help_items[0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "help"
        if f.only_if:
            expected = {(k, v) for k, vals in f.only_if.items() for v in vals}
            got = {(w["question"], w["answerCoding"]["code"]) for w in it["enableWhen"]}
            assert got == expected
            assert all(w["operator"] == "=" and w["answerCoding"]["system"] == book.system
                       and w["question"] in rulebook.fields for w in it["enableWhen"])
        else:
            assert "enableWhen" not in it


def test_linkids_are_unique(book):
    ids = [it["linkId"] for it in walk(book.questionnaire["item"])]
    assert len(ids) == len(set(ids))


def _grown_rulebook(tmp_path):
    """A copy of the rule book grown the way content grows: new follow-up questions (one on two
    others) and a new value of an old question, under names the real rule book does not use."""
    root = tmp_path / "rules"
    shutil.copytree(RULES_DIR, root)
    path = root / "questionnaire.yaml"
    data = yaml.safe_load(path.read_text())
    data["fields"]["grown_followup_lines"] = {
        "kind": "one", "label": "How many cancer medicines have you tried since hormone therapy stopped working?",
        "summary_label": "Medicines tried since", "only_if": {
            "primary_cancer": ["prostate"], "prostate_status": ["castration_resistant"]},
        "choices": {"none": "None", "one": "One", "two_or_more": "Two or more", "unknown": "I don't know"}}
    data["fields"]["grown_followup_scan"] = {
        "kind": "one", "label": "What did your PSMA PET scan show?", "summary_label": "PSMA scan",
        "only_if": {"primary_cancer": ["prostate", "other"]},
        "choices": {"positive": "Positive", "negative": "Negative", "not_done": "Not done", "unknown": "I don't know"}}
    data["fields"]["symptoms_now"]["choices"]["grown_symptom"] = "Muscle cramps or tingling"
    data["sections"][0]["fields"] += ["grown_followup_lines", "grown_followup_scan"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_rulebook(str(root)), str(root)


def test_new_questions_and_values_appear_without_code_changes(tmp_path):
    rb, root = _grown_rulebook(tmp_path)
    b = FhirBook(rb, load_record_map(root, rb), BASE)
    Questionnaire.model_validate(b.questionnaire)
    items = by_link(b.questionnaire)
    crpc = items["grown_followup_lines"]
    assert crpc["enableBehavior"] == "all" and len(crpc["enableWhen"]) == 2
    psma = items["grown_followup_scan"]
    assert psma["enableBehavior"] == "any" and {w["answerCoding"]["code"] for w in psma["enableWhen"]} == {"prostate", "other"}
    assert "grown_symptom" in [o["valueCoding"]["code"] for o in items["symptoms_now"]["answerOption"]]
    assert "not_done" in [c["code"] for c in b.codesystem["concept"]]
    assert b.valuesets["grown_followup_scan"]["compose"]["include"][0]["concept"][2]["code"] == "not_done"
    answers = {"primary_cancer": "prostate", "prostate_status": "castration_resistant",
               "grown_followup_lines": "two_or_more", "symptoms_now": ["grown_symptom"]}
    raw, problems = b.read_response(b.response(answers, NOW))
    assert not problems and rb.validate_answers(raw) == (answers, {})


def test_several_questions_with_several_values_use_an_expression(tmp_path):
    rb, root = _grown_rulebook(tmp_path)
    rb.fields["psma_scan"].only_if.update({"organ_spread": ("yes", "no")})  # test-only change
    b = FhirBook(rb, load_record_map(root, rb), BASE)
    item = by_link(b.questionnaire)["psma_scan"]
    assert "enableWhen" not in item
    exprs = [e for e in item["extension"] if e["url"].endswith("enableWhenExpression")]
    assert "organ_spread" in exprs[0]["valueExpression"]["expression"]


# --------------------------------------------------------------------------------------------
# CodeSystem and ValueSets
# --------------------------------------------------------------------------------------------
def test_codesystem_holds_every_answer_value(client, rulebook, book):
    r = client.get("/fhir/CodeSystem/bonemets-answers")
    assert r.status_code == 200 and r.mimetype == FHIR
    cs = r.get_json()
    CodeSystem.model_validate(cs)
    codes = [c["code"] for c in cs["concept"]]
    assert len(codes) == len(set(codes)) == cs["count"]
    every = {v for f in rulebook.fields.values() for v in f.values}
    assert set(codes) == every and "unknown" in codes
    assert cs["url"] == book.system and cs["version"] == rulebook.version


def test_a_valueset_per_question_with_its_own_words(client, rulebook, book):
    for name, f in rulebook.fields.items():
        if f.kind == "number":
            continue
        vs = book.valuesets[name]
        r = client.get(f"/fhir/ValueSet/{vs['id']}")
        assert r.status_code == 200 and r.get_json() == vs
        ValueSet.model_validate(vs)
        inc = vs["compose"]["include"][0]
        assert inc["system"] == book.system
        assert [(c["code"], c["display"]) for c in inc["concept"]] == list(f.choices)
    ValueSet.model_validate(client.get("/fhir/ValueSet/bonemets-answers").get_json())


@pytest.mark.parametrize("url", ["/fhir/ValueSet/nope", "/fhir/CodeSystem/nope"])
def test_unknown_terminology_is_a_fhir_404(client, url):
    r = client.get(url)
    assert r.status_code == 404 and r.mimetype == FHIR
    OperationOutcome.model_validate(r.get_json())


# --------------------------------------------------------------------------------------------
# QuestionnaireResponse: out, in, lossless, same plan
# --------------------------------------------------------------------------------------------
def answer_sets(rb):
    parts = {}
    for name, f in rb.fields.items():
        if f.kind == "one":
            parts[name] = st.sampled_from(f.values)
        elif f.kind == "many":
            parts[name] = st.lists(st.sampled_from(f.values), min_size=1, unique=True)
        else:
            parts[name] = st.integers(f.min, f.max)
    return st.fixed_dictionaries({}, optional=parts)


def _clean(rb, raw):
    answers, errors = rb.validate_answers(raw)
    assert not errors
    return answers


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_response_round_trip_is_lossless(rulebook, book, data):
    answers = _clean(rulebook, data.draw(answer_sets(rulebook)))
    qr = book.response(answers, NOW)
    QuestionnaireResponse.model_validate(qr)
    assert "subject" not in qr and "author" not in qr
    raw, problems = book.read_response(json.loads(json.dumps(qr)))
    assert problems == []
    assert _clean(rulebook, raw) == answers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_plan_from_a_response_equals_plan_from_answers(client, rulebook, book, data):
    answers = _clean(rulebook, data.draw(answer_sets(rulebook)))
    from_json = client.post("/api/plan", json=answers)
    from_fhir = client.post("/api/plan", data=json.dumps(book.response(answers, NOW)), content_type=FHIR)
    assert from_fhir.status_code == 200 == from_json.status_code
    assert from_fhir.get_json() == from_json.get_json()


def test_download_from_the_form(client, rulebook, typical):
    r = client.post("/questionnaire-response", data=typical)
    assert r.status_code == 200 and r.mimetype == FHIR
    assert r.headers["Content-Disposition"].startswith('attachment; filename="bone-mets-answers-')
    assert r.headers["Cache-Control"] == "no-store"
    qr = json.loads(r.data)
    QuestionnaireResponse.model_validate(qr)
    assert qr["questionnaire"] == f"{BASE}/Questionnaire/bonemets|{rulebook.version}"
    assert qr["status"] == "completed" and "subject" not in qr


def test_results_and_summary_offer_the_download(client, typical):
    for page in ("/plan", "/summary"):
        html = client.post(page, data=typical).get_data(as_text=True)
        form = Page(html).form("/questionnaire-response")
        assert as_answers(submitted(form), typical) == as_answers(
            [(k, v) for k, vals in typical.items() for v in (vals if isinstance(vals, list) else [vals])], typical)


def test_form_to_response_to_form_is_lossless(client, rulebook, typical):
    sent = {**typical, "pain_score": "7", "bone_damage": ["fracture_risk", "spine_unstable"]}
    qr = client.post("/questionnaire-response", data=sent).data
    for how in ("upload", "paste"):
        data = ({"file": (io.BytesIO(qr), "answers.json")} if how == "upload"
                else {"response": qr.decode()})
        r = client.post("/questionnaire/import", data=data, content_type="multipart/form-data")
        assert r.status_code == 200, how
        page = Page(r.get_data(as_text=True))
        back = as_answers(submitted(page.form("/plan")), rulebook.fields)
        want = as_answers([(k, v) for k, vals in sent.items()
                           for v in (vals if isinstance(vals, list) else [vals])], rulebook.fields)
        assert back == want, how


def test_the_questionnaire_links_to_the_import_page(client):
    html = client.get("/questionnaire").get_data(as_text=True)
    assert "/questionnaire/import" in Page(html).urls
    r = client.get("/questionnaire/import")
    assert r.status_code == 200
    assert Page(r.get_data(as_text=True)).form("/questionnaire/import")


def test_csrf_protects_the_download_and_the_import(csrf_client, typical):
    assert csrf_client.post("/questionnaire-response", data=typical).status_code == 400
    r = csrf_client.post("/questionnaire/import", data={"response": '{"keep": "me"}'})
    assert r.status_code == 400 and "{&#34;keep&#34;: &#34;me&#34;}" in r.get_data(as_text=True)
    token = Page(csrf_client.get("/questionnaire/import").get_data(as_text=True)).token()
    qr = csrf_client.post("/questionnaire-response", data={**typical, "csrf_token": token})
    assert qr.status_code == 200
    r = csrf_client.post("/questionnaire/import", data={"response": qr.data.decode(), "csrf_token": token})
    assert r.status_code == 200


# --------------------------------------------------------------------------------------------
# Bad FHIR input
# --------------------------------------------------------------------------------------------
def _qr(book, items, **extra):
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": book.url, "item": items, **extra}


def _one(book, link, **answer):
    return [{"linkId": link, "answer": [answer]}]


BAD = {
    "malformed JSON": lambda b: b'{"resourceType": "QuestionnaireResponse", ',
    "not an object": lambda b: [1, 2],
    "wrong resourceType": lambda b: {"resourceType": "Patient", "id": "x"},
    "no resourceType": lambda b: {"item": []},
    "another questionnaire": lambda b: {**_qr(b, []), "questionnaire": "http://example.org/Questionnaire/phq-9"},
    "no questionnaire": lambda b: {k: v for k, v in _qr(b, []).items() if k != "questionnaire"},
    "bad status": lambda b: _qr(b, [], status="draft"),
    "unknown linkId": lambda b: _qr(b, [{"linkId": "height_cm", "answer": [{"valueInteger": 170}]}]),
    "unknown code": lambda b: _qr(b, _one(b, "primary_cancer", valueCoding={"system": b.system, "code": "liver"})),
    "foreign code system": lambda b: _qr(b, _one(b, "primary_cancer", valueCoding={
        "system": "http://snomed.info/sct", "code": "254837009"})),
    "string for a choice": lambda b: _qr(b, _one(b, "calcium", valueString="high")),
    "two answers to a pick-one": lambda b: _qr(b, [{"linkId": "calcium", "answer": [
        {"valueCoding": {"system": b.system, "code": "high"}},
        {"valueCoding": {"system": b.system, "code": "low"}}]}]),
    "pain score out of range": lambda b: _qr(b, _one(b, "pain_score", valueInteger=11)),
    "pain score as text": lambda b: _qr(b, _one(b, "pain_score", valueString="7")),
    "answered twice": lambda b: _qr(b, _one(b, "calcium", valueCoding={"system": b.system, "code": "high"}) * 2),
    "answer on a group": lambda b: _qr(b, [{"linkId": "section-cancer", "answer": [{"valueBoolean": True}]}]),
    "item not a list": lambda b: _qr(b, {"linkId": "calcium"}),
    "item without linkId": lambda b: _qr(b, [{"text": "hi"}]),
    # a lone surrogate (JSON's \ud800 escape, which UTF-8 cannot hold) quoted back in a problem
    "lone surrogate resourceType": lambda b: {"resourceType": "\ud800"},
    "lone surrogate linkId": lambda b: _qr(b, [{"linkId": "\ud800"}]),
    "pain score too long for Python": lambda b: json.dumps(_qr(b, _one(b, "pain_score", valueInteger=1))).replace(
        '"valueInteger": 1', '"valueInteger": ' + "9" * 5001).encode(),
    "lone surrogate code": lambda b: _qr(b, _one(b, "primary_cancer", valueCoding={"system": b.system, "code": "\ud800"})),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_fhir_gets_400_with_an_operation_outcome(client, book, case):
    body = BAD[case](book)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = client.post("/api/plan", data=data, content_type=FHIR)
    assert r.status_code == 400, case
    assert r.mimetype == FHIR
    oo = r.get_json()
    OperationOutcome.model_validate(oo)
    *errors, caveat = oo["issue"]
    assert errors and all(i["severity"] == "error" and i["details"]["text"] for i in errors)
    # the caveat, as on every answer (the JSON API's errors carry it too)
    assert caveat["severity"] == "information" and caveat["details"]["text"] == book.rb.caveat
    # the import page says the same, keeps what was pasted, and stores nothing
    r = client.post("/questionnaire/import", data={"response": data.decode()})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "We could not open these answers" in html
    page = Page(html)
    assert page.form("/questionnaire/import")
    assert oo["issue"][0]["details"]["text"].replace("'", "&#39;").replace('"', "&#34;") in html


def test_import_asks_for_something_when_empty(client):
    r = client.post("/questionnaire/import", data={"response": "  "})
    assert r.status_code == 400 and "Paste a QuestionnaireResponse" in r.get_data(as_text=True)
    r = client.post("/questionnaire/import", data={"file": (io.BytesIO(b"\xff\xfe\x00bad"), "x.json")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "not a text file" in r.get_data(as_text=True)


def test_json_answers_still_go_to_the_json_api(client):
    r = client.post("/api/plan", json={"resourceType": "QuestionnaireResponse"})
    assert r.status_code == 400 and "errors" in r.get_json()   # application/json: answers


def test_a_response_to_an_older_version_is_read(client, book, typical):
    qr = book.response(_clean(book.rb, typical), NOW)
    qr["questionnaire"] = book.url + "|2020.1"
    assert client.post("/api/plan", data=json.dumps(qr), content_type=FHIR).status_code == 200


def test_operation_outcome_shape():
    oo = operation_outcome([("x", "invalid", "Plain words.")])
    OperationOutcome.model_validate(oo)
    OperationOutcome.model_validate(operation_outcome([(None, "not-found", "Gone.")], caveat="Ask."))


@pytest.mark.parametrize("method, path, kw, status", [
    ("get", "/fhir/Questionnaire/other", {}, 404),
    ("post", "/fhir/Questionnaire", {}, 405),
    ("get", "/fhir/nothing-here", {}, 404),
    ("get", "/cds-services/bonemets-options", {}, 405),
    ("post", "/cds-services/bonemets-options", dict(data=b"x" * 70000, content_type="application/json"), 413),
    ("post", "/api/plan", dict(data=b"x" * 70000, content_type=FHIR), 413),
])
def test_the_frameworks_own_errors_on_fhir_routes_are_operation_outcomes(client, rulebook, method, path, kw, status):
    """A 404, 405 or 413 that Flask raises before any FHIR view runs is an OperationOutcome too,
    with the HTTP headers it needs (Allow on a 405) and the caveat."""
    r = getattr(client, method)(path, **kw)
    assert r.status_code == status and r.mimetype == FHIR
    oo = r.get_json()
    OperationOutcome.model_validate(oo)
    assert oo["issue"][0]["severity"] == "error" and oo["issue"][-1]["details"]["text"] == rulebook.caveat
    assert (status != 405) or r.headers["Allow"]


# --------------------------------------------------------------------------------------------
# What the record can answer (rules/record.yaml) and its Python reading (CDS Hooks)
# --------------------------------------------------------------------------------------------
TODAY = _dt.date(2026, 12, 1)


def obs(code, days_ago=5, status="final", **value):
    when = (_dt.datetime(2026, 12, 1, 9, 0) - _dt.timedelta(days=days_ago)).isoformat() + "Z"
    return {"resourceType": "Observation", "status": status, "effectiveDateTime": when,
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]}, **value}


def qty(v, unit):
    return {"valueQuantity": {"value": v, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def cond(code, status="active"):
    c = {"resourceType": "Condition", "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]}}
    if status:
        c["clinicalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": status}]}
    return c


@pytest.mark.parametrize("resources, expected", [
    ([cond("254837009")], {"primary_cancer": "breast"}),
    ([cond("109989006", status=None)], {"primary_cancer": "myeloma"}),
    ([cond("254837009", status="resolved")], {}),
    ([cond("254837009"), cond("363358000")], {}),                      # two cancers: the person says
    ([cond("22298006")], {}),                                          # not a cancer we list
    ([obs("62238-1", **qty(72, "mL/min/{1.73_m2}"))], {"kidney_function": "normal"}),
    ([obs("62238-1", **qty(60, "mL/min/{1.73_m2}"))], {"kidney_function": "normal"}),
    ([obs("33914-3", **qty(45, "mL/min/{1.73_m2}"))], {"kidney_function": "reduced"}),
    ([obs("2164-2", **qty(22, "mL/min"))], {"kidney_function": "severely_reduced"}),
    ([obs("62238-1", **qty(45, "mg/dL"))], {}),                        # a unit we do not read
    ([obs("62238-1", days_ago=200, **qty(20, "mL/min/{1.73_m2}"))], {}),   # too old
    ([obs("62238-1", status="preliminary", **qty(20, "mL/min/{1.73_m2}"))], {}),
    ([obs("62238-1", days_ago=30, **qty(20, "mL/min/{1.73_m2}")),
      obs("98979-8", days_ago=2, **qty(80, "mL/min/{1.73_m2}"))], {"kidney_function": "normal"}),
    ([obs("17861-6", **qty(11.8, "mg/dL"))], {"calcium": "high"}),
    ([obs("17861-6", **qty(9.4, "mg/dL"))], {"calcium": "normal"}),
    ([obs("17861-6", **qty(7.9, "mg/dL"))], {"calcium": "low"}),
    ([obs("17861-6", interpretation=[{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "H"}]}],
        **qty(10.4, "mg/dL"))], {"calcium": "high"}),
    ([obs("89247-1", valueCodeableConcept={"coding": [{"system": "http://loinc.org", "code": "LA9624-3"}]})],
     {"activity_level": "self_care_only"}),
    ([obs("89247-1", valueInteger=4)], {"activity_level": "bedbound"}),
    ([obs("72514-3", **qty(7, "{score}"))], {"pain_score": 7}),
    ([obs("72514-3", valueInteger=3)], {"pain_score": 3}),
    ([obs("72514-3", **qty(6.5, "{score}"))], {}),
])
def test_answers_from_record(book, rulebook, resources, expected):
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    got = answers_from_record([bundle], book.rm, TODAY)
    assert got == expected
    assert rulebook.validate_answers(got) == (expected, {})


def test_prefill_expressions_for_every_mapped_question(book):
    items = by_link(book.questionnaire)
    mapped = [book.rm.condition_field] + [m.field for m in book.rm.observations]
    for name in mapped:
        exts = [e for e in items[name]["extension"] if e["url"].endswith("sdc-questionnaire-initialExpression")]
        expr = exts[0]["valueExpression"]["expression"]
        assert expr == initial_expression(name, book.rm, book.system, book.rb.fields[name].choices)
        if book.rb.fields[name].kind == "one":   # a choice item's initial value is a Coding
            assert expr.count("%factory.Coding(") == len(book.rb.fields[name].values)
    names = {e["valueExpression"]["name"] for e in book.questionnaire["extension"] if e["url"].endswith("/variable")}
    assert names == {book.rm.variable(n) for n in mapped}


@pytest.mark.parametrize("change, message", [
    (lambda d: d["observations"]["calcium"]["bands"].append({"min": 0, "value": "sky_high"}), "no value 'sky_high'"),
    (lambda d: d["observations"].update({"height": {"codes": [{"code": "8302-2", "display": "x"}]}}), "unknown field 'height'"),
    (lambda d: d["conditions"]["codes"].update({"liver": [{"code": "1", "display": "x"}]}), "no value 'liver'"),
    (lambda d: d["observations"]["kidney_function"].update({"sources": ["NOPE"]}), "unknown source 'NOPE'"),
    (lambda d: d.pop("reviewed"), "is missing 'reviewed'"),
])
def test_a_bad_record_file_is_refused_with_file_and_key(tmp_path, rulebook, change, message):
    data = yaml.safe_load(open(os.path.join(RULES_DIR, "record.yaml")))
    change(data)
    (tmp_path / "record.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(RuleBookError) as exc:
        load_record_map(str(tmp_path), rulebook)
    assert exc.value.file == "record.yaml" and message in str(exc.value)


# --------------------------------------------------------------------------------------------
# Headers and privacy on the new routes
# --------------------------------------------------------------------------------------------
def test_fhir_routes_have_the_security_headers_and_store_nothing(client, book, typical, caplog):
    import logging
    caplog.set_level(logging.DEBUG)
    qr = json.dumps(book.response(_clean(book.rb, {**typical, "pain_score": 9}), NOW))
    calls = [
        client.get("/fhir/Questionnaire"),
        client.get("/fhir/CodeSystem/bonemets-answers"),
        client.get("/fhir/ValueSet/bonemets-answers-calcium"),
        client.get("/questionnaire/import"),
        client.post("/questionnaire-response", data=typical),
        client.post("/questionnaire/import", data={"response": qr}),
        client.post("/questionnaire/import", data={"response": qr.replace("breast", "liver")}),
        client.post("/api/plan", data=qr, content_type=FHIR),
        client.post("/api/plan", data=qr.replace("breast", "liver"), content_type=FHIR),
        client.get("/cds-services"),
    ]
    for r in calls:
        assert r.status_code < 500
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in r.headers or "session=" in r.headers["Set-Cookie"]
    logged = caplog.text
    for value in ("breast", "liver", "stay_mobile", "fewest_visits", "partly_controlled"):
        assert value not in logged


def test_import_page_needs_no_inline_code(client):
    import re
    for html in (client.get("/questionnaire/import").get_data(as_text=True),
                 client.post("/questionnaire/import", data={"response": "{"}).get_data(as_text=True)):
        for m in re.finditer(r"<script\b[^>]*>", html, re.I):
            assert "src=" in m.group(0)
        assert not re.search(r"\sstyle\s*=|<style\b|\son[a-z]+\s*=", html, re.I)


def test_the_app_refuses_to_start_with_a_bad_record_file(tmp_path):
    from app import create_app
    root = tmp_path / "rules"
    shutil.copytree(RULES_DIR, root)
    text = (root / "record.yaml").read_text().replace("value: high}", "value: very_high}")
    (root / "record.yaml").write_text(text)
    with pytest.raises(RuleBookError, match=r"record.yaml, rule 'calcium': 'calcium' has no value 'very_high'"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "RULES_DIR": str(root)})


# --------------------------------------------------------------------------------------------
# Fuzzing: any JSON, never a 500
# --------------------------------------------------------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["QuestionnaireResponse", "primary_cancer", "section-cancer", "completed",
                       f"{BASE}/Questionnaire/bonemets", f"{BASE}/CodeSystem/bonemets-answers", "breast"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["resourceType", "questionnaire", "status", "item", "linkId", "answer",
                         "valueCoding", "valueInteger", "system", "code", "entry", "resource"]) | st.text(max_size=8),
        inner, max_size=5),
    max_leaves=30)


def _qr_like(book):
    return st.builds(lambda items: {"resourceType": "QuestionnaireResponse", "status": "completed",
                                    "questionnaire": book.url, "item": items}, JSON)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_json_gets_a_plan_or_an_operation_outcome(client, book, data):
    body = data.draw(JSON | _qr_like(book))
    r = client.post("/api/plan", data=json.dumps(body), content_type=FHIR)
    assert r.status_code in (200, 400)
    if r.status_code == 400:
        assert r.mimetype == FHIR and r.get_json()["resourceType"] == "OperationOutcome"
    r = client.post("/cds-services/bonemets-options", json={
        "hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"},
        "prefetch": {"bmObsCalcium": body, "bmConditions": body}})
    assert r.status_code in (200, 400, 412)


def test_deep_nesting_is_refused_not_a_crash(client, book):
    n = 300   # deep enough for any recursion, shallow enough for the JSON parser
    items = '{"linkId": "section-cancer", "item": [' * n + '{"linkId": "caveat"}' + "]}" * n
    body = ('{"resourceType": "QuestionnaireResponse", "status": "completed", '
            f'"questionnaire": "{book.url}", "item": [{items}]}}')
    r = client.post("/api/plan", data=body, content_type=FHIR)
    assert r.status_code == 400 and "nested" in r.get_data(as_text=True)
    deep = "[" * 900 + "]" * 900
    r = client.post("/cds-services/bonemets-options", data='{"hook": "patient-view", "hookInstance": "x", '
                    '"context": {"patientId": "p1"}, "prefetch": {"a": ' + deep + "}}",
                    content_type="application/json")
    assert r.status_code == 200
