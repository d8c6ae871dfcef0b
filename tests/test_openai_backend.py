"""The OpenAI-compatible backend against servers on 127.0.0.1.

A small server of the tests' own implements the protocol with scripted faults (retries,
timeouts, garbage, concurrency); the slow test runs the real `transformers serve` on the
packaged offline model and drives a whole simulation through it.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from conftest import MINI

from harness.engine.base import EngineError, Request, Sampling
from harness.engine.registry import ModelOptions, open_engine


class FakeServer(BaseHTTPRequestHandler):
    script: ClassVar[list[str]] = []  # what the next requests get: ok, 500, slow, garbage
    seen: ClassVar[list[dict]] = []
    headers_seen: ClassVar[list[dict]] = []
    in_flight = 0
    max_in_flight = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls = FakeServer
        with cls.lock:
            cls.seen.append({"path": self.path, **body})
            cls.headers_seen.append(dict(self.headers))
            action = cls.script.pop(0) if cls.script else "ok"
            # only this test's own requests count: a slow handler of an earlier test, whose
            # client gave up long ago, may still be sleeping
            if action == "concurrent":
                cls.in_flight += 1
                cls.max_in_flight = max(cls.max_in_flight, cls.in_flight)
        try:
            if action == "slow":
                time.sleep(1.0)
            if action == "500":
                self.send_response(503)
                self.end_headers()
                return
            text = f"reply to {body.get('prompt') or body['messages'][-1]['content']}\nAgent: extra"
            choice = (
                {"text": text}
                if self.path.endswith("/completions") and "prompt" in body
                else {"message": {"role": "assistant", "content": text}}
            )
            if action == "logprobs" and body.get("logprobs"):  # as OpenAI and vLLM send them
                top = [{"token": "3", "logprob": -0.5108}, {"token": " 4", "logprob": -1.204},
                       {"token": "Hello", "logprob": -2.303}]  # fmt: skip
                choice["logprobs"] = {"content": [{"token": "3", "top_logprobs": top}]}
            payload = (
                b"not json"
                if action == "garbage"
                else json.dumps(
                    {
                        "choices": [{**choice, "finish_reason": "length"}],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 7},
                    }
                ).encode()
            )
            if action == "concurrent":
                time.sleep(0.4)
                with cls.lock:  # before replying: the client frees its slot only on the reply
                    cls.in_flight -= 1
            self.send_response(200)
            self.end_headers()
            self.wfile.write(payload)
        except BrokenPipeError:
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    FakeServer.script, FakeServer.seen, FakeServer.headers_seen = [], [], []
    FakeServer.in_flight = FakeServer.max_in_flight = 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeServer)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def engine(url: str, **options):
    e = open_engine(ModelOptions(spec=f"openai:{url}#test-model", **options))
    e.backoff_base_s = 0.01
    return e


def chat(text: str = "hi", **sampling) -> Request:
    return Request(Sampling(seed=4, **sampling), messages=({"role": "user", "content": text},))


def test_chat_and_completion_requests(server, monkeypatch) -> None:
    monkeypatch.setenv("TEST_KEY", "sekret")
    e = engine(server, api_key_env="TEST_KEY")
    out = asyncio.run(e.generate(chat("hello", stop=("\nAgent",), temperature=0.3)))
    assert (out.text, out.finish_reason, out.completion_tokens) == ("reply to hello", "stop", 7)
    sent = FakeServer.seen[0]
    assert sent["path"] == "/v1/chat/completions" and sent["model"] == "test-model"
    assert (sent["temperature"], sent["seed"], sent["stop"]) == (0.3, 4, ["\nAgent"])
    assert FakeServer.headers_seen[0]["Authorization"] == "Bearer sekret"
    text = asyncio.run(e.generate(Request(Sampling(), prompt="Customer:")))
    assert text.text.startswith("reply to Customer:")
    assert FakeServer.seen[1]["path"] == "/v1/completions"
    assert e.stats.requests == 2 and e.stats.completion_tokens == 14


def test_server_errors_are_retried_with_backoff(server) -> None:
    FakeServer.script = ["500", "500", "ok"]
    out = asyncio.run(engine(server, max_retries=3).generate(chat()))
    assert out.text.startswith("reply to hi") and len(FakeServer.seen) == 3


def test_retries_run_out_with_a_clear_error(server) -> None:
    FakeServer.script = ["500"] * 5
    with pytest.raises(EngineError, match=r"HTTP 503.*2 retries"):
        asyncio.run(engine(server, max_retries=2).generate(chat()))


def test_timeouts_and_garbage(server) -> None:
    FakeServer.script = ["slow", "slow"]
    with pytest.raises(EngineError, match="timed out"):
        asyncio.run(engine(server, timeout_s=0.2, max_retries=1).generate(chat()))
    FakeServer.script = ["garbage"]
    with pytest.raises(EngineError, match="not an OpenAI-style completion"):
        asyncio.run(engine(server).generate(chat()))


def test_no_server_is_a_clear_error() -> None:
    with pytest.raises(EngineError, match="connection failed"):
        asyncio.run(engine("http://127.0.0.1:9/v1", max_retries=1).generate(chat()))


def test_requests_in_flight_are_bounded(server) -> None:
    FakeServer.script = ["concurrent"] * 12
    e = engine(server, max_concurrency=3)

    async def main():
        return await asyncio.gather(*(e.generate(chat(str(i))) for i in range(12)))

    assert len(asyncio.run(main())) == 12
    assert 1 < FakeServer.max_in_flight <= 3  # concurrent, and never past the bound


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def transformers_serve() -> Iterator[tuple[str, str]]:
    """`transformers serve` on the packaged SmolLM2, offline, on 127.0.0.1."""
    from harness.engine.offline import packaged_path, prepare_gguf

    model_dir = str(prepare_gguf(packaged_path("smollm2-135m")))
    port = _free_port()
    cli = Path(sys.executable).parent / "transformers"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [str(cli), "serve", model_dir, "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("transformers serve did not start: " + proc.stderr.read1().decode())
        yield f"{url}/v1", model_dir
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_choice_probabilities_from_logprobs_or_none(server) -> None:
    e = engine(server)
    request = Request(Sampling(max_new_tokens=50), messages=({"role": "user", "content": "Score?"},),
                      choices=("1", "2", "3", "4", "5"))  # fmt: skip
    FakeServer.script = ["logprobs", "ok"]
    with_logprobs = asyncio.run(e.generate(request))
    body = FakeServer.seen[-1]
    assert body["max_tokens"] == 1 and body["logprobs"] is True and body["top_logprobs"] == 20
    probs = with_logprobs.choice_probs or {}
    assert probs["3"] == pytest.approx(0.6, abs=1e-3) and probs["4"] == pytest.approx(0.3, abs=1e-3)
    assert probs["1"] == probs["2"] == probs["5"] == 0.0
    # a server that sends no logprobs (transformers serve): None, and the judge writes JSON
    assert asyncio.run(e.generate(request)).choice_probs is None


@pytest.mark.slow
def test_against_transformers_serve(transformers_serve) -> None:
    url, model = transformers_serve
    e = open_engine(ModelOptions(spec=f"openai:{url}#{model}", max_new_tokens=12, temperature=0))
    out = asyncio.run(
        e.generate(chat("Say hello to a customer.", max_new_tokens=12, temperature=0))
    )
    assert out.text.strip() and out.completion_tokens > 0


@pytest.mark.slow
def test_a_simulation_with_customer_and_bot_served_over_http(transformers_serve, tmp_path) -> None:
    from harness.cli import main

    url, model = transformers_serve
    spec = f"openai:{url}#{model}"
    code = main([
        "run", "--personas", str(MINI / "mini-billing.yaml"), "--agent", f"model:{spec}",
        "--customer-model", spec, "--prompt-style", "chat", "--max-turns", "2",
        "--out", str(tmp_path / "run"), "--no-progress",
    ])  # fmt: skip
    assert code == 0
    [episode] = [
        json.loads(x) for x in (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()
    ]
    agent_turns = [t for t in episode["turns"] if t["role"] == "agent"]
    assert agent_turns and all(t["text"].strip() and "error" not in t for t in agent_turns)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["models"][spec] == {"backend": "openai", "base_url": url, "model": model}
