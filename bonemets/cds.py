"""CDS Hooks 2.0 ``patient-view`` service: prefetched FHIR data -> answers -> the rule book's
plan -> cards. Pure (no Flask): the views in ``fhir_web.py`` call it.

* one ``critical`` (emergency) or ``warning`` (today, soon) card per red flag the data shows,
  with the rule book's own title, action and reasons;
* one ``info`` card: the options often discussed for what the record shows and why, what the
  record could not answer, the caveat, sources, and a link that opens the guide pre-filled.

The link carries the answers in the URL *fragment* (after ``#``): a browser never sends the
fragment to a server, so no answer reaches a server log or a proxy; a small script on the
questionnaire page ticks the answers and then removes them from the address bar. The answers
are not identifying on their own (no name, id or date), but the EHR that shows the card may
log the link: that is the trade-off against a full SMART launch, which needs an EHR login.

Language: the cards are in the language the service call asks for (``Accept-Language``), else
in the patient's preferred language from the prefetched ``Patient.communication``, else in
English (:func:`choose_language`); the view renders them in it (Flask-Babel's
``force_locale``) with that language's rule book. The guide's link opens in the patient's
preferred language when the record gives one. The words around the rule book's texts are in
bonemets/messages.py (``CDS``).
"""
from __future__ import annotations

import datetime as _dt
import uuid
from urllib.parse import urlencode

from .fhir import FhirBook, answers_from_record, fhir_queries
from .messages import CDS, CDS_PROBLEMS, cds_questions, cds_summary

SERVICE_ID = "bonemets-options"
HOOK = "patient-view"
SUMMARY_MAX = 140
# The rule book's urgency -> CDS Hooks card indicator.
INDICATOR = {"emergency": "critical", "today": "warning", "soon": "warning"}


def discovery(book: FhirBook) -> dict:
    prefetch = {"patient": "Patient/{{context.patientId}}",
                **fhir_queries(book.rm, "{{context.patientId}}")}
    return {"services": [{
        "id": SERVICE_ID, "hook": HOOK,
        "title": str(CDS["title"]),
        "description": str(CDS["description"]),
        "prefetch": prefetch,
        "usageRequirements": "Send the prefetch: the service never queries the FHIR server.",
    }]}


def check_request(body) -> list:
    """Problems with a hook request, as (expression, issue code, message)."""
    if not isinstance(body, dict):
        return [("request", "structure", str(CDS_PROBLEMS["not_an_object"]))]
    problems = []
    if body.get("hook") != HOOK:
        problems.append(("hook", "value", str(CDS_PROBLEMS["hook"]) % {"hook": HOOK}))
    if not isinstance(body.get("hookInstance"), str) or not body["hookInstance"]:
        problems.append(("hookInstance", "required", str(CDS_PROBLEMS["hook_instance"])))
    ctx = body.get("context")
    if not isinstance(ctx, dict) or not isinstance(ctx.get("patientId"), str):
        problems.append(("context.patientId", "required", str(CDS_PROBLEMS["patient_id"])))
    if "prefetch" in body and body["prefetch"] is not None and not isinstance(body["prefetch"], dict):
        problems.append(("prefetch", "structure", str(CDS_PROBLEMS["prefetch"])))
    return problems


def patient_language(prefetch, languages) -> str | None:
    """The patient's preferred language (``Patient.communication``: the one marked preferred,
    else the first) when it is one of ``languages``; None otherwise."""
    if not isinstance(prefetch, dict):
        return None
    for res in prefetch.values():
        if not isinstance(res, dict) or res.get("resourceType") != "Patient":
            continue
        comms = [c for c in res.get("communication") or [] if isinstance(c, dict)]
        comms.sort(key=lambda c: c.get("preferred") is not True)
        for c in comms:
            lang = c.get("language") if isinstance(c.get("language"), dict) else {}
            for coding in lang.get("coding") or []:
                code = coding.get("code") if isinstance(coding, dict) else None
                if isinstance(code, str) and code.split("-")[0].lower() in languages:
                    return code.split("-")[0].lower()
            return None  # the preferred language is one the guide does not have
    return None


def choose_language(asked: str | None, prefetch, languages, default: str = "en") -> tuple:
    """(the cards' language, the language the guide's link asks for or None): ``asked`` is the
    service call's Accept-Language match (None when it sent none), then the patient's
    preferred language. The guide opens in the patient's language, else in the cards' one when
    that is not the default (a link with no ``lang=`` opens in the browser's language)."""
    patient = patient_language(prefetch, languages)
    cards_in = asked or patient or default
    return cards_in, patient or (cards_in if cards_in != default else None)


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1].rstrip() + "…"


def _source(book: FhirBook, keys, rules_url: str) -> dict:
    for k in keys:
        s = book.rb.sources.get(k)
        if s:
            return {"label": _summary(f"{s['org']}: {s['title']}"), "url": s["url"]}
    return {"label": str(CDS["rule_book"]) % {"version": book.rb.version}, "url": rules_url}


def prefill_link(questionnaire_url: str, answers: dict) -> str:
    pairs = [(k, v) for k, val in answers.items() for v in (val if isinstance(val, list) else [val])]
    return questionnaire_url + ("#" + urlencode(pairs) if pairs else "")


def cards(book: FhirBook, prefetch: dict, today: _dt.date, links: dict,
          guide_language: str | None = None) -> dict:
    """The cards, in the language of ``book`` (and of the Flask-Babel locale the caller set).
    ``guide_language``: the language the guide's link opens in (when not the default)."""
    rb = book.rb
    raw = answers_from_record(list(prefetch.values()), book.rm, today)
    answers, _ = rb.validate_answers(raw)
    plan = rb.plan(answers)
    out = []
    for f in plan.red_flags:
        why = " ".join(r.text for r in f.reasons)
        out.append({
            "uuid": str(uuid.uuid4()),
            "summary": _summary(f.title),
            "indicator": INDICATOR[f.urgency],
            "detail": f"{f.action}\n\n**{CDS['why']}** {why}\n\n*{rb.caveat}*",
            "source": _source(book, f.sources, links["rules"]),
        })
    discuss = plan.by_group("discuss")
    said = [f"{rb.fields[k].summary_label}: {rb.fields[k].label_for(v) if isinstance(v, str) else v}"
            for k, v in answers.items()]
    missing = [rb.fields[m.field].summary_label for m in book.rm.observations
               if m.field not in answers]
    if book.rm.condition_field not in answers:
        missing.insert(0, rb.fields[book.rm.condition_field].summary_label)
    lines = [f"**{CDS['from_record']}** " + ("; ".join(said) if said else str(CDS["nothing"])), ""]
    if missing:
        lines += [f"**{CDS['not_in_record']}** " + "; ".join(missing) + ".", ""]
    lines += [f"**{rb.meta['groups']['discuss']['heading']}:**"]
    lines += [f"- **{o.name}**: {o.reasons[0].text} [{', '.join(o.reasons[0].sources)}]"
              for o in discuss] or [f"- {CDS['none_yet']}"]
    lines += ["", cds_questions(len(plan.questions)), "", f"*{rb.caveat}*"]
    guide = links["questionnaire"]
    if guide_language:
        guide += "?" + urlencode({"lang": guide_language})
    sources = [k for o in discuss for k in o.reasons[0].sources]
    out.append({
        "uuid": str(uuid.uuid4()),
        "summary": _summary(cds_summary(len(discuss))),
        "indicator": "info",
        "detail": "\n".join(lines),
        "source": {"label": str(CDS["rule_book_reviewed"]) % {
                       "version": rb.version, "date": rb.reviewed.isoformat()},
                   "url": links["rules"]},
        "links": [{"label": str(CDS["open"]),
                   "url": prefill_link(guide, answers), "type": "absolute"}],
    })
    if sources:
        out[-1]["detail"] += f"\n\n**{CDS['sources']}** " + "; ".join(
            f"[{k}]({rb.sources[k]['url']})" for k in dict.fromkeys(sources))
    return {"cards": out}
