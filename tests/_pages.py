"""Small HTML helpers for the privacy and security tests: read forms and URLs from a page the
way a browser would (no third-party parser needed)."""
from __future__ import annotations

from html.parser import HTMLParser

URL_ATTRS = ("href", "src", "action", "formaction")


class Page(HTMLParser):
    """Collects every <form> (action, inputs, buttons) and every URL-bearing attribute."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.forms: list = []
        self.urls: list = []
        self._form = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        for k in URL_ATTRS:
            if k in a:
                self.urls.append(a[k])
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "inputs": [], "buttons": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None:
            self._form["inputs"].append(a)
        elif tag == "button" and self._form is not None:
            self._form["buttons"].append(a)

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    # -- reading forms -----------------------------------------------------------------------
    def form(self, action: str) -> dict:
        """The first form that posts to ``action`` (or has a button whose formaction is it)."""
        for f in self.forms:
            if f["action"] == action or any(b.get("formaction") == action for b in f["buttons"]):
                return f
        raise AssertionError(f"no form posting to {action}; forms: {[f['action'] for f in self.forms]}")

    def token(self) -> str:
        for f in self.forms:
            for i in f["inputs"]:
                if i.get("name") == "csrf_token":
                    return i.get("value", "")
        raise AssertionError("no csrf_token on the page")


def submitted(form: dict, skip=()) -> list:
    """(name, value) pairs a browser would send for this form as it stands: hidden and text
    inputs, and ticked radios and checkboxes (buttons not included)."""
    pairs = []
    for i in form["inputs"]:
        name = i.get("name")
        if not name or name in skip:
            continue
        kind = i.get("type", "text").lower()
        if kind in ("radio", "checkbox"):
            if "checked" in i:
                pairs.append((name, i.get("value", "on")))
        elif kind not in ("submit", "button", "image", "reset", "file"):
            pairs.append((name, i.get("value", "")))
    return pairs


def as_answers(pairs, fields) -> dict:
    """Fold (name, value) pairs into {field: value or sorted list} for the questionnaire fields."""
    out: dict = {}
    for name, value in pairs:
        if name not in fields or value == "":
            continue
        out.setdefault(name, []).append(value)
    return {k: sorted(v) for k, v in out.items()}
