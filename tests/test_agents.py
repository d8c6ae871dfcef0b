"""Agents under test: a real HTTP webhook on 127.0.0.1, Python callables, model bots, specs."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from conftest import CUSTOMER, MINI

from harness.agents.base import AgentConfig, AgentContext, AgentError, AgentView, open_agent
from harness.engine.registry import EnginePool, ModelOptions
from harness.engine.scripted import ScriptedBackend, scripted_engine
from harness.errors import DeescError
from harness.run.runner import RunConfig, Runner


class Bot(BaseHTTPRequestHandler):
    """A webhook bot whose behaviour depends on the path: /ok, /slow, /garbage, /500, /noreply."""

    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Bot.received.append(body)
        if self.path == "/slow":
            time.sleep(1.0)
        if self.path == "/500":
            self.send_response(500)
            self.end_headers()
            return
        payload = {
            "/ok": json.dumps({"reply": "I'm sorry. I can refund the second charge today."}),
            "/slow": json.dumps({"reply": "too late"}),
            "/garbage": "<html>oops</html>",
            "/noreply": json.dumps({"answer": 1}),
        }[self.path]
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload.encode())
        except BrokenPipeError:  # the client gave up waiting: that is the point of /slow
            pass

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def bot_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Bot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def view(**kw) -> AgentView:
    base = AgentView(
        "ep-1", 3, "Testco", "test plan", ({"role": "customer", "text": "Billed twice."},)
    )
    return replace(base, **kw)


def open_(spec: str, pool: EnginePool | None = None, **kw):
    return open_agent(AgentConfig(spec=spec, **kw), AgentContext(pool or EnginePool()))


def test_http_bot_gets_the_conversation_and_replies(bot_url) -> None:
    agent = open_(f"http:{bot_url}/ok")
    assert asyncio.run(agent.respond(view())) == "I'm sorry. I can refund the second charge today."
    sent = Bot.received[-1]
    assert sent == {
        "conversation_id": "ep-1",
        "company": "Testco",
        "product": "test plan",
        "turns": [{"role": "customer", "text": "Billed twice."}],
    }


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/slow", "timed out after 0.3s"),
        ("/garbage", "bad response"),
        ("/500", "HTTP 500"),
        ("/noreply", "bad response"),
    ],
)
def test_http_bot_failures_are_agent_errors(bot_url, path, message) -> None:
    agent = open_(f"http:{bot_url}{path}", timeout_s=0.3)
    with pytest.raises(AgentError, match=message):
        asyncio.run(agent.respond(view()))


def test_unreachable_bot_is_an_agent_error() -> None:
    agent = open_("http:http://127.0.0.1:9/bot", timeout_s=1)
    with pytest.raises(AgentError, match="cannot reach"):
        asyncio.run(agent.respond(view()))


def test_a_run_with_a_failing_bot_completes_with_errors_in_the_transcripts(
    tmp_path, pool, bot_url
) -> None:
    config = RunConfig(
        personas=(str(MINI),),
        agents=(
            AgentConfig(spec=f"http:{bot_url}/slow", name="slow-bot", timeout_s=0.2),
            AgentConfig(spec=f"http:{bot_url}/garbage", name="garbage-bot"),
            AgentConfig(spec=f"http:{bot_url}/ok", name="good-bot"),
        ),
        customer_model=CUSTOMER,
        out=str(tmp_path / "run"),
    )
    result = Runner(config, pool=pool, progress=False).run()
    assert not result.failures and len(result.episodes) == 6
    by_agent = {}
    for episode in result.episodes:
        by_agent.setdefault(episode["agent"], []).append(episode)
    for name, fragment in (("slow-bot", "timed out"), ("garbage-bot", "bad response")):
        for episode in by_agent[name]:
            assert episode["end_reason"] == "agent_error"
            errors = [t for t in episode["turns"] if t["role"] == "agent"]
            assert all(t["text"] == "" and fragment in t["error"] for t in errors)
            # the customer reacted to the silence in between
            assert episode["outcome"]["anger_end"] >= episode["outcome"]["anger_start"]
    assert all("error" not in t for e in by_agent["good-bot"] for t in e["turns"])


def test_python_agents(pool) -> None:
    echo = open_("python:helpers:slow_agent")
    assert "invoice number" in asyncio.run(echo.respond(view()))
    with pytest.raises(AgentError, match="returned int, not a string"):
        asyncio.run(open_("python:helpers:silent_agent").respond(view()))
    with pytest.raises(DeescError, match="cannot load"):
        open_("python:helpers:no_such_function")
    with pytest.raises(DeescError, match="python:<module>:<callable>"):
        open_("python:justamodule")


def test_model_bot_uses_the_system_prompt_and_the_conversation(tmp_path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("You work for {company} on {product}. Be kind.")
    backend = ScriptedBackend(default="Sorry to hear that. Could you tell me the invoice number?")
    pool = EnginePool()
    pool.register(ModelOptions(spec="scripted:bot"), scripted_engine(backend, "scripted:bot"))
    agent = open_("model:scripted:bot", pool, system_prompt=str(prompt))
    reply = asyncio.run(agent.respond(view()))
    assert reply.startswith("Sorry to hear that")
    messages = backend.seen[0].messages
    assert messages[0] == {
        "role": "system",
        "content": "You work for Testco on test plan. Be kind.",
    }
    assert messages[1] == {"role": "user", "content": "Billed twice."}
    backend.enqueue("   ")
    with pytest.raises(AgentError, match="empty reply"):
        asyncio.run(agent.respond(view()))


def test_agents_never_see_the_persona_unless_they_are_references(tmp_path, pool) -> None:
    seen = []

    class Spy:
        name = "spy"
        needs_persona = False

        async def respond(self, v: AgentView) -> str:
            seen.append(v)
            return "Hello."

    runner = Runner(
        RunConfig(personas=(str(MINI),), agents=(AgentConfig(spec="ref:empathetic", name="spy"),),
                  customer_model=CUSTOMER, out=str(tmp_path / "r"), max_turns=1),
        pool=pool, progress=False,
    )  # fmt: skip
    runner._open_agents = lambda: {"spy": Spy()}  # type: ignore[method-assign]
    runner.run()
    assert seen and all(v.persona is None for v in seen)
    assert all("INV-1" not in json.dumps(v.turns) for v in seen)


def test_unknown_agent_specs() -> None:
    with pytest.raises(DeescError, match="must be one of"):
        open_("bot:x")
    with pytest.raises(DeescError, match="unknown reference agent"):
        open_("ref:rude")
