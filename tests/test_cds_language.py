"""FHIR and CDS Hooks in the chosen language (issue 15): the cards follow the service call's
Accept-Language, else the patient's preferred language in the prefetched Patient; the FHIR
resources' own titles and texts follow the request's language. Codes and ids never change."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from test_cds import BREAST, EGFR, HIGH_CA, PAIN, SERVICE, bundle, check_card, hook, no_nulls
from test_i18n import english_words

ES = {"Accept-Language": "es-MX,es;q=0.9"}


@pytest.fixture()
def discovery(client):
    return client.get("/cds-services").get_json()


@pytest.fixture(scope="module")
def books():
    from bonemets import i18n
    from bonemets.paths import RULES_DIR
    return i18n.load_rulebooks(RULES_DIR, ["en", "es"])


def _prefetch(discovery, patient=None):
    keys = discovery["services"][0]["prefetch"]
    record = bundle(BREAST, HIGH_CA, EGFR, PAIN)  # in every bundle the discovery asks for
    return {k: (patient or {"resourceType": "Patient", "id": "p1"}) if k == "patient" else record
            for k in keys}


def _patient(*langs, preferred=None):
    comms = [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": code}], "text": code},
              **({"preferred": True} if code == preferred else {})} for code in langs]
    return {"resourceType": "Patient", "id": "p1", "communication": comms}


def _cards(client, discovery, headers=None, patient=None):
    r = client.post(SERVICE, json=hook(_prefetch(discovery, patient)), headers=headers or {})
    assert r.status_code == 200, r.get_data(as_text=True)
    out = r.get_json()
    no_nulls(out)
    for c in out["cards"]:
        check_card(c)
    info = next(c for c in out["cards"] if c["indicator"] == "info")
    return out, info


def test_cards_in_spanish_for_accept_language(client, discovery, books):
    es_rb = books["es"]
    out, info = _cards(client, discovery, ES)
    assert info["summary"].startswith("Metástasis óseas:")
    assert "**Del historial:**" in info["detail"] and es_rb.caveat in info["detail"]
    assert "**Fuentes:**" in info["detail"]
    assert info["links"][0]["label"] == "Abrir la guía, ya llenada con el historial"
    assert info["source"]["label"].startswith("libro de reglas de bonemets")
    # The same plan: the same options, in Spanish names.
    en_out, en_info = _cards(client, discovery)
    assert len(out["cards"]) == len(en_out["cards"])
    plan = client.post("/api/plan", json={"primary_cancer": "breast", "calcium": "high",
                                          "kidney_function": "reduced", "pain_score": 8},
                       headers=ES).get_json()
    for o in (o for o in plan["options"] if o["group"] == "discuss"):
        assert o["name"] in info["detail"] and o["reasons"][0]["text"] in info["detail"]
    flags = [c for c in out["cards"] if c["indicator"] != "info"]
    assert flags and all("**Por qué:**" in c["detail"] for c in flags)
    assert {c["summary"] for c in flags} <= {f["title"] for f in es_rb.flags.values()}
    for c in out["cards"]:
        assert not english_words(c["summary"] + " " + c["detail"].split("**Fuentes:**")[0]), c
    assert en_info["summary"].startswith("Bone metastases:") and "**From the record:**" in en_info["detail"]
    # The guide opens in Spanish; the answers stay in the fragment, never in what a server sees.
    parts = urlsplit(info["links"][0]["url"])
    assert parse_qsl(parts.query) == [("lang", "es")] and dict(parse_qsl(parts.fragment))["calcium"] == "high"
    assert urlsplit(en_info["links"][0]["url"]).query == ""


def test_cards_follow_the_patients_preferred_language(client, discovery):
    _, info = _cards(client, discovery, patient=_patient("en", "es-US", preferred="es-US"))
    assert info["summary"].startswith("Metástasis óseas:")
    assert parse_qsl(urlsplit(info["links"][0]["url"]).query) == [("lang", "es")]
    # The clinician's Accept-Language wins for the cards; the guide still opens in the patient's.
    _, info = _cards(client, discovery, {"Accept-Language": "en"}, _patient("es", preferred="es"))
    assert info["summary"].startswith("Bone metastases:")
    assert parse_qsl(urlsplit(info["links"][0]["url"]).query) == [("lang", "es")]
    # A language the guide does not have: English, and no lang= in the link.
    _, info = _cards(client, discovery, patient=_patient("fr", "es", preferred="fr"))
    assert info["summary"].startswith("Bone metastases:")
    assert urlsplit(info["links"][0]["url"]).query == ""
    # No preferred one marked: the first.
    _, info = _cards(client, discovery, patient=_patient("es", "en"))
    assert info["summary"].startswith("Metástasis óseas:")


def test_choose_language_is_pure():
    from bonemets.cds import choose_language
    pat = {"patient": _patient("es", preferred="es")}
    assert choose_language(None, {}, ["en", "es"]) == ("en", None)
    assert choose_language("es", {}, ["en", "es"]) == ("es", "es")
    assert choose_language(None, pat, ["en", "es"]) == ("es", "es")
    assert choose_language("en", pat, ["en", "es"]) == ("en", "es")
    assert choose_language(None, {"patient": {"resourceType": "Patient", "communication": [
        {"language": "es"}, 7]}}, ["en", "es"]) == ("en", None)  # malformed: ignored


def test_discovery_in_spanish(client):
    es = client.get("/cds-services", headers=ES).get_json()["services"][0]
    en = client.get("/cds-services").get_json()["services"][0]
    assert es["id"] == en["id"] and es["prefetch"] == en["prefetch"]
    assert es["title"] == "Metástasis óseas: opciones para hablar" != en["title"]


def test_fhir_terminology_and_response_in_spanish(client, books):
    for path in ["/fhir/CodeSystem/bonemets-answers", "/fhir/ValueSet/bonemets-answers",
                 "/fhir/ValueSet/bonemets-answers-primary-cancer"]:
        en = client.get(path).get_json()
        es = client.get(path, headers=ES).get_json()
        assert (en.get("language"), es.get("language")) == ("en", "es"), path
        assert es["title"] != en["title"] and es["url"] == en["url"], path
    cs = client.get("/fhir/CodeSystem/bonemets-answers", headers=ES).get_json()
    assert cs["title"] == "Guía para hablar de las metástasis óseas: códigos de las respuestas"
    unknown = next(c for c in cs["concept"] if c["code"] == "unknown")
    assert unknown["display"] == "No lo sé" and unknown["definition"].startswith("Respuesta a: ")
    vs = client.get("/fhir/ValueSet/bonemets-answers-primary-cancer", headers=ES).get_json()
    assert vs["description"] == books["es"].fields["primary_cancer"].label
    q = client.get("/fhir/Questionnaire", headers=ES).get_json()
    assert q["title"] == "Guía para hablar de las metástasis óseas: preguntas"
    exprs = [e["valueExpression"]["description"] for it in _items(q) for e in it.get("extension", [])
             if "initialExpression" in e["url"]]
    assert exprs and all(d.startswith("Del historial: ") for d in exprs)
    # The QuestionnaireResponse a person downloads, in the page's language, with the same codes.
    data = {"primary_cancer": "breast", "pain_score": "6"}
    es_qr = client.post("/questionnaire-response?lang=es", data=data).get_json()
    en_qr = client.post("/questionnaire-response?lang=en", data=data).get_json()
    assert (en_qr["language"], es_qr["language"]) == ("en", "es")
    es_items = {i["linkId"]: i for i in _items(es_qr)}
    en_items = {i["linkId"]: i for i in _items(en_qr)}
    assert set(es_items) == set(en_items)
    assert es_items["primary_cancer"]["text"] == "¿Dónde empezó su cáncer?"
    assert es_items["primary_cancer"]["answer"][0]["valueCoding"]["display"] == "Mama"
    assert es_items["primary_cancer"]["answer"][0]["valueCoding"]["code"] == "breast"


def _items(resource):
    for it in resource.get("item", []):
        yield it
        yield from _items(it)


def test_a_bad_hook_request_is_answered_in_the_callers_language(client):
    bad = {"hook": "order-select", "context": {}}
    es = client.post(SERVICE, json=bad, headers=ES)
    en = client.post(SERVICE, json=bad)
    assert es.status_code == en.status_code == 400
    es_texts = [i["details"]["text"] for i in es.get_json()["issue"]]
    en_texts = [i["details"]["text"] for i in en.get_json()["issue"]]
    assert "Este servicio solo responde al hook 'patient-view'." in es_texts
    assert "This service answers the 'patient-view' hook only." in en_texts
    assert len(es_texts) == len(en_texts) == 4  # three problems, then the caveat
    assert es.get_json()["issue"][-1]["severity"] == "information"
    assert es_texts[-1] != en_texts[-1]  # the caveat in each language
