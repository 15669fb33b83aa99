"""Score the results page against the CDC Clear Communication Index: the items a script can check.

    python scripts/cdc_index.py                 # the typical plans (public scenarios + TYPICAL)
    python scripts/cdc_index.py --plan typical  # one plan
    python scripts/cdc_index.py --json          # machine-readable
    python scripts/cdc_index.py --readability   # the reading-level block for rules/meta.yaml

It renders ``POST /plan`` with the app's test client (no server, nothing stored), parses the page
with tinyhtml5 + cssselect2 (WeasyPrint's own parser) and scores the items of the Index (CDC,
2014; 20 scored items in parts A-D, a score = items met / items that apply x 100) that can be
checked from the page itself. The other items need a person: they are the checklist in the
README ("CDC Clear Communication Index"). The score printed is for the automatic items only;
it is not the full Index score.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for p in (ROOT, os.path.join(ROOT, "tests")):
    if p not in sys.path:
        sys.path.insert(0, p)

import cssselect2  # noqa: E402
import textstat  # noqa: E402
import tinyhtml5  # noqa: E402
import yaml  # noqa: E402

MAX_GRADE = 8.0
# Parts of the page that are citations or traces, not reading text (as tests/test_content.py).
SKIP = ("sources-list", "trace", "sources", "also-called", "rule-meta", "where-from")
ACTION_VERBS = ("print", "download", "put", "bring", "save", "call", "tell", "ask", "change")
PASSIVE = re.compile(r"\b(is|are|was|were|be|been|being)\s+(\w+ed|given|done|made|shown|seen|known|taken|chosen)\b", re.I)
NUMBER_NOT_WHOLE = re.compile(r"\d+\.\d+|\d+\s?%")
# "x in y" / "x of y" counts: the Index asks for one denominator and no sums for the reader.
COUNT = re.compile(r"\b(\d+)\s+(?:in|of|out of)\s+(\d+)\b")
RELATIVE = re.compile(r"\b(times (?:more|less|as)|relative risk|risk ratio|hazard ratio|% (?:lower|higher|fewer|more))\b", re.I)


def typical_plans() -> dict:
    """name -> answers: the public acceptance scenarios and the tests' TYPICAL plan."""
    from browser.browser_helpers import TYPICAL
    plans = {"typical": dict(TYPICAL)}
    with open(os.path.join(ROOT, "tests", "scenarios", "public.yaml"), encoding="utf-8") as fh:
        for i, s in enumerate(yaml.safe_load(fh) or [], 1):
            plans[f"public-{i}"] = s["answers"]
    return plans


def render(app, answers: dict) -> str:
    client = app.test_client()
    resp = client.post("/plan", data=answers, follow_redirects=True)
    if resp.status_code != 200:
        raise SystemExit(f"POST /plan answered {resp.status_code}")
    return resp.get_data(as_text=True)


def _text(el) -> str:
    return re.sub(r"\s+", " ", "".join(el.etree_element.itertext())).strip()


def _classes(el) -> set:
    return set((el.etree_element.get("class") or "").split())


def visible_text(el) -> str:
    """The reading text under ``el``: citations, traces and scripts left out."""
    out = []

    def walk(e):
        tag = e.tag.split("}")[-1] if isinstance(e.tag, str) else ""
        cls = set((e.get("class") or "").split()) if isinstance(e.tag, str) else set()
        if tag in ("script", "style", "title", "code", "svg") or cls & set(SKIP):
            return
        if e.text:
            out.append(e.text)
        for c in e:
            walk(c)
            if c.tail:
                out.append(c.tail)

    walk(el.etree_element)
    return re.sub(r"\s+", " ", " ".join(out)).strip()


def score_page(html: str, rule_ids=()) -> list:
    """[{id, item, met, evidence}] for the Index items a script can check on this page
    (``rule_ids``: the rule book's rule ids, which must not appear in the reading text)."""
    root = cssselect2.ElementWrapper.from_html_root(tinyhtml5.parse(html))
    main = root.query("main")
    text = visible_text(main)
    items = []

    def item(cid, name, met, evidence):
        items.append({"id": cid, "item": name, "met": bool(met), "evidence": evidence})

    mains = list(main.query_all(".decision-main"))
    item("1", "One main message statement", len(mains) == 1,
         f"{len(mains)} element(s) marked as the main message (.decision-main)")
    order = [e for e in main.iter_subtree() if _classes(e) & {"decision-main", "option"}]
    first = order[0] if order else None
    item("2", "The main message is at the top, before the option details",
         first is not None and "decision-main" in _classes(first),
         "the main message comes before the first option card" if first is not None
         and "decision-main" in _classes(first) else "an option card comes first, or no main message")
    strong = bool(mains) and (bool(list(mains[0].query_all("strong"))) or mains[0].etree_element.tag.endswith("strong"))
    boxed = bool(mains) and any("decision-box" in _classes(a) for a in mains[0].ancestors)
    item("3", "The main message is emphasised with visual cues", strong and boxed,
         f"bold: {strong}; inside a bordered box (.decision-box): {boxed}")
    pictures = [e for e in main.query_all("svg") if e.etree_element.get("role") == "img"
                and (e.etree_element.get("aria-label") or _text(e))]
    item("4", "At least one visual that helps the reader understand", pictures,
         f"{len(pictures)} picture(s) with a text alternative (svg role=img)")
    buttons = [_text(b) for b in main.query_all("button")]
    actions = [b for b in buttons if b.split(" ")[0].lower() in ACTION_VERBS]
    item("5", "One or more calls to action", actions, f"buttons: {sorted(set(actions))[:4]}")
    main_msg = _text(mains[0]) if mains else ""
    cta = " ".join(actions)
    passive = PASSIVE.findall(main_msg + " " + cta)
    item("6", "The main message and the call to action use the active voice", main_msg and not passive,
         f"passive phrases found: {passive}" if passive else "no passive phrases found")
    grade = textstat.flesch_kincaid_grade(text)
    words = set(re.findall(r"[\w-]+", text))
    ids_seen = sorted(r for r in rule_ids if r in words)
    item("7", "Words the audience uses (grade 8 or lower, no rule ids in the text)",
         grade <= MAX_GRADE and not ids_seen,
         f"Flesch-Kincaid grade {grade:.1f}; rule ids in the reading text: {ids_seen[:5]}")
    lists = list(main.query_all("ul, ol"))
    item("8", "Bulleted or numbered lists", len(lists) >= 3, f"{len(lists)} lists")
    heads = list(main.query_all("h2, h3"))
    long_paras = [p for p in main.query_all("p") if len(visible_text(p).split()) > 60]
    item("9", "Chunks with headings, no long blocks of text", len(heads) >= 5 and not long_paras,
         f"{len(heads)} headings; paragraphs over 60 words: {len(long_paras)}")
    sections = [s for s in main.query_all("section")]
    top = sections[0] if sections else None
    top_ok = top is not None and bool(_classes(top) & {"decision-box", "red-flags"} or
                                      list(top.query_all(".decision-main, .red-flag")))
    item("10", "The most important information is in the first section", top_ok,
         "the first section is the decision box (or the urgent warnings)" if top_ok
         else "the first section is something else")
    unknowns = re.findall(r"how sure|not known|no number|unknown|we do not know|ask your team", text, re.I)
    item("11", "Says what is known and not known", len(unknowns) >= 2,
         f"{len(unknowns)} statements about certainty or what is not known")
    decimals = NUMBER_NOT_WHOLE.findall(text)
    item("15", "Numbers the audience uses (whole numbers, no percentages or decimals)", not decimals,
         f"decimals or percentages in the text: {decimals[:6]}")
    denominators = sorted({int(b) for a, b in COUNT.findall(text)})
    relative = RELATIVE.findall(text)
    item("17", "No sums for the reader (one denominator, no relative risks)",
         denominators in ([], [100]) and not relative,
         f"denominators used: {denominators}; relative-risk phrases: {relative[:3]}")
    cards = list(main.query_all("article.option"))
    both = [c for c in cards if re.search(r"benefit", _text(c), re.I) and re.search(r"downside", _text(c), re.I)]
    item("19", "Both the benefits and the harms of each option", cards and len(both) == len(cards),
         f"{len(both)} of {len(cards)} option cards name both benefits and downsides")
    numeric = [o for o in main.query_all(".outcome") if COUNT.search(_text(o))]
    explained = [o for o in numeric if list(o.query_all("svg, .outcome-words"))]
    counts_in_text = COUNT.findall(text)
    applies = bool(numeric or counts_in_text)
    item("20", "Numeric chances also in words or a picture",
         (len(explained) == len(numeric) and bool(numeric)) if applies else True,
         f"{len(explained)} of {len(numeric)} outcomes with a number have words and a picture"
         if numeric else ("numbers in the text but no outcome blocks with words or a picture"
                          if counts_in_text else "no numeric chances on the page (does not apply)"))
    return items


def score(items: list) -> int:
    return round(100 * sum(i["met"] for i in items) / len(items)) if items else 0


def readability(app) -> list:
    """The scores /about shows (rules/meta.yaml 'readability'): the catalog and the results page."""
    from bonemets.rules import load_rulebook  # noqa: F401 (the app already loaded it)
    rb = app.extensions["bonemets"]

    def flat(v):
        if isinstance(v, str):
            return [v]
        if isinstance(v, dict):
            return [x for y in v.values() for x in flat(y)]
        if isinstance(v, (list, tuple)):
            return [x for y in v for x in flat(y)]
        return []

    keys = ["name", "what_it_is", "how_given", "how_soon", "visits", "benefits", "downsides",
            "daily_life", "questions", "priorities"]
    catalog = " ".join(t for e in rb.options.values() for k in keys for t in flat(e[k]))
    html = render(app, typical_plans()["typical"])
    page = visible_text(cssselect2.ElementWrapper.from_html_root(tinyhtml5.parse(html)).query("main"))
    out = []
    for what, text in (("The option catalog (rules/options.yaml)", catalog),
                       ("The results page for a typical plan", page)):
        out.append({"what": what, "flesch_kincaid_grade": round(textstat.flesch_kincaid_grade(text), 1),
                    "smog_index": round(textstat.smog_index(text), 1)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plan", action="append", help="plan name (default: all typical plans)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--readability", action="store_true")
    args = ap.parse_args(argv)
    from app import create_app
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "cdc-index"})
    if args.readability:
        import datetime
        from importlib.metadata import version
        print(yaml.safe_dump({"readability": {"measured": datetime.date.today(),
                                              "tool": f"textstat {version('textstat')}",
                                              "scores": readability(app)}}, sort_keys=False))
        return 0
    plans = typical_plans()
    names = args.plan or list(plans)
    unknown = [n for n in names if n not in plans]
    if unknown:
        ap.error(f"unknown plan {unknown}; known: {', '.join(plans)}")
    report = {}
    for name in names:
        items = score_page(render(app, plans[name]), app.extensions["bonemets"].rules_by_id)
        report[name] = {"score": score(items), "met": sum(i["met"] for i in items),
                        "of": len(items), "items": items}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for name, r in report.items():
        print(f"{name}: automatic CDC Clear Communication Index items met {r['met']} of {r['of']}"
              f" -> score {r['score']}/100 (automatic items only)")
        for i in r["items"]:
            print(f"  [{'x' if i['met'] else ' '}] {i['id']:>2} {i['item']}: {i['evidence']}")
    print("The items a person must score are the checklist in the README (CDC Clear Communication Index).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
