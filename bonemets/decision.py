"""The decision, stated, as data: ``rules/decision.yaml``.

What is being decided, that options can be combined, that there is no one right answer, the
lead to the "no new treatment for now" option and a short "what cancer in the bones can cause"
explainer. All of it is clinical wording, so it lives in ``rules/``; the rule book loader checks it
(its schema is in the table of :mod:`bonemets.loader`: every text present, every source known,
the option in the catalog), so a bad file stops the app from starting like a bad rule, and keeps
it on ``RuleBook.decision``.
"""
from __future__ import annotations

from typing import Mapping

FILE = "decision.yaml"
# section -> the texts it must have (each a non-empty string)
TEXTS = {"decision": ("what", "combine", "no_right_answer"),
         "nothing_new": ("lead",),
         "explainer": ("intro", "aim")}


def sources_of(decision: Mapping) -> list:
    """Every source key the decision box and explainer cite, first cited first."""
    keys = [k for name in TEXTS for k in decision[name]["sources"]]
    keys += [k for p in decision["explainer"]["problems"] for k in p["sources"]]
    return list(dict.fromkeys(keys))
