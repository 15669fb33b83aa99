"""Where the app's files are: the rule book (rules/), the pages (templates/), the styles (static/)
and the scenario files (tests/scenarios/).

In a checkout (and an editable install) they sit at the top of the repository, beside this
package. A wheel carries rules/, templates/ and static/ as package data in bonemets/_content/
(see pyproject.toml). Nothing else in the project builds these paths.
"""
from __future__ import annotations

import os

PACKAGE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(PACKAGE)


def _find(name: str) -> str:
    installed = os.path.join(PACKAGE, "_content", name)
    return installed if os.path.isdir(installed) else os.path.join(REPO, name)


RULES_DIR = _find("rules")
TEMPLATES_DIR = _find("templates")
STATIC_DIR = _find("static")
TRANSLATIONS_DIR = _find("translations")  # message catalogs (.po in git, .mo built)
SCENARIOS_DIR = os.path.join(REPO, "tests", "scenarios")
