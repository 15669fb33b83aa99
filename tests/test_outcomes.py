"""Outcomes as data (rules/outcomes.yaml, bonemets/outcomes.py) and pictures of chances
(bonemets/iconarray.py, templates/_outcomes.html): the loader refuses every kind of bad outcome
with the file name and the option/outcome id, every option of the JSON plan carries outcomes in
the contract's shape, the icon arrays have 100 people with the right number marked and say both
frames in words, text is escaped, and the results page and summary show them."""
from __future__ import annotations

import re
import shutil

import pytest
import textstat
import yaml
from markupsafe import Markup

from bonemets import iconarray
from bonemets.outcomes import CERTAINTIES, OUTCOME_KEYS
from bonemets.rules import RuleBookError, load_rulebook
from conftest import RULES_DIR

FILE = "outcomes.yaml"


# -- the loader --------------------------------------------------------------------------------
@pytest.fixture()
def rules_copy(tmp_path):
    dst = tmp_path / "rules"
    shutil.copytree(RULES_DIR, dst)
    return dst


def rewrite(rules_dir, mutate):
    """Load outcomes.yaml, let ``mutate`` change the parsed data, write it back."""
    path = rules_dir / FILE
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def numeric(data):
    """(option id, outcome) of the first outcome that has a number."""
    for oid, outs in data["outcomes"].items():
        for o in outs:
            if o["with"] is not None:
                return oid, o
    raise AssertionError("no outcome with a number")


def unknown(data):
    for oid, outs in data["outcomes"].items():
        for o in outs:
            if o["with"] is None:
                return oid, o
    raise AssertionError("no outcome without a number")


def expect_error(rules_dir, where, *words):
    with pytest.raises(RuleBookError) as info:
        load_rulebook(str(rules_dir))
    err = info.value
    assert err.file == FILE, str(err)
    assert err.rule_id == where, str(err)
    msg = str(err)
    assert FILE in msg and where in msg
    for w in words:
        assert w in msg, msg
    return err


def test_the_real_outcomes_load_for_every_option(rulebook):
    for oid, entry in rulebook.options.items():
        kinds = [o["kind"] for o in entry["outcomes"]]
        assert "benefit" in kinds and "harm" in kinds, oid
    assert "outcomes.yaml" in rulebook.files


@pytest.mark.parametrize("key", OUTCOME_KEYS)
def test_each_missing_key_is_refused(rules_copy, key):
    where = {}

    def drop(data):
        oid, o = numeric(data)
        where["id"] = f"{oid}/{o['id']}"
        if key == "id":
            where["id"] = oid
        del o[key]
    rewrite(rules_copy, drop)
    if key == "id":
        expect_error(rules_copy, where["id"], "needs an 'id'")
    else:
        expect_error(rules_copy, where["id"], "is missing", repr(key))


@pytest.mark.parametrize("key", ["event", "no_event"])
def test_a_number_needs_both_frames_in_words(rules_copy, key):
    where = {}

    def drop(data):
        oid, o = numeric(data)
        where["id"] = f"{oid}/{o['id']}"
        del o[key]
    rewrite(rules_copy, drop)
    expect_error(rules_copy, where["id"], key)


@pytest.mark.parametrize("field, value, words", [
    ("with", 101, ["'with'", "0 to 100"]),
    ("with", -1, ["'with'", "0 to 100"]),
    ("with", 35.5, ["'with'", "whole number"]),
    ("with", "35", ["'with'", "whole number"]),
    ("with", True, ["'with'", "whole number"]),
    ("without", 150, ["'without'", "0 to 100"]),
    ("per", 1000, ["'per'", "100"]),
    ("range", [0, 101], ["'range'"]),
    ("range", [1], ["'range'"]),
    ("range", "10-20", ["'range'"]),
    ("range", [99, 100], ["does not contain 'with'"]),
    ("certainty", "medium", ["certainty 'medium'", "very_low"]),
    ("kind", "risk", ["kind must be one of benefit, harm"]),
    ("sources", ["No-Such-Source-2099"], ["unknown source 'No-Such-Source-2099'"]),
    ("sources", [], ["at least one source"]),
    ("sources", ["IPDAS-2013"], ["which is not evidence for"]),   # covers only no_new_treatment
    ("label", "  ", ["'label'"]),
    ("timeframe", "", ["'timeframe'"]),
])
def test_bad_values_are_refused(rules_copy, field, value, words):
    where = {}

    def set_it(data):
        oid, o = numeric(data)
        where["id"] = f"{oid}/{o['id']}"
        if field == "range" and value == [99, 100]:
            o["with"] = min(o["with"], 98)
        o[field] = value
    rewrite(rules_copy, set_it)
    expect_error(rules_copy, where["id"], *words)


@pytest.mark.parametrize("pick, change, words", [
    (unknown, {"without": 20}, ["'with' is null"]),            # no number, but a comparison
    (unknown, {"range": [1, 2]}, ["'with' is null"]),          # no number, but a range
    (numeric, {"wiht": 3}, ["unknown keys", "wiht"]),          # a typo in a key
])
def test_inconsistent_outcomes_are_refused(rules_copy, pick, change, words):
    where = {}

    def set_it(data):
        oid, o = pick(data)
        where["id"] = f"{oid}/{o['id']}"
        o.update(change)
    rewrite(rules_copy, set_it)
    expect_error(rules_copy, where["id"], *words)


def test_outcome_for_an_option_not_in_the_catalog(rules_copy):
    def add(data):
        data["outcomes"]["magic_cure"] = list(next(iter(data["outcomes"].values())))
    rewrite(rules_copy, add)
    expect_error(rules_copy, "magic_cure", "not in options.yaml")


def _drop_last_option(data):
    oid = list(data["outcomes"])[-1]
    del data["outcomes"][oid]
    return oid


def _only_benefits(data):
    oid = next(iter(data["outcomes"]))
    data["outcomes"][oid] = [o for o in data["outcomes"][oid] if o["kind"] == "benefit"]
    return oid


def _duplicate_first(data):
    oid = next(iter(data["outcomes"]))
    outs = data["outcomes"][oid]
    outs.append(dict(outs[0]))
    return f"{oid}/{outs[0]['id']}"


@pytest.mark.parametrize("mutate, words", [
    (_drop_last_option, "has no outcomes"),           # a catalog option without outcomes
    (_only_benefits, "one benefit and one harm"),     # benefits but no harm
    (_duplicate_first, "duplicate outcome id"),
])
def test_an_option_needs_its_own_benefit_and_harm(rules_copy, mutate, words):
    where = {}
    rewrite(rules_copy, lambda data: where.setdefault("id", mutate(data)))
    expect_error(rules_copy, where["id"], words)


def test_missing_reviewed_date(rules_copy):
    rewrite(rules_copy, lambda data: data.pop("reviewed"))
    with pytest.raises(RuleBookError) as info:
        load_rulebook(str(rules_copy))
    assert info.value.file == FILE and "reviewed" in str(info.value)


def test_missing_file_is_refused(rules_copy):
    (rules_copy / FILE).unlink()
    with pytest.raises(RuleBookError) as info:
        load_rulebook(str(rules_copy))
    assert info.value.file == FILE and "cannot be read" in str(info.value)


# -- the JSON plan -----------------------------------------------------------------------------
def check_contract_shape(o):
    assert set(OUTCOME_KEYS) <= set(o), o
    assert set(o) - set(OUTCOME_KEYS) <= {"event", "no_event"}
    assert o["kind"] in ("benefit", "harm")
    assert o["per"] == 100
    assert o["certainty"] in CERTAINTIES
    assert o["sources"] and all(isinstance(k, str) for k in o["sources"])
    for key in ("label", "timeframe", "population", "comparator"):
        assert isinstance(o[key], str) and o[key].strip()
    if o["with"] is None:
        assert o["without"] is None and o["range"] is None
    else:
        assert isinstance(o["with"], int) and 0 <= o["with"] <= 100
        assert o["without"] is None or (isinstance(o["without"], int) and 0 <= o["without"] <= 100)
        low, high = o["range"]
        assert 0 <= low <= o["with"] <= high <= 100
        assert o["event"] and o["no_event"]


def test_every_option_in_the_json_plan_carries_outcomes(client, rulebook, typical):
    r = client.post("/api/plan", json=typical)
    assert r.status_code == 200
    d = r.get_json()
    assert {o["id"] for o in d["options"]} == set(rulebook.options)
    for opt in d["options"]:
        assert opt["outcomes"], opt["id"]
        kinds = {o["kind"] for o in opt["outcomes"]}
        assert kinds == {"benefit", "harm"}, opt["id"]
        for o in opt["outcomes"]:
            check_contract_shape(o)
            for key in o["sources"]:
                assert key in d["sources"], key  # every cited key resolves in the plan


def test_plan_outcomes_are_the_catalog_numbers_and_copies(rulebook):
    plan = rulebook.plan({})
    d = plan.to_dict()
    opt = next(o for o in d["options"] if o["id"] == "stereotactic_radiation")
    benefit = next(o for o in opt["outcomes"] if o["id"] == "pain_free_3m")
    assert (benefit["with"], benefit["without"], benefit["timeframe"]) == (35, 14, "at 3 months")
    benefit["range"].append(1)  # the JSON is a copy: changing it leaves the rule book alone
    again = next(o for o in rulebook.options["stereotactic_radiation"]["outcomes"]
                 if o["id"] == "pain_free_3m")
    assert again["range"] == [27, 44]


def test_outcome_wording_reads_at_grade_8_or_lower(rulebook):
    texts = []
    for entry in rulebook.options.values():
        for o in entry["outcomes"]:
            texts += [o["label"], o["timeframe"], o["population"], o["comparator"]]
            if o["with"] is not None:
                texts += [" ".join(f) + "." for f in
                          ((h, y + ";", n) for h, y, n in iconarray.comparison_frames(o))]
    texts = [t if t.endswith(".") else t + "." for t in texts]
    whole = " ".join(texts)
    assert textstat.flesch_kincaid_grade(whole) <= 8.0, textstat.flesch_kincaid_grade(whole)
    # As for the catalog: no single longer phrase far above the target.
    hard = [(t, textstat.flesch_kincaid_grade(t)) for t in texts
            if len(t.split()) >= 8 and textstat.flesch_kincaid_grade(t) > 10]
    assert not hard, hard


# -- pictures and words ------------------------------------------------------------------------
SBRT = {"id": "pain_free_3m", "label": "Free of pain at 3 months", "kind": "benefit",
        "with": 35, "without": 14, "per": 100, "timeframe": "at 3 months", "range": [27, 44],
        "certainty": "moderate", "population": "people with a painful spine spot",
        "comparator": "standard radiation", "sources": ["SC.24-2021"],
        "event": "are free of pain", "no_event": "still have some pain"}


def icon_counts(svg: str) -> tuple[int, int]:
    """(people in all, people marked), from the cells the rectangles cover."""
    total = marked = 0
    cell = iconarray.CELL
    for kind, w, h in re.findall(r'<rect class="ia-area ia-area--(has|not)" x="\d+" y="\d+" width="(\d+)" height="(\d+)"', svg):
        n = (int(w) // cell) * (int(h) // cell)
        assert int(w) % cell == 0 and int(h) % cell == 0
        total += n
        marked += n if kind == "has" else 0
    return total, marked


@pytest.mark.parametrize("count", [0, 1, 9, 10, 35, 64, 99, 100])
def test_icon_array_has_100_people_with_the_right_number_marked(count):
    svg = str(iconarray.icon_array_svg(count, "x", "t"))
    assert icon_counts(svg) == (100, count)
    assert f'data-marked="{count}"' in svg and 'data-icons="100"' in svg
    assert 'role="img"' in svg and "<script" not in svg
    # Black-and-white safe: the two kinds differ in fill (solid figure / outline), not colour only.
    assert '<path class="ia-yes"' in svg and '<path class="ia-no"' in svg


def test_marked_cells_do_not_overlap_and_cover_the_grid():
    svg = str(iconarray.icon_array_svg(37, "x", "t"))
    cells = set()
    for x, y, w, h in re.findall(r'<rect class="ia-area ia-area--\w+" x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', svg):
        for cx in range(int(x), int(x) + int(w), iconarray.CELL):
            for cy in range(int(y), int(y) + int(h), iconarray.CELL):
                assert (cx, cy) not in cells
                cells.add((cx, cy))
    assert len(cells) == 100


@pytest.mark.parametrize("bad", [-1, 101, 3.5, None, True])
def test_icon_array_refuses_counts_outside_0_to_100(bad):
    with pytest.raises(ValueError):
        iconarray.icon_array_svg(bad, "x", "t")


def test_text_equivalent_gives_both_frames_and_the_comparison():
    text = iconarray.text_equivalent(SBRT)
    assert "35 of 100 people are free of pain; 65 of 100 still have some pain" in text
    assert "With standard radiation: 14 of 100 people are free of pain; 86 of 100 still have some pain" in text
    assert "at 3 months" in text
    pics = str(iconarray.outcome_pictures(SBRT, "sbrt"))
    # Two pictures, same denominator and time frame, each named with both frames.
    names = re.findall(r'aria-label="([^"]+)"', pics)
    assert len(names) == 2 and all("Time: at 3 months" in n for n in names)
    assert "65 of 100 still have some pain" in names[0] and "86 of 100" in names[1]
    assert [icon_counts(s) for s in re.findall(r"<svg.*?</svg>", pics)] == [(100, 35), (100, 14)]
    # The pattern ids of the two pictures differ (ids are unique on a page).
    ids = re.findall(r'<pattern id="([^"]+)"', pics)
    assert len(ids) == len(set(ids)) == 4


def test_one_picture_when_there_is_no_comparison_and_none_without_a_number():
    single = {**SBRT, "without": None}
    assert str(iconarray.outcome_pictures(single)).count("<svg") == 1
    assert "With standard" not in iconarray.text_equivalent(single)
    none = {**SBRT, "with": None, "without": None, "range": None, "label": "Not known from our sources"}
    assert iconarray.outcome_pictures(none) == Markup("")
    assert iconarray.text_equivalent(none) == "Not known from our sources."
    assert "no range" in iconarray.range_text(none)


def test_labels_and_names_are_escaped():
    evil = {**SBRT, "event": 'are <b>"free"</b> & well', "comparator": "<script>x</script>"}
    pics = str(iconarray.outcome_pictures(evil, 'a"><script>'))
    assert "<script>" not in pics and "<b>" not in pics
    assert "&lt;script&gt;" in pics and "&amp; well" in pics
    assert 'id="ia-a---script--' in pics  # the id keeps only letters, digits and dashes
    svg = str(iconarray.icon_array_svg(3, 'x" onload="alert(1)', "t"))
    assert 'onload="alert' not in svg and "&#34;" in svg


def test_range_words():
    assert iconarray.range_text(SBRT) == "The real number could be anywhere from 27 to 44 in 100."
    assert "no range" in iconarray.range_text({**SBRT, "range": [35, 35]})


def test_certainty_scale_and_key_in_plain_words():
    for level, filled in zip(CERTAINTIES, (4, 3, 2, 1)):
        html = str(iconarray.certainty_scale(level))
        assert html.count("&#9632;") == filled and html.count("&#9633;") == 4 - filled
        assert str(iconarray.CERTAINTY_WORDS[level][0]) in html  # lazy: words of the request's language
    key = str(iconarray.certainty_key())
    for name, meaning in iconarray.CERTAINTY_WORDS.values():
        assert str(name) in key and str(meaning) in key
    with pytest.raises(ValueError):
        iconarray.certainty_scale("medium")


# -- pages -------------------------------------------------------------------------------------
def test_results_page_shows_icon_arrays_with_time_frame_and_certainty(client, typical):
    html = client.post("/plan", data=typical).get_data(as_text=True)
    card = re.search(r'<article[^>]*data-option="stereotactic_radiation".*?</article>', html, re.S).group(0)
    block = re.search(r'<div class="outcome [^"]*" data-outcome="pain_free_3m".*?</dl>', card, re.S).group(0)
    svgs = re.findall(r"<svg.*?</svg>", block, re.S)
    assert [icon_counts(s) for s in svgs] == [(100, 35), (100, 14)]
    assert "At 3 months" in block                      # the time frame
    assert "Fairly sure." in block                     # how sure we are, in words
    assert "35 of 100 people are free of pain; 65 of 100 still have some pain." in block
    assert "27 to 44 in 100" in block                  # the range
    assert "How sure are we?" in html                  # the key to the scale, once
    assert html.count('class="cs-key"') == 1


def test_results_page_says_what_is_not_known(client, typical):
    html = client.post("/plan", data=typical).get_data(as_text=True)
    card = re.search(r'<article[^>]*data-option="hormone_therapy".*?</article>', html, re.S).group(0)
    assert "is not given as a number in our sources" in card
    assert 'data-outcome="cancer_controlled"' in card


def test_every_card_has_its_outcomes_and_pictures_only_for_options_worth_discussing(client, typical, rulebook):
    html = client.post("/plan", data=typical).get_data(as_text=True)
    for card in re.findall(r"<article.*?</article>", html, re.S):
        oid = re.search(r'data-option="([\w]+)"', card).group(1)
        group = re.search(r'data-group="(\w+)"', card).group(1)
        for o in rulebook.options[oid]["outcomes"]:
            assert f'data-outcome="{o["id"]}"' in card, (oid, o["id"])
        has_pictures = "<svg" in card
        numeric = any(o["with"] is not None for o in rulebook.options[oid]["outcomes"])
        assert has_pictures == (numeric and group in ("discuss", "consider")), oid
    ids = re.findall(r'<pattern id="([^"]+)"', html)
    assert ids and len(ids) == len(set(ids))


def test_summary_shows_the_main_outcomes_in_print_form(client, typical):
    html = client.post("/summary", data=typical).get_data(as_text=True)
    item = re.search(r'<li class="s-option" data-option="stereotactic_radiation".*?</li>\s*(?=<li|</ul>)', html, re.S).group(0)
    assert 'class="outcome outcome--benefit outcome--print"' in item
    assert [icon_counts(s) for s in re.findall(r"<svg.*?</svg>", item, re.S)][:2] == [(100, 35), (100, 14)]
    assert "When: at 3 months." in item and "Fairly sure." in item


@pytest.mark.parametrize("variant", ["screen", "print"])
def test_macro_escapes_every_text_and_says_what_is_not_known(app, variant):
    evil = {**SBRT, "label": "<img src=x onerror=alert(1)>", "population": "<b>bold</b>",
            "sources": ['SC.24-2021"><script>']}
    with app.test_request_context():
        macros = app.jinja_env.get_template("_outcomes.html").module
        html = str(macros.outcome_block(evil, variant=variant, uid="t"))
        unknown_html = str(macros.outcome_block(
            {**SBRT, "with": None, "without": None, "range": None,
             "label": "How many are helped is not known"}, variant=variant))
    assert "<img" not in html and "<b>" not in html and "<script>" not in html
    assert "&lt;img src=x" in html and "&lt;b&gt;bold" in html
    assert html.count("<svg") == 2 and "At 3 months" in html.replace("When: at", "At")
    assert "How many are helped is not known" in unknown_html and "<svg" not in unknown_html
