"""The contract (../shared/design/CONTRACT.md) and the rule book agree: every field, value,
option, group, red flag (with its urgency), caution and route the contract names exists in
rules/ and the app. The test reads the contract's own tables, so a new contract entry is
checked without editing this file.

The "Additions of 2026-12" vocabulary is checked strictly too; their routes (FHIR, CDS Hooks)
are skipped, with the list, until the FHIR work brings any of them.
"""
from __future__ import annotations

import os
import re

import pytest

from bonemets.paths import REPO
from bonemets.rules import GROUPS

CONTRACT = os.path.join(os.path.dirname(REPO), "shared", "design", "CONTRACT.md")
TICKED = re.compile(r"`([a-z0-9_]+)`")


def _read() -> str:
    if not os.path.exists(CONTRACT):
        pytest.skip("../shared/design/CONTRACT.md is not beside the project")
    with open(CONTRACT, encoding="utf-8") as fh:
        return fh.read()


def _sections(text: str) -> dict:
    """'## heading' -> the text under it."""
    out, head = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            head = line[3:].strip()
            out[head] = []
        elif head:
            out[head].append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def _answer_rows(text: str) -> dict:
    """field -> values, from the rows of the answer tables (| `field` | kind | `values` |)."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            field = TICKED.match(cells[0]).group(1)
            rows.setdefault(field, []).extend(TICKED.findall(cells[2]))
    return rows


def _labelled(text: str, label: str, until: str) -> str:
    """The part of an additions section from 'Label:' to the next label."""
    start = text.index(label)
    end = text.index(until, start) if until and until in text[start:] else len(text)
    return text[start + len(label):end]


def parse(text: str) -> dict:
    secs = _sections(text)
    main = {
        "answers": _answer_rows(secs["Answers"]),
        "options": TICKED.findall(secs["Treatment options (ids)"].split("Groups:")[0]),
        "groups": TICKED.findall(secs["Treatment options (ids)"].split("Groups:")[1]),
        "red_flags": dict(re.findall(r"`([a-z_]+)`\s+\((emergency|today|soon)\)", secs["Red flags (ids and urgency)"].split("Urgency:")[0])),
        "cautions": TICKED.findall(secs["Cautions (ids attached to an option)"]),
        "routes": re.findall(r"^\| `(GET|POST) ([^`]+)` \|", secs["Routes"], re.M),
    }
    add = secs["Additions of 2026-12 (same rules: extend, never rename)"]
    additions = {
        "answers": _answer_rows(_labelled(add, "Answers:", "Options (")),
        "options": [m for m in re.findall(r"`([a-z0-9_]+)`\s+\(", _labelled(add, "Options (", "Red flags:"))],
        "red_flags": dict(re.findall(r"`([a-z_]+)`\s+\((emergency|today|soon)\)", _labelled(add, "Red flags:", "Cautions:"))),
        "cautions": re.findall(r"`([a-z_]+)`", _labelled(add, "Cautions:", "Outcomes,")),
        "routes": re.findall(r"^\| `(GET|POST) ([^` ]+)", _labelled(add, "Routes:", "Language:"), re.M),
    }
    return {"main": main, "additions": additions}


def missing(part: dict, rb) -> list:
    """What the rule book or the app lacks of one part of the contract, in words."""
    out = []
    for field, values in part["answers"].items():
        f = rb.fields.get(field)
        if f is None:
            out.append(f"field {field}")
            continue
        out += [f"value {field}={v}" for v in values if v not in f.values]
    out += [f"option {o}" for o in part["options"] if o not in rb.options]
    out += [f"group {g}" for g in part.get("groups", []) if g not in GROUPS or g not in rb.meta["groups"]]
    for fid, urgency in part["red_flags"].items():
        if fid not in rb.flags:
            out.append(f"red flag {fid}")
        elif rb.flags[fid]["urgency"] != urgency:
            out.append(f"red flag {fid} urgency {urgency} (is {rb.flags[fid]['urgency']})")
    out += [f"caution {c}" for c in part["cautions"] if c not in rb.cautions]
    return out


def missing_routes(routes: list, app) -> list:
    adapter = app.url_map.bind("localhost")
    out = []
    for method, path in routes:
        try:
            adapter.match(path, method=method)
        except Exception:  # noqa: BLE001 - NotFound or MethodNotAllowed: the route is missing
            out.append(f"route {method} {path}")
    return out


def test_the_contract_is_read():
    """The parser finds every part of the contract (a parser that finds nothing checks nothing)."""
    c = parse(_read())
    main, add = c["main"], c["additions"]
    assert len(main["answers"]) >= 23 and "pain_score" in main["answers"]
    assert "unknown" in main["answers"]["primary_cancer"]
    assert len(main["options"]) >= 18 and main["options"][0] == "pain_medicine"
    assert main["groups"] == ["discuss", "consider", "unlikely", "other"]
    assert main["red_flags"]["spinal_cord_compression"] == "emergency" and len(main["red_flags"]) >= 9
    assert len(main["cautions"]) >= 9
    assert ("POST", "/api/plan") in main["routes"] and len(main["routes"]) >= 9
    assert "crpc_treatment_lines" in add["answers"] and "cramps_tingling" in add["answers"]["symptoms_now"]
    assert add["options"] == ["lutetium_psma", "targeted_therapy", "radioactive_iodine", "no_new_treatment"]
    assert add["red_flags"]["clot_in_lung"] == "emergency" and len(add["red_flags"]) == 5
    assert add["cautions"] == ["bone_drug_alongside", "not_with_other_cancer_drugs", "needs_psma_scan"]
    assert ("GET", "/fhir/Questionnaire") in add["routes"]


def test_rule_book_and_app_have_the_whole_contract(rulebook, app):
    main = parse(_read())["main"]
    gaps = missing(main, rulebook) + missing_routes(main["routes"], app)
    assert not gaps, "in the contract but not in rules/ or the app: " + ", ".join(gaps)


def test_rule_book_has_the_additions_of_2026_12(rulebook):
    gaps = missing(parse(_read())["additions"], rulebook)
    assert not gaps, "2026-12 additions missing from rules/: " + ", ".join(gaps)


def test_the_additions_routes(app):
    c = parse(_read())
    routes = [r for r in c["additions"]["routes"] if r not in c["main"]["routes"]]
    gaps = missing_routes(routes, app)
    if gaps and len(gaps) == len(routes):
        pytest.skip("the FHIR and CDS Hooks routes come with the FHIR work: " + ", ".join(gaps))
    assert not gaps, ", ".join(gaps)
