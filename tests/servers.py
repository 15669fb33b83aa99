"""Real servers for the HTTP-layer and deployment tests: gunicorn with deploy/gunicorn.conf.py,
Debian's nginx with deploy/nginx/, and a raw HTTP client for requests that no well-behaved
client library would send. Every server binds 127.0.0.1 on a free port and is stopped by the
test that started it."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY = os.path.join(ROOT, "deploy")
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options",
                    "referrer-policy", "cross-origin-resource-policy")


def app_env(**extra) -> dict:
    env = dict(os.environ)
    for name in ("TRUSTED_HOSTS", "BONEMETS_PROXY_FIX", "FLASK_DEBUG", "BONEMETS_RULES_DIR",
                 "BONEMETS_PDF_PROCESS", "BONEMETS_PDF_SLOTS"):
        env.pop(name, None)
    env.update(SECRET_KEY="deploy-test-key", TRUSTED_HOSTS="127.0.0.1,localhost",
               BONEMETS_LOG_LEVEL="warning")
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn -c deploy/gunicorn.conf.py on 127.0.0.1, a port the kernel picks."""

    def __init__(self, *args: str, env: dict | None = None):
        self.log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", os.path.join(DEPLOY, "gunicorn.conf.py"),
             "--bind", "127.0.0.1:0", "--log-level", "info", *args],
            cwd=ROOT, env=env or app_env(), stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.port = self._wait_for_port()
        wait_healthy(self.port)

    def _wait_for_port(self, timeout: float = 30) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.output())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("gunicorn did not start:\n" + self.output())

    def output(self) -> str:
        with open(self.log.name, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def kill(self) -> None:
        """Kill the whole process group (master and workers) at once, as a crash would."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        os.unlink(self.log.name)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                     else None)


class Nginx:
    """Debian's nginx, unprivileged, in its own prefix folder, running deploy/nginx/bonemets.conf
    with the listen and upstream addresses replaced by the test's ports."""

    def __init__(self, upstream_ports: list[int]):
        self.dir = tempfile.mkdtemp(prefix="nginx-test-")
        os.chmod(self.dir, 0o755)   # run as root, nginx's workers are "nobody": let them in
        self.port = free_port()
        with open(os.path.join(DEPLOY, "nginx", "bonemets.conf"), encoding="utf-8") as fh:
            site = fh.read()
        site = site.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};")
        for shipped, port in zip(("127.0.0.1:8001", "127.0.0.1:8002"), upstream_ports):
            site = site.replace(f"server {shipped} ", f"server 127.0.0.1:{port} ")
        assert f"127.0.0.1:{self.port};" in site and "server 127.0.0.1:800" not in site
        with open(os.path.join(self.dir, "bonemets.conf"), "w", encoding="utf-8") as fh:
            fh.write(site)
        for name in ("bonemets-headers.conf", "bonemets-words.conf"):
            shutil.copy(os.path.join(DEPLOY, "nginx", name), self.dir)
        with open(os.path.join(DEPLOY, "nginx", "nginx.conf"), encoding="utf-8") as fh:
            main = fh.read()
        main = main.replace("worker_processes auto;", "worker_processes 1;")
        main = main.replace("pid /run/nginx-bonemets.pid;", f"pid {self.dir}/nginx.pid;")
        main = main.replace("\nhttp {\n", "\nhttp {\n" + "".join(
            f"    {kind}_temp_path {self.dir}/{kind}_temp;\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")))
        assert f"{self.dir}/nginx.pid" in main and f"{self.dir}/proxy_temp" in main
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w", encoding="utf-8") as fh:
            fh.write(main)
        os.makedirs(os.path.join(self.dir, "logs"))
        self.log = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen(
            [nginx_binary(), "-c", self.conf, "-p", self.dir, "-g", "daemon off;"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_healthy(self.port, proc=self.proc, what=self.output)

    def output(self) -> str:
        with open(os.path.join(self.dir, "stderr.log"), encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_healthy(port: int, timeout: float = 30, proc=None, what=None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if raw(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close"
                         b"\r\n\r\n", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"no healthy server on port {port}" + (f":\n{what()}" if what else ""))


def parse_response(data: bytes):
    """(status, {lower-case header: value}, body) of one raw HTTP/1.x response."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return status, headers, body


def raw(port: int, request: bytes, timeout: float = 10, half_close: bool = False):
    """Send bytes as they are; read the response until the server closes the connection.
    ``half_close`` shuts the writing side (the server then sees the body end early)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(request)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (and closed) before reading everything: read the answer
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except ConnectionResetError:
            if not chunks:
                raise
    if not chunks:
        raise ConnectionAbortedError("closed without an answer")
    return parse_response(b"".join(chunks))
