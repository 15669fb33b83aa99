"""CDS Hooks 2.0: discovery, the patient-view service and the exact response shape."""
from __future__ import annotations

import datetime as _dt
import json
import re
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest

FHIR = "application/fhir+json"
SERVICE = "/cds-services/bonemets-options"
INDICATORS = {"info", "warning", "critical"}


def when(days_ago=2):
    t = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0) - _dt.timedelta(days=days_ago)
    return t.isoformat().replace("+00:00", "Z")


def obs(code, **value):
    return {"resourceType": "Observation", "status": "final", "effectiveDateTime": when(),
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]}, **value}


def bundle(*resources):
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


BREAST = {"resourceType": "Condition", "subject": {"reference": "Patient/p1"},
          "code": {"coding": [{"system": "http://snomed.info/sct", "code": "254837009"}]}}
HIGH_CA = obs("17861-6", valueQuantity={"value": 12.1, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"})
EGFR = obs("62238-1", valueQuantity={"value": 52, "unit": "mL/min/{1.73_m2}", "system": "http://unitsofmeasure.org", "code": "mL/min/{1.73_m2}"})
PAIN = obs("72514-3", valueInteger=8)


def hook(prefetch=None, **extra):
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "fhirServer": "https://ehr.example/fhir",
            "context": {"userId": "Practitioner/1", "patientId": "p1"}, **extra}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def prefetch(discovery, **bundles):
    """A prefetch for every key of the discovery document (a patient, and the given bundles)."""
    keys = discovery["services"][0]["prefetch"]
    return {k: bundles.get(k, {"resourceType": "Patient", "id": "p1"} if k == "patient" else bundle())
            for k in keys}


@pytest.fixture()
def discovery(client):
    r = client.get("/cds-services")
    assert r.status_code == 200
    return r.get_json()


def no_nulls(value, path="$"):
    """CDS Hooks: null or empty values are not allowed; optional fields are left out."""
    if isinstance(value, dict):
        assert value, f"empty object at {path}"
        for k, v in value.items():
            no_nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        assert value or path.endswith("cards"), f"empty list at {path}"
        for i, v in enumerate(value):
            no_nulls(v, f"{path}[{i}]")
    else:
        assert value is not None and value != "", f"null or empty at {path}"


def check_card(card):
    assert set(card) <= {"uuid", "summary", "detail", "indicator", "source", "suggestions",
                         "selectionBehavior", "overrideReasons", "links"}
    uuid.UUID(card["uuid"])
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) <= 140
    assert card["indicator"] in INDICATORS
    assert set(card["source"]) <= {"label", "url", "icon", "topic"} and card["source"]["label"]
    assert urlsplit(card["source"].get("url", "https://x")).scheme in ("http", "https")
    for link in card.get("links", []):
        assert set(link) <= {"label", "url", "type", "appContext"}
        assert link["label"] and link["type"] in ("absolute", "smart")
        assert urlsplit(link["url"]).scheme in ("http", "https")
    assert "suggestions" not in card   # never writes orders


def test_discovery(discovery, client):
    no_nulls(discovery)
    (svc,) = discovery["services"]
    assert svc["id"] == "bonemets-options" and svc["hook"] == "patient-view"
    assert svc["title"] and svc["description"]
    assert svc["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    for key, query in svc["prefetch"].items():
        assert "{{context.patientId}}" in query, key
    # the same searches as the Questionnaire's pre-fill variables
    q = client.get("/fhir/Questionnaire").get_json()
    variables = {e["valueExpression"]["name"]: e["valueExpression"]["expression"]
                 for e in q["extension"] if e["url"].endswith("/variable")}
    assert {k: v.replace("{{%patient.id}}", "{{context.patientId}}") for k, v in variables.items()} \
        == {k: v for k, v in svc["prefetch"].items() if k != "patient"}


def test_high_calcium_is_a_warning_card(client, discovery, rulebook):
    body = hook(prefetch(discovery, bmConditions=bundle(BREAST), bmObsCalcium=bundle(HIGH_CA),
                         bmObsKidneyFunction=bundle(EGFR), bmObsPainScore=bundle(PAIN)))
    r = client.post(SERVICE, json=body)
    assert r.status_code == 200 and r.mimetype == "application/json"
    out = r.get_json()
    assert set(out) == {"cards"}
    no_nulls(out)
    for card in out["cards"]:
        check_card(card)
    flag = rulebook.flags["high_calcium"]
    warn = [c for c in out["cards"] if c["indicator"] == "warning"]
    assert flag["title"] in [c["summary"] for c in warn]
    calcium_card = next(c for c in warn if c["summary"] == flag["title"])
    assert flag["action"] in calcium_card["detail"] and rulebook.caveat in calcium_card["detail"]
    assert calcium_card["source"]["url"] == rulebook.sources[flag["sources"][0]]["url"]

    info = [c for c in out["cards"] if c["indicator"] == "info"]
    assert len(info) == 1
    card = info[0]
    plan = client.post("/api/plan", json={"primary_cancer": "breast", "calcium": "high",
                                          "kidney_function": "reduced", "pain_score": 8}).get_json()
    discuss = [o for o in plan["options"] if o["group"] == "discuss"]
    assert discuss
    for o in discuss:
        assert o["name"] in card["detail"] and o["reasons"][0]["text"] in card["detail"]
    assert rulebook.caveat in card["detail"]
    assert "Sources:" in card["detail"]
    (link,) = card["links"]
    assert link["type"] == "absolute"
    parts = urlsplit(link["url"])
    assert parts.path == "/questionnaire"
    assert parts.query == ""          # nothing about the person in what a server sees
    assert dict(parse_qsl(parts.fragment)) == {"primary_cancer": "breast", "calcium": "high",
                                               "kidney_function": "reduced", "pain_score": "8"}
    # no identifiers of the person in any card
    assert "Patient/p1" not in json.dumps(out)


def test_every_urgency_has_an_indicator(rulebook):
    # A record cannot tick symptoms, so today an emergency comes only from the answers; every
    # urgency of the rule book still maps to a CDS indicator, emergencies to "critical".
    from bonemets.cds import INDICATOR
    assert {f["urgency"] for f in rulebook.flags.values()} <= set(INDICATOR)
    assert set(INDICATOR.values()) <= INDICATORS - {"info"}
    assert INDICATOR["emergency"] == "critical"


def test_nothing_in_the_record_still_gives_the_info_card(client, discovery):
    out = client.post(SERVICE, json=hook(prefetch(discovery))).get_json()
    no_nulls(out)
    (card,) = out["cards"]
    check_card(card)
    assert card["indicator"] == "info"
    assert urlsplit(card["links"][0]["url"]).fragment == ""


def test_old_results_are_not_used(client, discovery):
    old = {**HIGH_CA, "effectiveDateTime": when(days_ago=400)}
    out = client.post(SERVICE, json=hook(prefetch(discovery, bmObsCalcium=bundle(old)))).get_json()
    assert [c["indicator"] for c in out["cards"]] == ["info"]


def test_missing_prefetch_is_412(client):
    r = client.post(SERVICE, json=hook())
    assert r.status_code == 412 and r.mimetype == FHIR
    assert r.get_json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'"text"',
    json.dumps({"hook": "order-select", "hookInstance": "x", "context": {"patientId": "p1"}}).encode(),
    json.dumps({"hook": "patient-view", "context": {"patientId": "p1"}}).encode(),
    json.dumps({"hook": "patient-view", "hookInstance": "x", "context": {}}).encode(),
    json.dumps({"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"},
                "prefetch": [1]}).encode(),
])
def test_bad_requests_get_400(client, body):
    r = client.post(SERVICE, data=body, content_type="application/json")
    assert r.status_code == 400 and r.mimetype == FHIR
    oo = r.get_json()
    assert oo["resourceType"] == "OperationOutcome" and oo["issue"][0]["details"]["text"]


def test_odd_prefetch_contents_never_crash(client, discovery):
    weird = {"patient": None, "bmConditions": {"resourceType": "Bundle", "entry": [None, {"resource": 3}]},
             "bmObsCalcium": {"resourceType": "Bundle", "entry": [{"resource": {
                 "resourceType": "Observation", "status": "final", "effectiveDateTime": 5,
                 "code": "17861-6", "valueQuantity": {"value": "high"}}}]},
             "bmObsPainScore": "text", "bmObsActivityLevel": [{"resourceType": "Observation"}]}
    r = client.post(SERVICE, json=hook(weird))
    assert r.status_code == 200
    assert [c["indicator"] for c in r.get_json()["cards"]] == ["info"]


def test_unknown_service_is_404(client):
    assert client.post("/cds-services/nope", json=hook({})).status_code == 404


def test_feedback_is_accepted_and_not_kept(client):
    r = client.post(SERVICE + "/feedback", json={"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted",
                                                               "outcomeTimestamp": when()}]})
    assert r.status_code == 200


def test_prefill_link_answers_are_valid_answers(client, discovery, rulebook):
    out = client.post(SERVICE, json=hook(prefetch(discovery, bmConditions=bundle(BREAST),
                                                  bmObsPainScore=bundle(PAIN)))).get_json()
    link = next(c for c in out["cards"] if c["indicator"] == "info")["links"][0]["url"]
    pairs = parse_qsl(urlsplit(link).fragment)
    assert rulebook.validate_answers(dict(pairs))[1] == {}
    assert re.fullmatch(r"[a-z_=&0-9]+", urlsplit(link).fragment)
