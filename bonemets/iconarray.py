"""Pictures of chances: 100-person icon arrays as server-side SVG, both frames in words, and a
plain "how sure are we" scale.

Pure functions from an outcome dict (the contract's ``outcomes`` shape, see
``bonemets/outcomes.py``) to Markup: no JavaScript, every piece of text escaped. Black-and-white
safe: a person who has the outcome is a solid filled figure, a person who does not is an outline
only, so the picture reads the same in greyscale print as on screen. Each picture is an
``role="img"`` SVG whose accessible name says both frames in words.

Every word a person reads here comes from ``rules/outcomes.yaml`` (the clinical facts) or from
``bonemets/messages.py`` (the layout words: "With this option", "35 of 100", "Time: ..."), so
it is in the request's language; this module only puts them together.
"""
from __future__ import annotations

from typing import Any, Mapping

from markupsafe import Markup, escape

__all__ = ["frames", "comparison_frames", "text_equivalent", "icon_array_svg", "outcome_pictures",
           "range_text", "certainty_scale", "certainty_key", "CERTAINTY_WORDS", "init_jinja"]

from . import messages as msg

PER = 100
COLS = 10
CELL = 12            # SVG units per icon cell

# Plain words for GRADE certainty (most sure first): a short name and what it means.
# (name, meaning) for each GRADE level, lazy: in the request's language (bonemets/messages.py)
CERTAINTY_WORDS = dict(zip(("high", "moderate", "low", "very_low"), msg.CERTAINTY_STEPS))

# One person, a round head and rounded shoulders, in a 12 x 12 tile.
_PERSON = "M6 .8a2.4 2.4 0 1 1 0 4.8a2.4 2.4 0 1 1 0-4.8zM2 11.4v-3c0-1.6 1.3-2.4 2.8-2.4h2.4c1.5 0 2.8.8 2.8 2.4v3z"


def _count_text(n: int) -> str:
    return str(msg.IA["count"]) % {"n": n, "per": PER}


def frames(outcome: Mapping[str, Any], count: int | None = None) -> tuple[str, str]:
    """Both frames in words: ("35 of 100 people are free of pain", "65 of 100 still have some pain")."""
    n = outcome["with"] if count is None else count
    yes = str(msg.IA["people"]) % {"count": _count_text(n), "event": outcome["event"]}
    no = str(msg.IA["not"]) % {"count": _count_text(PER - n), "no_event": outcome["no_event"]}
    return yes, no


def comparison_frames(outcome: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """[(heading, yes, no)] for "with" and, where it exists, "without"."""
    rows = [(str(msg.IA["with_option"]), *frames(outcome))]
    if outcome.get("without") is not None:
        rows.append((str(msg.IA["with_other"]) % {"comparator": outcome["comparator"]},
                     *frames(outcome, outcome["without"])))
    return rows


def _picture_text(heading: str, yes: str, no: str, outcome: Mapping[str, Any]) -> str:
    """One picture in words: "With this option: 35 of 100 ...; 65 of 100 .... Time: 3 months."."""
    return (str(msg.IA["picture"]) % {"heading": heading, "has": yes, "has_not": no} + " "
            + str(msg.IA["time"]) % {"when": outcome["timeframe"]})


def text_equivalent(outcome: Mapping[str, Any]) -> str:
    """The whole picture in words, for screen readers and for anyone who prefers words."""
    if outcome.get("with") is None:
        return str(msg.IA["no_number_label"]) % {"label": outcome["label"]}
    parts = [str(msg.IA["picture"]) % {"heading": h, "has": yes, "has_not": no}
             for h, yes, no in comparison_frames(outcome)]
    return " ".join(parts) + " " + str(msg.IA["time"]) % {"when": outcome["timeframe"]}


def _rects(count: int) -> list[tuple[str, int, int, int, int]]:
    """The grid as at most four rectangles of whole icon cells, (kind, x, y, w, h) in cells:
    full rows of people who have the outcome, the part-row, the rest of that row, the rest."""
    full, part = divmod(count, COLS)
    rows = PER // COLS
    out = []
    if full:
        out.append(("has", 0, 0, COLS, full))
    if part:
        out.append(("has", 0, full, part, 1))
        out.append(("not", part, full, COLS - part, 1))
    top = full + (1 if part else 0)
    if top < rows:
        out.append(("not", 0, top, COLS, rows - top))
    return out


def icon_array_svg(count: int, name: str, uid: str) -> Markup:
    """A 10 x 10 grid of people; the first ``count`` (row by row) are solid, the rest outlined.

    ``name`` is the accessible name (escaped here). Each kind of person is an SVG pattern tile
    and the grid is at most four rectangles filled with them: a hundred people in under a
    kilobyte, which keeps the results page small and the PDF fast. ``uid`` makes the two
    pattern ids unique on the page.
    """
    if not (isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= PER):
        raise ValueError(f"count must be a whole number from 0 to {PER}")
    pid = "ia-" + "".join(ch if ch.isalnum() else "-" for ch in uid)
    size = COLS * CELL
    defs = (f'<defs>'
            f'<pattern id="{pid}-has" width="{CELL}" height="{CELL}" patternUnits="userSpaceOnUse">'
            f'<path class="ia-yes" d="{_PERSON}"/></pattern>'
            f'<pattern id="{pid}-not" width="{CELL}" height="{CELL}" patternUnits="userSpaceOnUse">'
            f'<path class="ia-no" d="{_PERSON}"/></pattern></defs>')
    rects = "".join(
        f'<rect class="ia-area ia-area--{kind}" x="{x * CELL}" y="{y * CELL}" width="{w * CELL}" '
        f'height="{h * CELL}" fill="url(#{pid}-{kind})"/>'
        for kind, x, y, w, h in _rects(count))
    return Markup(
        f'<svg class="ia-svg" role="img" viewBox="0 0 {size} {size}" width="{size}" height="{size}"'
        f' aria-label="{escape(name)}" focusable="false" data-icons="{PER}" data-marked="{count}">'
        f'<title>{escape(name)}</title>{defs}{rects}</svg>')


def outcome_pictures(outcome: Mapping[str, Any], uid: str = "") -> Markup:
    """One icon array (or two, with and without, on the same 100 and time frame), each with a
    heading; empty Markup when the outcome has no number."""
    if outcome.get("with") is None:
        return Markup("")
    figs = []
    for i, (heading, yes, no) in enumerate(comparison_frames(outcome)):
        count = outcome["with"] if i == 0 else outcome["without"]
        name = _picture_text(heading, yes, no, outcome)
        figs.append(
            f'<figure class="ia ia--{"with" if i == 0 else "without"}">'
            f'<figcaption class="ia-caption">{escape(heading)}</figcaption>'
            f'{icon_array_svg(count, name, (uid or outcome["id"]) + "-" + str(i))}</figure>')
    return Markup('<div class="ia-pair">' + "".join(figs) + "</div>")


def range_text(outcome: Mapping[str, Any]) -> str:
    rng = outcome.get("range")
    if outcome.get("with") is None or not rng:
        return str(msg.IA["no_number"])
    low, high = rng
    if low == high:
        return str(msg.IA["no_range"])
    return str(msg.IA["range"]) % {"low": low, "high": high, "per": PER}


def _squares(level: str) -> str:
    """Four squares, as many filled as the evidence is sure (4 = very sure, 1 = very unsure)."""
    filled = len(CERTAINTY_WORDS) - list(CERTAINTY_WORDS).index(level)
    return ("&#9632;" * filled) + ("&#9633;" * (len(CERTAINTY_WORDS) - filled))


def certainty_scale(level: str) -> Markup:
    """Where this number sits on the four-step scale: filled and empty squares (black and white
    safe, hidden from screen readers) and the step in plain words with what it means."""
    if level not in CERTAINTY_WORDS:
        raise ValueError(f"unknown certainty {level!r}")
    name, meaning = CERTAINTY_WORDS[level]
    return Markup(f'<span class="cs-marks" aria-hidden="true">{_squares(level)}</span> '
                  f'<strong class="cs-name">{escape(name)}.</strong> {escape(meaning)}')


def certainty_key() -> Markup:
    """The key to the scale: all four steps, most sure first."""
    rows = "".join(f'<li><span class="cs-marks" aria-hidden="true">{_squares(k)}</span> '
                   f'<strong>{escape(n)}.</strong> {escape(m)}</li>'
                   for k, (n, m) in CERTAINTY_WORDS.items())
    # Folded on screen (each figure says how sure it is in words); open it to see all four steps.
    return Markup('<details class="cs-key"><summary class="cs-key-title"><strong>'
                  f'{escape(str(msg.IA["key"]))}</strong></summary>'
                  f'<p>{escape(str(msg.IA["key_intro"]))}</p>'
                  f'<ul class="cs-key-list">{rows}</ul></details>')


def init_jinja(env) -> None:
    """Make these helpers available to templates (templates/_outcomes.html uses them)."""
    env.globals.update(ia_pictures=outcome_pictures, ia_frames=comparison_frames,
                       ia_text=text_equivalent, ia_range=range_text, ia_certainty=certainty_scale,
                       ia_certainty_key=certainty_key, ia_levels=tuple(CERTAINTY_WORDS))
