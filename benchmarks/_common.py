"""Shared helpers for the benchmark scripts (not a test; nothing here is asserted).

Everything binds to and talks to 127.0.0.1 only, and every wait is bounded.
"""
from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HOST = "127.0.0.1"
# This checkout's package first (the shared venv may have another checkout installed).
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def typical_answers() -> dict:
    """Public scenario 1 (HR-positive breast cancer): the same answers as the tests' TYPICAL."""
    with open(os.path.join(ROOT, "tests", "scenarios", "public.yaml"), encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh)[0]["answers"])


def form_body(answers: dict, extra: dict | None = None) -> str:
    pairs = [(k, x) for k, v in answers.items() for x in (v if isinstance(v, list) else [v])]
    return urlencode(pairs + list((extra or {}).items()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _gunicorn() -> str:
    """The venv's gunicorn beside this Python, else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    return here if os.path.exists(here) else (shutil.which("gunicorn") or "gunicorn")


class Gunicorn:
    """``gunicorn -w N -b 127.0.0.1:PORT TARGET`` in ``cwd``, logging to a temp file."""

    def __init__(self, target: str, cwd: str, workers: int = 2, env: dict | None = None):
        self._start([_gunicorn(), "-w", str(workers), "-b", f"{HOST}:{free_port()}",
                     "--no-control-socket", "--graceful-timeout", "5", target], target, cwd, env)

    def _start(self, cmd: list, target: str, cwd: str, env: dict | None):
        self.port = int(cmd[cmd.index("-b") + 1].rsplit(":", 1)[1])
        self.target, self.cwd = target, cwd
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)
        full_env = {**os.environ, "PYTHONPATH": ROOT, **(env or {})}
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, path: str, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.target} exited: {self.tail()}")
            try:
                status, _, _ = request("GET", self.port, path, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn {self.target} not ready after {timeout}s: {self.tail()}")

    def workers(self) -> list:
        return worker_pids(self.proc.pid)

    def tail(self, n: int = 2000) -> str:
        with open(self.log.name, errors="replace") as fh:
            return fh.read()[-n:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        os.unlink(self.log.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


class GunicornConf(Gunicorn):
    """``gunicorn -c deploy/gunicorn.conf.py -b 127.0.0.1:PORT [TARGET]`` in ``cwd``: the
    production settings (worker class, workers, threads, keep-alive, limits); TARGET None serves
    the config's own app (the bonemets app), another target (``hello:app``) the same way."""

    def __init__(self, target: str | None, cwd: str, env: dict | None = None,
                 args: list | None = None):
        cmd = [_gunicorn(), "-c", os.path.join(ROOT, "deploy", "gunicorn.conf.py"),
               "-b", f"{HOST}:{free_port()}", "--graceful-timeout", "5", *(args or [])]
        self._start(cmd + ([target] if target else []), target or "deploy/gunicorn.conf.py",
                    cwd, env)


def request(method: str, port: int, path: str, body: str | bytes | None = None,
            headers: dict | None = None, timeout: float = 10):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def csrf_session(port: int) -> tuple[str, str]:
    """(csrf token, Cookie header value) from one real GET of the questionnaire."""
    status, headers, body = request("GET", port, "/questionnaire")
    assert status == 200, status
    token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
    cookies = [v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie"]
    return token, "; ".join(cookies)


def worker_pids(master: int) -> list:
    """Children of the gunicorn master, from /proc."""
    path = f"/proc/{master}/task/{master}/children"
    if os.path.exists(path):
        with open(path) as fh:
            return sorted(int(p) for p in fh.read().split())
    kids = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == master:
                        kids.append(int(name))
            except (OSError, IndexError, ValueError):
                continue
    return sorted(kids)


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def secret_env() -> dict:
    return {"SECRET_KEY": secrets.token_hex(32)}


def lua_string(s: str) -> str:
    """A Lua long string literal that cannot be closed by the content."""
    level = 0
    while f"]{'=' * level}]" in s:
        level += 1
    eq = "=" * level
    return f"[{eq}[{s}]{eq}]"


def print_table(headers: list, rows: list):
    cols = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, cols))
    print(line)
    print("  ".join("-" * w for w in cols))
    for r in rows:
        print("  ".join(str(c).rjust(w) if isinstance(c, (int, float)) or str(c)[:1].isdigit()
                        else str(c).ljust(w) for c, w in zip(r, cols)))


def kept_cookies(secret_key: str, n: int, seed: int = 20261201) -> list:
    """``n`` answers cookies (``bonemets_answers`` values) of fresh random answer sets, made by
    the app's own post/redirect/get code (bonemets/views/carry.py ``save``) with ``secret_key``:
    what a browser holds after POST /plan. A server with the same SECRET_KEY renders GET /plan
    and GET /summary from them; each is valid for ANSWERS_MAX_AGE (2 hours by default)."""
    import random

    from flask import Response

    from app import create_app
    from bonemets.scenarios import random_answers
    from bonemets.views import carry

    app = create_app({"TESTING": True, "SECRET_KEY": secret_key})
    rb = app.extensions["bonemets"]
    rng = random.Random(seed)
    out = []
    with app.test_request_context("/plan", method="POST"):
        for _ in range(n):
            answers = random_answers(rb, rng)
            pairs = [(k, str(x)) for k, v in answers.items()
                     for x in (v if isinstance(v, list) else [v])]
            response = Response()
            carry.save(response, pairs)
            cookie = response.headers["Set-Cookie"].split(";", 1)[0]
            name, _, value = cookie.partition("=")
            assert name == carry.COOKIE and value, cookie
            out.append(value)
    return out
