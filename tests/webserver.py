"""`deesc serve` as a real process on 127.0.0.1 for the web tests, and a visitor that keeps its
cookies and sends the CSRF token the pages carry, as a browser does."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from conftest import ROOT

TOKEN = "trainer-secret-for-tests"
SCRIPTED_CUSTOMER = "scripted:tests/data/golden/customer-script.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(
        self, db: str, exams: str = "tests/data/exams", *extra: str, token: str | None = TOKEN
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "harness.cli", "serve", "--exams", exams, "--db", db,
                     "--port", str(self.port), *extra]  # fmt: skip
        self.token = token  # None: the server makes one and prints it
        self.proc: subprocess.Popen | None = None
        # a file, not a pipe: a pipe nobody reads would block the server once it filled up
        handle, name = tempfile.mkstemp(prefix="deesc-serve-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)

    def log(self) -> str:
        """What the server wrote to stderr so far."""
        return self.log_path.read_text(errors="replace")

    def start(self) -> Server:
        env = {k: v for k, v in os.environ.items() if k != "DEESC_TRAINER_TOKEN"}
        if self.token is not None:
            env["DEESC_TRAINER_TOKEN"] = self.token
        with self.log_path.open("ab") as err:  # the child keeps its own copy
            self.proc = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                         stderr=err)  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"deesc serve exited: {self.log()}")
            try:
                httpx.get(self.url + "/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("deesc serve did not start")

    def kill(self) -> None:
        """As a crash would: no shutdown handlers run."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.log_path.unlink(missing_ok=True)


class Visitor:
    def __init__(self, base: str, address: str | None = None) -> None:
        # `address`: the client address a trusted reverse proxy would report for this visitor
        headers = {"X-Forwarded-For": address} if address else {}
        self.http = httpx.Client(base_url=base, follow_redirects=True, timeout=60, headers=headers)
        self.csrf = ""

    def get(self, path: str) -> httpx.Response:
        response = self.http.get(path)
        if found := re.search(r'name="csrf" value="([^"]+)"', response.text):
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict | None = None, **kw) -> httpx.Response:
        if not self.csrf:
            self.get("/")
        response = self.http.post(path, data={"csrf": self.csrf, **(data or {})}, **kw)
        if found := re.search(r'name="csrf" value="([^"]+)"', response.text):
            self.csrf = found.group(1)
        return response

    def say(self, conversation: int, text: str) -> httpx.Response:
        return self.post(f"/conversations/{conversation}/messages", {"text": text},
                         headers={"Accept": "application/json"})  # fmt: skip


def trainer(base: str, token: str = TOKEN, address: str | None = None) -> Visitor:
    visitor = Visitor(base, address)
    visitor.get("/trainer/login")
    assert visitor.post("/trainer/login", {"token": token}).url.path == "/trainer"
    return visitor


def new_codes(visitor: Visitor, exam: str, count: int, label: str = "") -> list[str]:
    visitor.get(f"/trainer/exams/{exam}")
    page = visitor.post(f"/trainer/exams/{exam}/codes", {"count": str(count), "label": label}).text
    return re.findall(r'<code class="code">([A-Z0-9-]+)</code>', page)


def candidate(base: str, code: str, address: str | None = None) -> Visitor:
    visitor = Visitor(base, address)
    visitor.get("/")
    assert visitor.post("/enter", {"code": code}).url.path == "/exam"
    return visitor


def conversation_ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/conversations/(\d+)"', page)]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
