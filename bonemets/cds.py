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
"""
from __future__ import annotations

import datetime as _dt
import uuid
from urllib.parse import urlencode

from . import messages as msg
from .fhir import FhirBook, answers_from_record, fhir_queries

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
        "title": str(msg.CDS["title"]),
        "description": str(msg.CDS["description"]),
        "prefetch": prefetch,
        "usageRequirements": str(msg.CDS["usage"]),
    }]}


def check_request(body) -> list:
    """Problems with a hook request, as (expression, issue code, message)."""
    if not isinstance(body, dict):
        return [("request", "structure", str(msg.CDS["not_an_object"]))]
    problems = []
    if body.get("hook") != HOOK:
        problems.append(("hook", "value", str(msg.CDS["wrong_hook"]) % {"hook": HOOK}))
    if not isinstance(body.get("hookInstance"), str) or not body["hookInstance"]:
        problems.append(("hookInstance", "required", str(msg.CDS["no_instance"])))
    ctx = body.get("context")
    if not isinstance(ctx, dict) or not isinstance(ctx.get("patientId"), str):
        problems.append(("context.patientId", "required", str(msg.CDS["no_patient"])))
    if "prefetch" in body and body["prefetch"] is not None and not isinstance(body["prefetch"], dict):
        problems.append(("prefetch", "structure", str(msg.CDS["prefetch_not_object"])))
    return problems


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1].rstrip() + "…"


def _source(book: FhirBook, keys, rules_url: str) -> dict:
    for k in keys:
        s = book.rb.sources.get(k)
        if s:
            return {"label": _summary(f"{s['org']}: {s['title']}"), "url": s["url"]}
    return {"label": str(msg.CDS["rule_book"]) % {"version": book.rb.version}, "url": rules_url}


def prefill_link(questionnaire_url: str, answers: dict) -> str:
    pairs = [(k, v) for k, val in answers.items() for v in (val if isinstance(val, list) else [val])]
    return questionnaire_url + ("#" + urlencode(pairs) if pairs else "")


def cards(book: FhirBook, prefetch: dict, today: _dt.date, links: dict) -> dict:
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
            "detail": f"{f.action}\n\n**Why:** {why}\n\n*{rb.caveat}*",
            "source": _source(book, f.sources, links["rules"]),
        })
    discuss = plan.by_group("discuss")
    said = [f"{rb.fields[k].summary_label}: {rb.fields[k].label_for(v) if isinstance(v, str) else v}"
            for k, v in answers.items()]
    missing = [rb.fields[m.field].summary_label for m in book.rm.observations
               if m.field not in answers]
    if book.rm.condition_field not in answers:
        missing.insert(0, rb.fields[book.rm.condition_field].summary_label)
    lines = [str(msg.CDS["from_record"]) % {
        "said": "; ".join(said) if said else str(msg.CDS["nothing_used"])}, ""]
    if missing:
        lines += [str(msg.CDS["not_in_record"]) % {"missing": "; ".join(missing)}, ""]
    lines += [str(msg.CDS["heading"]) % {"heading": rb.meta["groups"]["discuss"]["heading"]}]
    lines += [f"- **{o.name}**: {o.reasons[0].text} [{', '.join(o.reasons[0].sources)}]"
              for o in discuss] or [str(msg.CDS["none_yet"])]
    lines += ["", msg.cds_questions(len(plan.questions)), "", f"*{rb.caveat}*"]
    sources = [k for o in discuss for k in o.reasons[0].sources]
    out.append({
        "uuid": str(uuid.uuid4()),
        "summary": _summary(msg.cds_summary(len(discuss))),
        "indicator": "info",
        "detail": "\n".join(lines),
        "source": {"label": str(msg.CDS["rule_book_reviewed"]) % {
            "version": rb.version, "reviewed": rb.reviewed.isoformat()}, "url": links["rules"]},
        "links": [{"label": str(msg.CDS["open_guide"]),
                   "url": prefill_link(links["questionnaire"], answers), "type": "absolute"}],
    })
    if sources:
        out[-1]["detail"] += "\n\n" + str(msg.CDS["sources"]) % {"links": "; ".join(
            f"[{k}]({rb.sources[k]['url']})" for k in dict.fromkeys(sources))}
    return {"cards": out}
