"""FHIR R4 for the rule book's questionnaire: Questionnaire (SDC), CodeSystem, ValueSets,
QuestionnaireResponse in and out, OperationOutcome, and reading answers from a record.

Pure like ``rules.py``: no Flask and no I/O (the rule book loader, ``bonemets/loader.py``, reads
and checks ``record.yaml`` with the rule book and calls :func:`build_record_map`). Everything here is
generated from the rule book (``rb.sections`` / ``rb.fields``, ``rules/questionnaire.yaml``) and
from ``rules/record.yaml`` (what a record can answer): nothing is written by hand, so a new
question or answer value in the rule book appears in every resource.

Vocabulary:

* One code system of ours holds every answer value of the contract as a code (``unknown`` is
  "I don't know"). A value used by several questions ("yes", "none"...) is one code.
* One ValueSet per question, with that question's own words as the display of each code.
* ``linkId`` is the field name; sections are groups ``section-<id>``; hints are ``help`` items
  ``<field>-help``; the caveat is a display item ``caveat``.

Pre-fill (SDC expression-based population): the Questionnaire declares a ``patient`` launch
context and one ``x-fhir-query`` variable per record source; each question the record can
answer has an ``sdc-questionnaire-initialExpression`` (FHIRPath) that picks the latest recent
result and maps it with the bands of ``record.yaml``. :func:`answers_from_record` applies the
same mapping in Python (CDS Hooks prefetch), and the tests check both agree.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Mapping

from .jsonprovider import read_json
from .rules import UNKNOWN, RuleBook, RuleBookError

FHIR_VERSION = "4.0.1"
SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition"
EXT = "http://hl7.org/fhir/StructureDefinition"
ITEM_CONTROL = "http://hl7.org/fhir/questionnaire-item-control"
LAUNCH_CONTEXT = "http://hl7.org/fhir/uv/sdc/CodeSystem/launchContext"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LOINC = "http://loinc.org"
QUESTIONNAIRE_ID = "bonemets"
CODESYSTEM_ID = "bonemets-answers"
RESPONSE_STATUSES = ("in-progress", "completed", "amended")
FHIR_JSON = "application/fhir+json"
ACTIVE_CONDITION = ("active", "recurrence", "relapse")
OBS_FINAL = ("final", "amended", "corrected")


# --------------------------------------------------------------------------------------------
# What a record can answer (rules/record.yaml)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObservationMap:
    field: str
    codes: tuple            # ((code, display), ...) LOINC
    units: tuple            # accepted units (UCUM code or unit text); empty = any
    interpretation: tuple   # ((flag, value), ...)
    answers: tuple          # ((LOINC answer code, value), ...)
    bands: tuple            # ((min, max or None, value), ...) first match wins
    sources: tuple


@dataclass(frozen=True)
class RecordMap:
    reviewed: _dt.date
    max_age_days: int
    condition_field: str
    condition_system: str
    condition_codes: tuple  # ((value, code, display), ...)
    condition_sources: tuple
    observations: tuple     # of ObservationMap

    def variable(self, field: str) -> str:
        if field == self.condition_field:
            return "bmConditions"
        return "bmObs" + "".join(p.title() for p in field.split("_"))


def load_record_map(root: str, rb: RuleBook) -> RecordMap:
    """Read and check ``record.yaml`` against the rule book (its schema is in the table of
    :mod:`bonemets.loader`, which also checks it with the rule book). Raises RuleBookError."""
    rm = getattr(rb, "record_map", None)
    if rm is not None and getattr(rb, "rules_dir", None) == root:
        return rm
    from .loader import load_file
    load_file(root, "record.yaml", rb)
    return rb.record_map


def build_record_map(data: Mapping, rb: RuleBook) -> RecordMap:
    """The checked ``record.yaml`` (keys, kinds, fields and sources checked by the loader's
    schema) -> RecordMap: every value a record gives must be an answer of its question."""
    rel = "record.yaml"

    def expect(cond, key, message):
        if not cond:
            raise RuleBookError(rel, key, message)

    def field_value(key, field, value):
        f = rb.fields.get(field)
        expect(f is not None, key, f"names unknown field '{field}'")
        expect(f.kind != "many", key, f"'{field}' is a tick-all question: a record cannot answer it")
        if value is not None:
            expect(value in f.value_set and value != UNKNOWN, key, f"'{field}' has no value '{value}'")
        return f

    cond = data["conditions"]
    cfield = cond["field"]
    field_value("conditions", cfield, None)
    ccodes = []
    for value, entries in cond["codes"].items():
        field_value("conditions", cfield, value)
        for e in entries:
            ccodes.append((value, e["code"], str(e["display"])))
    expect(len({c for _, c, _ in ccodes}) == len(ccodes), "conditions", "a code is listed twice")

    observations = []
    for field, spec in (data["observations"] or {}).items():
        f = field_value(field, field, None)
        codes = tuple((str(c["code"]), str(c["display"])) for c in spec["codes"])
        interp = tuple((str(k), v) for k, v in (spec.get("interpretation") or {}).items())
        answers = tuple((str(k), v) for k, v in (spec.get("answers") or {}).items())
        bands = []
        for b in spec.get("bands") or []:
            bands.append((b["min"], b.get("max"), b["value"]))
        for _, v in (*interp, *answers):
            field_value(field, field, v)
        for *_, v in bands:
            field_value(field, field, v)
        if f.kind == "one":
            expect(bands or answers, field, "a choice question needs 'bands' or 'answers'")
        else:
            expect(not (bands or answers or interp), field, "a number question takes the value as it is")
        observations.append(ObservationMap(field, codes, tuple(spec.get("units") or ()), interp,
                                           answers, tuple(bands), tuple(spec["sources"])))
    return RecordMap(data["reviewed"], data["max_age_days"], cfield, str(cond["system"]),
                     tuple(ccodes), tuple(cond["sources"]), tuple(observations))


# --------------------------------------------------------------------------------------------
# FHIRPath for SDC population (generated from the record map)
# --------------------------------------------------------------------------------------------
def _fp_str(s: str) -> str:
    return "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fp_list(items) -> str:
    return "(" + " | ".join(_fp_str(i) for i in items) + ")"


def _fp_bands(m: ObservationMap, value: str) -> str:
    out = ""
    for lo, hi, v in reversed(m.bands):
        cond = f"{value} >= {lo}" + (f" and {value} < {hi}" if hi is not None else "")
        out = f"iif({cond}, {_fp_str(v)}" + (f", {out})" if out else ")")
    return out


def _fp_latest(var: str, rm: RecordMap) -> str:
    # Results that are final and no older than max_age_days; then the latest of them. The date
    # is compared as YYYY-MM-DD text so that a result dated to the day compares too.
    recent = (f"%{var}.entry.resource.ofType(Observation).where(status in {_fp_list(OBS_FINAL)} and "
              f"effective.ofType(dateTime).toString().substring(0, 10) >= "
              f"(today() - {rm.max_age_days} days).toString())")
    return (f"{recent}.aggregate(iif($total.empty() or $this.effective.ofType(dateTime) > "
            f"$total.effective.ofType(dateTime), $this, $total))")


def initial_expression(field: str, rm: RecordMap, system: str, choices=()) -> str | None:
    """The FHIRPath that pre-fills ``field`` from the record, or None. A choice question gets a
    Coding of ``system`` (made with FHIRPath's ``%factory``, as the item's type requires); the
    mapping itself works on the answer codes."""
    codes = _value_expression(field, rm)
    if codes is None or not choices:
        return codes
    coding = ""
    for v, label in reversed(tuple(choices)):
        make = f"%factory.Coding({_fp_str(system)}, {_fp_str(v)}, {_fp_str(label)})"
        coding = f"iif($this = {_fp_str(v)}, {make}" + (f", {coding})" if coding else ")")
    return f"({codes}).select({coding})"


def _value_expression(field: str, rm: RecordMap) -> str | None:
    """FHIRPath giving the answer code (or, for a number, the number) from the record."""
    if field == rm.condition_field:
        codes = (f"%{rm.variable(field)}.entry.resource.ofType(Condition).where(clinicalStatus.empty() "
                 f"or clinicalStatus.coding.code.intersect({_fp_list(ACTIVE_CONDITION)}).exists())"
                 f".code.coding.where(system = {_fp_str(rm.condition_system)}).code")
        values: dict = {}
        for value, code, _ in rm.condition_codes:
            values.setdefault(value, []).append(code)
        mapped = ""
        for v, c in reversed(list(values.items())):
            mapped = f"iif($this in {_fp_list(c)}, {_fp_str(v)}" + (f", {mapped})" if mapped else ")")
        found = f"{codes}.select({mapped}).distinct()"
        return f"iif({found}.count() = 1, {found})"   # two cancers: left for the person
    m = next((o for o in rm.observations if o.field == field), None)
    if m is None:
        return None
    latest = _fp_latest(rm.variable(field), rm)
    qty = "value.ofType(Quantity)"
    if m.units:
        qty += f".where(code in {_fp_list(m.units)} or unit in {_fp_list(m.units)})"
    if not (m.bands or m.answers):  # number: the whole number as it is
        v = f"({qty}.value | value.ofType(integer))"
        return f"{latest}.select({v}.where($this >= 0 and $this = $this.round(0)))"
    steps = []
    for flag_value in dict.fromkeys(v for _, v in m.interpretation):
        flags = [k for k, v in m.interpretation if v == flag_value]
        steps.append((f"interpretation.coding.where(system = {_fp_str(INTERPRETATION)}).code"
                      f".intersect({_fp_list(flags)}).exists()", flag_value))
    for code, v in m.answers:
        steps.append((f"value.ofType(CodeableConcept).coding.where(system = {_fp_str(LOINC)} and "
                      f"code = {_fp_str(code)}).exists()", v))
    out = ""
    if m.bands:
        num = f"({qty}.value | value.ofType(integer))"
        out = f"{num}.select({_fp_bands(m, '$this')})"
    for cond, v in reversed(steps):
        out = f"iif({cond}, {_fp_str(v)}" + (f", {out})" if out else ")")
    return f"{latest}.select({out})"


def fhir_queries(rm: RecordMap, patient: str) -> dict:
    """Variable name -> FHIR search (relative URL) for the record sources. ``patient`` is the
    placeholder for the patient id: ``{{%patient.id}}`` (SDC) or ``{{context.patientId}}`` (CDS)."""
    sct = ",".join(f"{rm.condition_system}|{c}" for _, c, _ in rm.condition_codes)
    out = {rm.variable(rm.condition_field): f"Condition?patient={patient}&code={sct}"}
    for m in rm.observations:
        codes = ",".join(f"{LOINC}|{c}" for c, _ in m.codes)
        out[rm.variable(m.field)] = f"Observation?patient={patient}&code={codes}&_sort=-date&_count=1"
    return out


# --------------------------------------------------------------------------------------------
# Reading the record in Python (CDS Hooks prefetch): the same mapping as the FHIRPath above
# --------------------------------------------------------------------------------------------
def _resources(items) -> list:
    """The resources in a list of Bundles and resources (one level: prefetch values)."""
    out = []
    for item in items if isinstance(items, list) else [items]:
        if not isinstance(item, Mapping):
            continue
        if item.get("resourceType") == "Bundle":
            entries = item.get("entry")
            out += [e["resource"] for e in entries if isinstance(e, Mapping)
                    and isinstance(e.get("resource"), Mapping)] if isinstance(entries, list) else []
        else:
            out.append(item)
    return out


def _codes(concept, system=None) -> set:
    if not isinstance(concept, Mapping):
        return set()
    return {c.get("code") for c in concept.get("coding") or []
            if isinstance(c, Mapping) and (system is None or c.get("system") == system)}


def _number(value) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def answers_from_record(resources, rm: RecordMap, today: _dt.date) -> dict:
    """Answers a record states plainly, from FHIR resources (Bundles or resources, any mix)."""
    res = _resources(resources)
    answers: dict = {}
    # Primary cancer: one mapped value, from active (or status-less) Conditions.
    by_code = {c: v for v, c, _ in rm.condition_codes}
    found = set()
    for r in res:
        if r.get("resourceType") != "Condition":
            continue
        status = _codes(r.get("clinicalStatus"))
        if r.get("clinicalStatus") is not None and not status & set(ACTIVE_CONDITION):
            continue
        found |= {by_code[c] for c in _codes(r.get("code"), rm.condition_system) if c in by_code}
    if len(found) == 1:
        answers[rm.condition_field] = found.pop()
    oldest = (today - _dt.timedelta(days=rm.max_age_days)).isoformat()
    for m in rm.observations:
        wanted = {c for c, _ in m.codes}
        latest = None
        for r in res:
            if (r.get("resourceType") != "Observation" or r.get("status") not in OBS_FINAL
                    or not _codes(r.get("code"), LOINC) & wanted):
                continue
            when = r.get("effectiveDateTime")
            if not isinstance(when, str) or when[:10] < oldest:
                continue
            if latest is None or when > latest.get("effectiveDateTime"):
                latest = r
        if latest is not None:
            value = _observation_value(latest, m)
            if value is not None:
                answers[m.field] = value
    return answers


def _observation_value(obs: Mapping, m: ObservationMap):
    flags = _codes(_first(obs.get("interpretation")), INTERPRETATION)
    for flag, v in m.interpretation:
        if flag in flags:
            return v
    loinc_answers = _codes(obs.get("valueCodeableConcept"), LOINC)
    for code, v in m.answers:
        if code in loinc_answers:
            return v
    q = obs.get("valueQuantity")
    num = None
    if isinstance(q, Mapping) and (not m.units or q.get("code") in m.units or q.get("unit") in m.units):
        num = _number(q.get("value"))
    if num is None:
        num = _number(obs.get("valueInteger"))
    if num is None:
        return None
    if not (m.bands or m.answers):
        return int(num) if num >= 0 and num == int(num) else None
    for lo, hi, v in m.bands:
        if num >= lo and (hi is None or num < hi):
            return v
    return None


def _first(items):
    # interpretation is a list of CodeableConcepts: all of their codings count
    if isinstance(items, list):
        return {"coding": [c for cc in items if isinstance(cc, Mapping) for c in cc.get("coding") or []]}
    return None


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------

def _p(code: str, **params) -> str:
    """A problem with a QuestionnaireResponse in words (bonemets/messages.py, translated)."""
    from .messages import FHIR_PROBLEMS
    return str(FHIR_PROBLEMS[code]) % params

def _t(key: str, **params) -> str:
    """The resources' own words (bonemets/messages.py), in the current Flask-Babel locale."""
    from .messages import FHIR_TEXTS
    text = str(FHIR_TEXTS[key])
    return text % params if params else text


class FhirBook:
    """Every FHIR resource of the rule book, built once. ``base`` is the canonical base URL.
    The resources are in the rule book's language (``rb.language``, bonemets/i18n.py): its texts,
    and the resources' own titles from bonemets/messages.py in the Flask-Babel locale the
    caller set (bonemets/fhir_web.py builds one book per language)."""

    def __init__(self, rb: RuleBook, rm: RecordMap, base: str):
        self.rb, self.rm = rb, rm
        self.language = getattr(rb, "language", "en")
        self.base = base.rstrip("/")
        self.system = f"{self.base}/CodeSystem/{CODESYSTEM_ID}"
        self.url = f"{self.base}/Questionnaire/{QUESTIONNAIRE_ID}"
        self.version = rb.version
        self.date = rb.reviewed.isoformat()
        self.questionnaire = self._questionnaire()
        self.codesystem = self._codesystem()
        self.valuesets = {name: self._valueset(f) for name, f in rb.fields.items() if f.kind != "number"}
        self.link_ids = set()
        self.depth = self._collect(self.questionnaire["item"])

    def _collect(self, items) -> int:
        """Record every linkId; return how deep the items nest."""
        deepest = 0
        for it in items:
            self.link_ids.add(it["linkId"])
            deepest = max(deepest, 1 + self._collect(it.get("item", [])))
        return deepest

    def valueset_url(self, field: str) -> str:
        return f"{self.base}/ValueSet/{CODESYSTEM_ID}-{field.replace('_', '-')}"

    def coding(self, field: str, value: str) -> dict:
        return {"system": self.system, "code": value, "display": self.rb.fields[field].label_for(value)}

    # -- Questionnaire ------------------------------------------------------------------
    def _item(self, name: str) -> dict:
        f = self.rb.fields[name]
        item: dict = {"linkId": name, "text": f.label}
        ext = []
        if f.kind == "number":
            item["type"] = "integer"
            ext += [{"url": f"{EXT}/minValue", "valueInteger": f.min},
                    {"url": f"{EXT}/maxValue", "valueInteger": f.max}]
        else:
            item["type"] = "choice"
            if f.kind == "many":
                item["repeats"] = True
            control = "check-box" if f.kind == "many" else "radio-button"
            ext.append({"url": f"{EXT}/questionnaire-itemControl", "valueCodeableConcept": {
                "coding": [{"system": ITEM_CONTROL, "code": control}]}})
            item["answerOption"] = [{"valueCoding": self.coding(name, v)} for v in f.values]
        expr = initial_expression(name, self.rm, self.system, f.choices)
        if expr:
            ext.append({"url": f"{SDC}/sdc-questionnaire-initialExpression", "valueExpression": {
                "language": "text/fhirpath", "expression": expr,
                "description": _t("from_record", codes=", ".join(self._record_codes(name)))}})
        if ext:
            item = {"extension": ext, **item}
        item.update(self._enable_when(f))
        if f.hint:
            item["item"] = [{"linkId": f"{name}-help", "type": "display", "text": f.hint,
                             "extension": [{"url": f"{EXT}/questionnaire-itemControl",
                                            "valueCodeableConcept": {"coding": [
                                                {"system": ITEM_CONTROL, "code": "help"}]}}]}]
        return item

    def _record_codes(self, field: str) -> list:
        if field == self.rm.condition_field:
            return [f"SNOMED CT {c}" for _, c, _ in self.rm.condition_codes]
        m = next(o for o in self.rm.observations if o.field == field)
        return [f"LOINC {c}" for c, _ in m.codes]

    def _enable_when(self, f) -> dict:
        if not f.only_if:
            return {}
        conds = [{"question": other, "operator": "=", "answerCoding": {
                  "system": self.system, "code": v}}
                 for other, allowed in f.only_if.items() for v in allowed]
        if len(f.only_if) == 1:
            return {"enableWhen": conds, **({"enableBehavior": "any"} if len(conds) > 1 else {})}
        if all(len(v) == 1 for v in f.only_if.values()):
            return {"enableWhen": conds, "enableBehavior": "all"}
        # Several questions, several values each: "all of (any of)" needs an expression.
        parts = [f"%resource.repeat(item).where(linkId = {_fp_str(o)}).answer.value.code"
                 f".intersect({_fp_list(a)}).exists()" for o, a in f.only_if.items()]
        return {"extension": [{"url": f"{SDC}/sdc-questionnaire-enableWhenExpression",
                               "valueExpression": {"language": "text/fhirpath",
                                                   "expression": " and ".join(parts)}}]}

    def _questionnaire(self) -> dict:
        rb, rm = self.rb, self.rm
        variables = [{"url": f"{EXT}/variable", "valueExpression": {
            "name": name, "language": "application/x-fhir-query", "expression": query}}
            for name, query in fhir_queries(rm, "{{%patient.id}}").items()]
        groups = []
        for s in rb.sections:
            g = {"linkId": f"section-{s.id}", "type": "group", "text": s.title,
                 "item": [self._item(n) for n in s.fields]}
            if s.intro:
                g["item"].insert(0, {"linkId": f"section-{s.id}-intro", "type": "display",
                                     "text": s.intro})
            groups.append(g)
        return {
            "resourceType": "Questionnaire",
            "id": QUESTIONNAIRE_ID,
            "meta": {"profile": [f"{SDC}/sdc-questionnaire|3.0.0",
                                 f"{SDC}/sdc-questionnaire-pop-exp|3.0.0"]},
            "extension": [{"url": f"{SDC}/sdc-questionnaire-launchContext", "extension": [
                {"url": "name", "valueCoding": {"system": LAUNCH_CONTEXT, "code": "patient"}},
                {"url": "type", "valueCode": "Patient"},
                {"url": "description", "valueString": _t("launch_patient")},
            ]}, *variables],
            "url": self.url,
            "version": self.version,
            "name": "BoneMetastasesDiscussionGuide",
            "title": _t("questionnaire_title"),
            "status": "active",
            "subjectType": ["Patient"],
            "date": self.date,
            "publisher": "bonemets",
            "description": rb.caveat,
            "language": self.language,
            "item": [{"linkId": "caveat", "type": "display", "text": rb.caveat}, *groups],
        }

    # -- Terminology ---------------------------------------------------------------------
    def _codesystem(self) -> dict:
        concepts: dict = {}
        for name, f in self.rb.fields.items():
            for v, label in f.choices:
                c = concepts.setdefault(v, {"code": v, "display": label, "fields": []})
                c["fields"].append(name)
        return {
            "resourceType": "CodeSystem", "id": CODESYSTEM_ID, "url": self.system,
            "version": self.version, "name": "BoneMetsAnswers",
            "title": _t("codesystem_title"), "status": "active",
            "date": self.date, "publisher": "bonemets", "caseSensitive": True,
            "language": self.language,
            "description": _t("codesystem_description"),
            "content": "complete", "valueSet": f"{self.base}/ValueSet/{CODESYSTEM_ID}",
            "count": len(concepts),
            "concept": [{"code": c["code"], "display": c["display"],
                         "definition": _t("answer_to", fields=", ".join(c["fields"]))}
                        for c in concepts.values()],
        }

    def _valueset(self, f) -> dict:
        return {
            "resourceType": "ValueSet", "id": f"{CODESYSTEM_ID}-{f.name.replace('_', '-')}",
            "url": self.valueset_url(f.name), "version": self.version,
            "name": "BoneMets" + "".join(p.title() for p in f.name.split("_")),
            "title": f.summary_label, "status": "active", "date": self.date,
            "publisher": "bonemets", "description": f.label, "language": self.language,
            "compose": {"include": [{"system": self.system, "concept": [
                {"code": v, "display": label} for v, label in f.choices]}]},
        }

    def all_valueset(self) -> dict:
        return {"resourceType": "ValueSet", "id": CODESYSTEM_ID,
                "url": f"{self.base}/ValueSet/{CODESYSTEM_ID}", "version": self.version,
                "name": "BoneMetsAllAnswers", "title": _t("all_answers"),
                "language": self.language, "status": "active", "date": self.date, "publisher": "bonemets",
                "compose": {"include": [{"system": self.system}]}}

    # -- QuestionnaireResponse -----------------------------------------------------------
    def response(self, answers: Mapping[str, Any], now: _dt.datetime) -> dict:
        """A QuestionnaireResponse for clean answers (no subject or author: nothing personal)."""
        groups = []
        for s in self.rb.sections:
            items = []
            for name in s.fields:
                if name not in answers:
                    continue
                f, v = self.rb.fields[name], answers[name]
                if f.kind == "number":
                    ans = [{"valueInteger": v}]
                else:
                    ans = [{"valueCoding": self.coding(name, x)} for x in (v if isinstance(v, list) else [v])]
                items.append({"linkId": name, "text": f.label, "answer": ans})
            if items:
                groups.append({"linkId": f"section-{s.id}", "text": s.title, "item": items})
        qr = {
            "resourceType": "QuestionnaireResponse",
            "meta": {"profile": [f"{SDC}/sdc-questionnaireresponse|3.0.0"]},
            "language": self.language,
            "questionnaire": f"{self.url}|{self.version}",
            "status": "completed",
            "authored": now.astimezone(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        }
        if groups:
            qr["item"] = groups
        return qr

    def read_response(self, qr: Any) -> tuple[dict, list]:
        """Raw answers from a QuestionnaireResponse, and problems as (expression, code, message).

        Accepts answers nested in the section groups (as we write them and as LHC-Forms does)
        or flat. The answers still go through ``rb.validate_answers``."""
        problems: list = []
        if not isinstance(qr, Mapping):
            return {}, [("QuestionnaireResponse", "structure",
                         _p("not_an_object"))]
        rtype = qr.get("resourceType")
        if rtype != "QuestionnaireResponse":
            return {}, [("resourceType", "invalid",
                         _p("wrong_type", type=str(rtype)[:40]) if rtype else _p("no_type"))]
        canon = qr.get("questionnaire")
        if not isinstance(canon, str) or canon.split("|", 1)[0] != self.url:
            return {}, [("QuestionnaireResponse.questionnaire", "invalid",
                         _p("other_questionnaire", named=str(canon)[:80] if canon else _p("none_named"), url=self.url))]
        if qr.get("status") not in RESPONSE_STATUSES:
            problems.append(("QuestionnaireResponse.status", "value",
                             _p("status", values=", ".join(RESPONSE_STATUSES))))
        raw: dict = {}
        self._walk(qr.get("item"), "QuestionnaireResponse", raw, problems, 0)
        return raw, problems

    def _walk(self, items, path, raw, problems, depth):
        if items is None:
            return
        if depth > self.depth:
            problems.append((path, "structure", _p("too_deep")))
            return
        if not isinstance(items, list):
            problems.append((f"{path}.item", "structure", _p("item_not_list")))
            return
        fields = self.rb.fields
        for it in items:
            if not isinstance(it, Mapping) or not isinstance(it.get("linkId"), str):
                problems.append((f"{path}.item", "structure", _p("no_link_id")))
                continue
            link = it["linkId"]
            where = f"{path}.item.where(linkId='{link[:60]}')"
            if link not in self.link_ids:
                problems.append((where, "not-found", _p("unknown_link", link=link[:60])))
                continue
            answers = it.get("answer")
            if link in fields:
                if link in raw:
                    problems.append((where, "duplicate", _p("twice", link=link)))
                    continue
                value = self._answer(fields[link], answers, where, problems)
                if value is not None:
                    raw[link] = value
                for a in answers if isinstance(answers, list) else []:
                    if isinstance(a, Mapping) and a.get("item"):
                        problems.append((where, "structure", _p("no_follow_up", link=link)))
            elif answers:
                problems.append((where, "structure", _p("not_a_question", link=link)))
            self._walk(it.get("item"), where, raw, problems, depth + 1)

    def _answer(self, f, answers, where, problems):
        if answers is None or answers == []:
            return None
        if not isinstance(answers, list) or not all(isinstance(a, Mapping) for a in answers):
            problems.append((f"{where}.answer", "structure", _p("answer_not_list")))
            return None
        if f.kind == "number":
            v = answers[0].get("valueInteger")
            if len(answers) != 1 or not isinstance(v, int) or isinstance(v, bool):
                problems.append((f"{where}.answer", "value", _p("one_integer", link=f.name)))
                return None
            return v
        codes = []
        for a in answers:
            c = a.get("valueCoding")
            if not isinstance(c, Mapping) or not isinstance(c.get("code"), str):
                problems.append((f"{where}.answer", "value", _p("coded", link=f.name)))
                return None
            if c.get("system") != self.system:
                problems.append((f"{where}.answer", "code-invalid",
                                 _p("code_system", link=f.name, system=self.system)))
                return None
            codes.append(c["code"])
        if f.kind == "one":
            if len(codes) > 1:
                problems.append((f"{where}.answer", "value", _p("one_answer", link=f.name)))
                return None
            return codes[0]
        return codes


# --------------------------------------------------------------------------------------------
# OperationOutcome
# --------------------------------------------------------------------------------------------
def operation_outcome(problems: list, caveat: str | None = None) -> dict:
    """``problems``: (FHIRPath expression or None, issue type code, plain message); ``caveat``:
    the rule book's caveat, last, as an information issue (every answer of the app carries it,
    errors too, as the JSON API's errors do)."""
    issues = []
    for expr, code, text in problems:
        text = writable(text)
        issue = {"severity": "error", "code": code, "details": {"text": text}, "diagnostics": text}
        if expr:
            issue["expression"] = [writable(expr)]
        issues.append(issue)
    if caveat:
        issues.append({"severity": "information", "code": "informational",
                       "details": {"text": caveat}})
    return {"resourceType": "OperationOutcome", "issue": issues}


# The issue type (http://hl7.org/fhir/issue-type) of an HTTP error the framework answers.
HTTP_ISSUE_TYPES = {400: "structure", 404: "not-found", 405: "not-supported", 413: "too-costly",
                    415: "not-supported", 429: "throttled", 503: "transient"}


def answer_problems(problems: Mapping[str, Any], fields: Mapping[str, Any]) -> list:
    """``rb.validate_answers`` problems (codes, see bonemets/answers.py) as OperationOutcome
    problems, in the JSON API's words (bonemets/messages.py)."""
    from .messages import api_problem
    return [(f"QuestionnaireResponse.repeat(item).where(linkId='{name[:60]}')",
             "code-invalid" if p.code == "not_a_choice" else "value",
             api_problem(p, fields.get(name)))
            for name, p in problems.items()]


def parse_json(data: bytes) -> tuple[Any, list]:
    """The parsed body, or problems when it is not JSON."""
    try:
        return read_json(data), []
    except (ValueError, RecursionError):
        return None, [("QuestionnaireResponse", "structure",
                       _p("not_json"))]


def writable(text: str) -> str:
    """``text`` as it can be written out (UTF-8, in JSON or HTML): a lone surrogate, which JSON's
    ``\\ud800`` escapes allow but UTF-8 cannot hold, written as that escape. A problem may
    quote what was sent (a linkId, a code, a resourceType)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def plan_input(book: FhirBook, body: bytes) -> tuple[dict | None, list]:
    """A QuestionnaireResponse body -> (clean answers, None) or (None, problems), each problem's
    words writable (``writable``: the import page and the OperationOutcome quote them)."""
    qr, problems = parse_json(body)
    if not problems:
        raw, problems = book.read_response(qr)
    if not problems:
        answers, errors = book.rb.validate_answers(raw)
        if not errors:
            return answers, []
        problems = answer_problems(errors, book.rb.fields)
    return None, [(writable(expr), code, writable(text)) for expr, code, text in problems]
