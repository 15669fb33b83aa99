"""Shared fixtures: the app (CSRF off for most HTTP tests, on where a test checks it),
its test client and the rule book."""
from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from app import create_app  # noqa: E402
from bonemets.rules import load_rulebook  # noqa: E402

RULES_DIR = os.path.join(ROOT, "rules")
SCENARIO_DIR = os.path.join(ROOT, "tests", "scenarios")


@pytest.fixture(scope="session")
def rulebook():
    return load_rulebook(RULES_DIR)


@pytest.fixture(scope="session")
def app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"})


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def csrf_app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": True, "SECRET_KEY": "test"})


@pytest.fixture()
def csrf_client(csrf_app):
    return csrf_app.test_client()


# A typical answer set used across tests (public scenario 1: HR-positive breast cancer).
TYPICAL = {
    "primary_cancer": "breast", "hormone_receptor": "positive", "organ_spread": "no",
    "bone_sites": ["spine"], "site_count": "two_to_five", "painful_sites": "one_or_two",
    "bone_damage": ["none_known"], "prior_treatments": ["none"],
    "activity_level": "light_activity", "kidney_function": "normal",
    "dental_health": "checked_ok", "pain_control": "partly_controlled",
    "symptoms_now": ["none"], "priorities": ["fewest_visits", "stay_mobile"],
}


@pytest.fixture()
def typical():
    return {k: (list(v) if isinstance(v, list) else v) for k, v in TYPICAL.items()}
