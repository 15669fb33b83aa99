"""Pre-fill from the record with a real, independent SDC implementation: CSIRO's
``@aehrc/sdc-populate`` (npm) runs under node on patient records written here, against our
generated Questionnaire. What it fills must be what ``rules/record.yaml`` says, must equal the
Python reading used by the CDS Hooks service, and the populated response must give the same plan
as the same answers sent as JSON.

Needs node and ``npm ci --prefix tests/js``; skipped (with that reason) only when they are absent.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import subprocess

import pytest

from bonemets.fhir import answers_from_record

HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(HERE, "js")
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not os.path.isdir(os.path.join(JS, "node_modules", "@aehrc", "sdc-populate")),
    reason="node or tests/js/node_modules is missing: run `npm ci --prefix tests/js`")

FHIR = "application/fhir+json"
UCUM = "http://unitsofmeasure.org"


def when(days_ago: int) -> str:
    t = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0) - _dt.timedelta(days=days_ago)
    return t.isoformat().replace("+00:00", "Z")


def obs(oid, code, days_ago=3, status="final", **value):
    return {"resourceType": "Observation", "id": oid, "status": status,
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when(days_ago),
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]}, **value}


def qty(v, unit):
    return {"valueQuantity": {"value": v, "unit": unit, "system": UCUM, "code": unit}}


def cond(cid, code, status="active"):
    c = {"resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/p1"},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]}}
    if status:
        c["clinicalStatus"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]}
    return c


def flag(code):
    return [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                         "code": code}]}]


RECORDS = {
    "prostate, everything recent": ([
        cond("c1", "399068003"),
        obs("o1", "62238-1", **qty(45, "mL/min/{1.73_m2}")),
        obs("o2", "17861-6", **qty(11.9, "mg/dL")),
        obs("o3", "89247-1", valueCodeableConcept={"coding": [{"system": "http://loinc.org", "code": "LA9623-5"}]}),
        obs("o4", "72514-3", **qty(6, "{score}")),
    ], {"primary_cancer": "prostate", "kidney_function": "reduced", "calcium": "high",
        "activity_level": "light_activity", "pain_score": 6}),
    "breast, latest wins, lab flag wins": ([
        cond("c1", "372137005"),
        cond("c2", "363358000", status="resolved"),           # an old lung cancer: resolved
        obs("o1", "98979-8", days_ago=40, **qty(25, "mL/min/{1.73_m2}")),
        obs("o2", "62238-1", days_ago=2, **qty(88, "mL/min/{1.73_m2}")),
        obs("o3", "17861-6", interpretation=flag("L"), **qty(9.0, "mg/dL")),
        obs("o4", "89247-1", valueInteger=2),
        obs("o5", "72514-3", valueInteger=0),
    ], {"primary_cancer": "breast", "kidney_function": "normal", "calcium": "low",
        "activity_level": "self_care_only", "pain_score": 0}),
    "myeloma, creatinine clearance, bedbound": ([
        cond("c1", "109989006", status=None),
        obs("o1", "2164-2", **qty(22, "mL/min")),
        obs("o2", "89247-1", valueCodeableConcept={"coding": [{"system": "http://loinc.org", "code": "LA9626-8"}]}),
    ], {"primary_cancer": "myeloma", "kidney_function": "severely_reduced", "activity_level": "bedbound"}),
    "left for the person: old, unclear, preliminary, odd units": ([
        cond("c1", "254837009"), cond("c2", "363518003"),     # two cancers: which one spread?
        obs("o1", "62238-1", days_ago=200, **qty(20, "mL/min/{1.73_m2}")),
        obs("o2", "17861-6", status="preliminary", **qty(12.5, "mg/dL")),
        obs("o3", "72514-3", **qty(6.5, "{score}")),
        obs("o4", "89247-1", days_ago=120, valueInteger=1),
    ], {}),
    "thyroid, nothing else": ([cond("c1", "363478007")], {"primary_cancer": "thyroid"}),
    "an empty record": ([], {}),
}


@pytest.fixture(scope="module")
def questionnaire_file(tmp_path_factory, app):
    path = tmp_path_factory.mktemp("fhir") / "questionnaire.json"
    path.write_text(app.test_client().get("/fhir/Questionnaire").get_data(as_text=True))
    return str(path)


def populate(questionnaire_file, resources, tmp_path) -> dict:
    record = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": {"resourceType": "Patient", "id": "p1"}}]
              + [{"resource": r} for r in resources]}
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    out = subprocess.run([NODE, "populate.mjs", questionnaire_file, str(path)], cwd=JS,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["success"], result
    return result


@pytest.mark.parametrize("case", list(RECORDS))
def test_sdc_populate_fills_what_the_record_says(client, rulebook, questionnaire_file, tmp_path, case):
    resources, expected = RECORDS[case]
    result = populate(questionnaire_file, resources, tmp_path)
    qr = result["response"]
    fhir_book = client.application.extensions["bonemets_fhir"]
    # every record source was asked for, with the patient filled into the query
    assert len(result["queries"]) == 1 + len(fhir_book.rm.observations)
    assert all("patient=p1" in q for q in result["queries"])
    assert result["terminology"] == []     # our answers carry their own code system and words

    raw, problems = fhir_book.read_response(qr)
    assert problems == []
    assert raw == expected
    # the CDS Hooks service reads the record the same way (one mapping, two readers)
    assert answers_from_record(resources, fhir_book.rm, _dt.date.today()) == expected

    # and the populated response, posted as is, gives the plan of the same answers
    from_fhir = client.post("/api/plan", data=json.dumps(qr), content_type=FHIR)
    assert from_fhir.status_code == 200, from_fhir.get_data(as_text=True)
    assert from_fhir.get_json() == client.post("/api/plan", json=expected).get_json()
