"""Privacy: a whole visit, with CSRF on, as a browser would make it, leaves nothing behind.

One-page form -> /plan -> /summary -> /summary.pdf (and "Change my answers"), the step-by-step
flow through every step to the check page and /plan, and the JSON API. Afterwards:

* the repo's tree and the app's instance folder are unchanged (file listing, sizes, mtimes),
  and no Python code opened a file for writing while the requests ran;
* no answer (distinctive values, field names, the pain score) reached any log record;
* every response carries ``Cache-Control: no-store``;
* no answer is in any URL: redirect ``Location`` headers, ``href``/``src``/``action``/``formaction``;
* the session cookie holds the CSRF token and nothing else; the answers cookie (post/redirect/get,
  bonemets/views/carry.py) is encrypted, HttpOnly, SameSite=Lax and short-lived, and
  "Clear my answers" deletes it.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from _pages import Page, as_answers, submitted
from conftest import ROOT

# Distinctive answers: a person with castration-resistant prostate cancer on abiraterone.
ANSWERS = {
    "primary_cancer": "prostate", "prostate_status": "castration_resistant", "organ_spread": "no",
    "bone_sites": ["pelvis", "ribs"], "site_count": "more_than_five",
    "painful_sites": "three_or_more", "bone_damage": ["fracture_risk"],
    "lesion_type": "bone_forming", "prior_treatments": ["hormone_therapy", "radiation_elsewhere"],
    "prior_radiation_same_site": "over_month", "current_medicines": ["abiraterone_prednisone"],
    "activity_level": "self_care_only", "outlook": "months", "kidney_function": "reduced",
    "dental_health": "needs_work", "calcium": "normal", "mri_possible": "yes",
    "pain_control": "partly_controlled", "pain_score": "7", "pain_with_movement": "no",
    "symptoms_now": ["thigh_groin_ache"], "priorities": ["avoid_hospital_stay", "fewest_side_effects"],
}
PAIN_SCORE = "7"
ANSWERS_COOKIE = "bonemets_answers"
SKIP_DIRS = {".git", ".pytest_cache", ".hypothesis", "__pycache__"}


def form_pairs(answers: dict) -> list:
    return [(k, x) for k, v in answers.items() for x in (v if isinstance(v, list) else [v])]


def folded(answers: dict) -> dict:
    return {k: sorted(v if isinstance(v, list) else [v]) for k, v in answers.items()}


def json_answers(answers: dict) -> dict:
    return {k: (int(v) if k == "pain_score" else v) for k, v in answers.items()}


# --------------------------------------------------------------------------------------------
# What the app could leave behind
# --------------------------------------------------------------------------------------------
def snapshot(root: str) -> dict:
    """{relative path: (size, mtime_ns)} for every file under root, minus caches and .git."""
    out = {}
    if not os.path.isdir(root):
        return {"<absent>": None}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except FileNotFoundError:  # pragma: no cover - vanished while walking
                continue
            out[os.path.relpath(p, root)] = (st.st_size, st.st_mtime_ns)
    return out


def diff(before: dict, after: dict) -> dict:
    return {"added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k])}


# A process-wide audit hook (hooks cannot be removed, so it records only while armed).
_WRITES: list | None = None
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event, args):
    if _WRITES is None:
        return
    path = None
    if event == "open":
        path, mode, flags = (list(args) + [None, None, None])[:3]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                  (isinstance(flags, int) and flags & _WRITE_FLAGS)
        if not writing:
            return
    elif event in ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.truncate",
                   "tempfile.mkstemp", "tempfile.mkdtemp", "shutil.copyfile", "shutil.move"):
        path = args[0] if args else None
    else:
        return
    p = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else repr(path)
    if "__pycache__" in p or p.endswith(".pyc"):  # Python caching a lazily imported module
        return
    _WRITES.append((event, p))


sys.addaudithook(_audit)


class Watch:
    """Arm the audit hook and snapshot the repo and the instance folder."""

    def __init__(self, app):
        self.app = app

    def __enter__(self):
        global _WRITES
        # Importing WeasyPrint (lazily, on the first PDF) probes for its C libraries with
        # ctypes.util.find_library, which runs a compiler on temporary files: a one-off cost of
        # the import, not of serving a person. Import it first so the watch sees only requests.
        import bonemets.pdf  # noqa: F401
        self.repo = snapshot(ROOT)
        self.instance = snapshot(self.app.instance_path)
        self.writes = _WRITES = []
        return self

    def __exit__(self, *exc):
        global _WRITES
        _WRITES = None
        if exc[0] is not None:
            return False
        assert self.writes == [], f"files opened for writing while serving: {self.writes}"
        assert snapshot(self.app.instance_path) == self.instance, \
            f"instance folder changed: {diff(self.instance, snapshot(self.app.instance_path))}"
        self.repo_diff = diff(self.repo, snapshot(ROOT))
        return False

    @property
    def repo_changed(self) -> bool:
        return any(self.repo_diff.values())


# --------------------------------------------------------------------------------------------
# The visit
# --------------------------------------------------------------------------------------------
class Visit:
    """A test client that checks every response for the privacy promises as it goes."""

    def __init__(self, app, client, rulebook):
        self.app, self.client, self.rb = app, client, rulebook
        self.responses: list = []
        self.serializer = app.session_interface.get_signing_serializer(app)
        values = {x for v in ANSWERS.values() for x in (v if isinstance(v, list) else [v])}
        ids = set(rulebook.options) | set(rulebook.flags) | set(rulebook.cautions)
        # Values that cannot turn up by chance (option ids such as hormone_therapy can).
        self.distinctive = sorted(v for v in values if "_" in v and v not in ids)
        assert len(self.distinctive) >= 10
        self.field_names = sorted(rulebook.fields)

    def get(self, path):
        return self._check(self.client.get(path), f"GET {path}")

    def post(self, path, **kw):
        return self._check(self.client.post(path, **kw), f"POST {path}")

    def _check(self, final, what):
        # The client follows post/redirect/get as a browser does: check every hop.
        for r in list(getattr(final, "history", ())) + [final]:
            self.responses.append((what, r))
            assert r.status_code < 400, f"{what}: {r.status_code}"
            assert "no-store" in r.headers.get("Cache-Control", ""), f"{what}: not no-store"
            if "Location" in r.headers:
                self.check_url(r.headers["Location"], f"{what} Location")
            for cookie in r.headers.getlist("Set-Cookie"):
                if cookie.startswith(ANSWERS_COOKIE + "="):
                    self.check_answers_cookie(cookie, what)
                    continue
                assert cookie.startswith(self.app.config["SESSION_COOKIE_NAME"] + "="), \
                    f"{what} sets an unexpected cookie: {cookie[:40]}"
            if r.mimetype == "text/html":
                for url in Page(r.get_data(as_text=True)).urls:
                    self.check_url(url, what)
        self.check_session(what)
        return final

    def check_answers_cookie(self, header: str, what: str):
        """The answers cookie (bonemets/views/carry.py): encrypted, HttpOnly, SameSite=Lax,
        short-lived; no answer or field name readable in it."""
        value, *attrs = [a.strip() for a in header.split(";")]
        attrs = {a.split("=")[0].lower(): (a.split("=", 1) + [""])[1] for a in attrs}
        assert "httponly" in attrs and attrs.get("samesite") == "Lax", f"{what}: {attrs}"
        if value.split("=", 1)[1]:  # a cookie being cleared has no value
            assert 0 < int(attrs["max-age"]) <= 6 * 3600, f"{what}: Max-Age {attrs.get('max-age')}"
        import base64
        import zlib
        raw = value.split("=", 1)[1]
        for text in (raw, base64.urlsafe_b64decode(raw + "==").decode("latin-1")):
            for v in self.distinctive + self.field_names:
                assert v not in text, f"{what}: answers cookie readable ({v!r})"
        try:
            zlib.decompress(base64.urlsafe_b64decode(raw + "=="))
        except zlib.error:
            pass
        else:  # pragma: no cover
            pytest.fail(f"{what}: the answers cookie is only compressed, not encrypted")

    def check_url(self, url: str, what: str):
        for v in self.distinctive:
            assert v not in url, f"{what}: answer {v!r} in URL {url!r}"
        parts = urlsplit(url)
        internal = not parts.netloc or parts.hostname in ("localhost", "127.0.0.1")
        if internal:
            where = parts.path + "?" + parts.query
            for name in self.field_names:
                assert name not in where, f"{what}: field {name!r} in URL {url!r}"

    def check_session(self, what: str):
        cookie = self.client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        if cookie is None:
            return
        data = self.serializer.loads(cookie.value)
        assert set(data) <= {"csrf_token"}, f"{what}: session holds {sorted(data)}"
        text = json.dumps(data)
        for v in self.distinctive + self.field_names:
            assert v not in text, f"{what}: session cookie holds {v!r}"


@pytest.fixture()
def visit(csrf_app, rulebook):
    return Visit(csrf_app, csrf_app.test_client(), rulebook)


@pytest.fixture()
def logs(caplog, csrf_app):
    caplog.set_level(logging.DEBUG)
    for name in (csrf_app.logger.name, "werkzeug", "flask_wtf", "bonemets"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def one_page_flow(v: Visit):
    page = Page(v.get("/questionnaire").get_data(as_text=True))
    token = page.token()
    r = v.post("/plan", data=MultiDict(form_pairs(ANSWERS) + [("csrf_token", token)]))
    assert r.status_code == 200 and r.mimetype == "text/html"
    results = Page(r.get_data(as_text=True))
    carried = submitted(results.form("/summary"))
    assert as_answers(carried, v.rb.fields) == folded(ANSWERS), "results page lost an answer"

    r = v.post("/summary", data=MultiDict(carried))
    assert r.status_code == 200
    summary = Page(r.get_data(as_text=True))

    r = v.post("/summary.pdf", data=MultiDict(submitted(summary.form("/summary.pdf"))))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")

    r = v.post("/plan", data=MultiDict(submitted(summary.form("/plan"))))  # back to my options
    assert r.status_code == 200
    r = v.post("/questionnaire", data=MultiDict(submitted(results.form("/questionnaire"))))
    assert r.status_code == 200
    edit = Page(r.get_data(as_text=True))
    assert as_answers(submitted(edit.form("/plan")), v.rb.fields) == folded(ANSWERS)


def step_flow(v: Visit):
    rb = v.rb
    r = v.get("/steps/1")
    went_back = False
    for _ in range(3 * len(rb.sections)):  # bounded: one pass plus one "Back"
        page = Page(r.get_data(as_text=True))
        form = page.form("/steps")
        step = next((i["value"] for i in form["inputs"] if i.get("name") == "step"), None)
        if step == "check":
            break
        fields = rb.sections[int(step) - 1].fields
        mine = [(k, x) for k, x in form_pairs(ANSWERS) if k in fields]
        data = [p for p in submitted(form) if p[0] not in fields] + mine
        if step == "3" and not went_back:  # press Back once: answers must survive it
            went_back = True
            r = v.post("/steps", data=MultiDict(data + [("go", "back")]))
            continue
        r = v.post("/steps", data=MultiDict(data + [("go", "next")]))
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
    else:  # pragma: no cover
        pytest.fail("never reached the check page")
    check = Page(r.get_data(as_text=True))
    form = check.form("/plan")
    data = submitted(form)
    assert as_answers(data, rb.fields) == folded(ANSWERS), "the steps lost an answer"
    r = v.post("/steps", data=MultiDict(data + [("go", "edit-6")]))  # "Change" the pain answers
    assert r.status_code == 200 and "Step 6 of" in r.get_data(as_text=True)
    r = v.post("/plan", data=MultiDict(data))  # "See my options" (formaction=/plan)
    assert r.status_code == 200
    results = Page(r.get_data(as_text=True))
    assert as_answers(submitted(results.form("/summary")), rb.fields) == folded(ANSWERS)


def api_flow(v: Visit):
    r = v.post("/api/plan", json=json_answers(ANSWERS))
    assert r.status_code == 200
    plan = r.get_json()
    assert plan["caveat"] and len(plan["options"]) == len(v.rb.options)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------
def test_whole_visit_leaves_nothing_behind(csrf_app, rulebook, logs):
    """The audit hook and the instance folder are checked strictly on every visit. The repo's
    tree is shared with people editing it and other test runs, so a change there fails the test
    only if it is seen on each of three visits in a row (an app that writes on every visit does)."""
    seen = []
    for _ in range(3):
        visit = Visit(csrf_app, csrf_app.test_client(), rulebook)
        with Watch(csrf_app) as watch:
            one_page_flow(visit)
            step_flow(visit)
            api_flow(visit)
        assert len(visit.responses) >= 20
        seen.append(watch.repo_diff)
        if not watch.repo_changed:
            break
    else:
        pytest.fail(f"the repo's tree changed during each visit: {seen}")
    # Logs: nothing that could identify an answer, in any logger, at any level.
    texts = [rec.getMessage() for rec in logs.records] + [logs.text]
    for text in texts:
        for v in visit.distinctive + visit.field_names:
            assert v not in text, f"answer or field name {v!r} logged: {text[:200]!r}"
        assert not re.search(rf"pain\D{{0,20}}{PAIN_SCORE}", text), "pain score logged"


def test_every_response_is_no_store(visit, csrf_app):
    one_page_flow(visit)
    step_flow(visit)
    api_flow(visit)
    posts = [(w, r) for w, r in visit.responses if w.startswith("POST")]
    assert {w for w, _ in posts} >= {"POST /plan", "POST /summary", "POST /summary.pdf",
                                     "POST /steps", "POST /questionnaire", "POST /api/plan"}
    for what, r in posts:
        assert r.headers["Cache-Control"] == "no-store", what
        assert "ETag" not in r.headers and "Last-Modified" not in r.headers, what


def test_session_cookie_holds_only_the_csrf_token(visit, csrf_app):
    one_page_flow(visit)
    cookie = visit.client.get_cookie(csrf_app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, "CSRF needs the session cookie"
    assert cookie.http_only and cookie.same_site == "Lax"
    data = visit.serializer.loads(cookie.value)
    assert list(data) == ["csrf_token"]


def test_answers_never_in_urls_even_on_error_pages(visit, csrf_app):
    """A page re-shown with errors (or a stale token) must not move answers into a URL."""
    page = Page(visit.get("/questionnaire").get_data(as_text=True))
    bad = form_pairs({**ANSWERS, "pain_score": "eleven"})
    r = csrf_app.test_client().post("/plan", data=MultiDict(bad))  # no token, another client
    assert r.status_code == 400
    for url in Page(r.get_data(as_text=True)).urls:
        visit.check_url(url, "tokenless /plan")
    r = visit.client.post("/plan", data=MultiDict(bad + [("csrf_token", page.token())]))
    assert r.status_code == 400
    assert "Location" not in r.headers
    for url in Page(r.get_data(as_text=True)).urls:
        visit.check_url(url, "/plan with an error")


def test_a_crash_logs_no_answers(monkeypatch, caplog):
    """The last-resort error handler logs the error type, never the answers in its message."""
    from app import create_app
    app = create_app({"SECRET_KEY": "crash-test", "WTF_CSRF_ENABLED": False})
    assert not app.testing
    rb = app.extensions["bonemets"]

    def boom(answers):
        raise KeyError(f"{answers.get('prostate_status')} {answers.get('pain_score')}")

    monkeypatch.setattr(rb, "plan", boom)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=app.logger.name)
    client = app.test_client()
    r = client.post("/plan", data=MultiDict(form_pairs(ANSWERS)), follow_redirects=True)
    assert r.status_code == 500
    assert "castration_resistant" not in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    r = client.post("/api/plan", json=json_answers(ANSWERS))
    assert r.status_code == 500 and r.get_json()["caveat"] and r.get_json()["errors"]
    assert "castration_resistant" not in r.get_data(as_text=True)
    # a QuestionnaireResponse: an OperationOutcome with the caveat, no answers in it
    import datetime as _dt
    clean, _ = rb.validate_answers(json_answers(ANSWERS))
    qr = app.extensions["bonemets_fhir"].response(clean, _dt.datetime(2026, 12, 2, 12, 0))
    r = client.post("/api/plan", json=qr, headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 500 and r.mimetype == "application/fhir+json"
    assert r.get_json()["resourceType"] == "OperationOutcome"
    assert r.get_json()["issue"][-1]["details"]["text"] == rb.caveat
    assert "castration_resistant" not in r.get_data(as_text=True)
    assert any("KeyError" in rec.getMessage() for rec in caplog.records), "the crash is logged"
    assert "castration_resistant" not in caplog.text
    assert not re.search(rf"pain\D{{0,20}}{PAIN_SCORE}", caplog.text)


def test_clear_my_answers_deletes_them_and_needs_the_token(visit, csrf_app):
    """ "Clear my answers" (POST /clear) is CSRF-checked and removes the answers cookie: the pages
    made from it then say the answers are gone instead of showing them."""
    one_page_flow(visit)
    assert visit.client.get_cookie(ANSWERS_COOKIE) is not None
    assert "castration-resistant" in visit.get("/plan").get_data(as_text=True).lower()
    refused = visit.client.post("/clear", data={})
    assert refused.status_code == 400 and visit.client.get_cookie(ANSWERS_COOKIE) is not None
    token = Page(visit.get("/").get_data(as_text=True)).token()
    r = visit.post("/clear", data={"csrf_token": token})
    assert "Your answers have been cleared" in r.get_data(as_text=True)
    assert visit.client.get_cookie(ANSWERS_COOKIE) is None
    for path in ("/plan", "/summary", "/check", "/urgent"):
        html = visit.get(path).get_data(as_text=True)
        assert "Your answers are not here any more" in html, path
        assert "castration" not in html.lower(), path


def test_answers_cookie_expires(csrf_app, rulebook, monkeypatch):
    """The cookie is refused after ANSWERS_MAX_AGE even if a browser still sends it."""
    from bonemets.views import carry
    c = csrf_app.test_client()
    token = Page(c.get("/questionnaire").get_data(as_text=True)).token()
    c.post("/plan", data={"primary_cancer": "prostate", "csrf_token": token})
    assert "Prostate" in c.get("/plan").get_data(as_text=True)
    monkeypatch.setitem(csrf_app.config, "ANSWERS_MAX_AGE", 0)
    import time
    time.sleep(1.1)
    assert "Your answers are not here any more" in c.get("/plan").get_data(as_text=True)
    assert carry.DEFAULT_MAX_AGE <= 6 * 3600


@pytest.mark.server
def test_the_development_server_logs_no_requests(tmp_path):
    """``bash scripts/run.sh`` serves with Flask's development server, whose log has a line per
    request: the visitor's address and the address asked for (bonemets/serving.py
    ``quiet_dev_server`` drops them). Its start-up lines stay."""
    import subprocess

    from servers import free_port, raw, wait_healthy

    port = free_port()
    out = tmp_path / "run.log"
    env = {**os.environ, "SECRET_KEY": "dev-log-test", "FLASK_DEBUG": "0"}
    with open(out, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "run", "--port",
                                 str(port)], cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
        try:
            wait_healthy(port, proc=proc, what=out.read_text)
            for request in (b"GET /questionnaire?lang=es&primary_cancer=prostate HTTP/1.1\r\n"
                            b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n",
                            b"GET /no-such-page HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                            b"GARBAGE /prostate HTTP/1.1\r\n\r\n"):
                raw(port, request)
        finally:
            proc.terminate()
            proc.wait(10)
    log = out.read_text()
    assert "Running on http://127.0.0.1:%d" % port in log, log
    for sent in ("prostate", "/questionnaire", "/healthz", "no-such-page", "GARBAGE", " - - ["):
        assert sent not in log, (sent, log)
