"""`http:<url>`: a bot behind a JSON webhook.

Request:  POST <url>  {"conversation_id": str, "company": str, "product": str,
                       "turns": [{"role": "customer"|"agent", "text": str}]}
Response: 200 {"reply": str}
A timeout, a non-200 status or a body without a string `reply` is an AgentError: recorded in
the transcript, and the conversation goes on (or ends after repeated errors).
"""

from __future__ import annotations

import httpx

from harness.agents.base import Agent, AgentConfig, AgentContext, AgentError, AgentView


class HttpAgent:
    needs_persona = False

    def __init__(self, name: str, url: str, timeout_s: float) -> None:
        self.name = name
        self.url = url
        self.timeout_s = timeout_s

    async def respond(self, view: AgentView) -> str:
        payload = {
            "conversation_id": view.episode_id,
            "company": view.company,
            "product": view.product,
            "turns": [dict(t) for t in view.turns],
        }
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.post(self.url, json=payload)
        except httpx.TimeoutException:
            raise AgentError(f"timed out after {self.timeout_s:g}s") from None
        except httpx.TransportError as exc:
            raise AgentError(f"cannot reach {self.url}: {exc.__class__.__name__}") from None
        if response.status_code != 200:
            raise AgentError(f"HTTP {response.status_code} from {self.url}")
        try:
            reply = response.json()["reply"]
        except (ValueError, KeyError, TypeError):
            raise AgentError(f"bad response from {self.url}: {response.text[:120]!r}") from None
        if not isinstance(reply, str):
            raise AgentError(f"bad response from {self.url}: 'reply' is not a string")
        return reply


def build_http_agent(target: str, config: AgentConfig, context: AgentContext) -> Agent:
    # the spec is http:<url>, and the url has its own scheme: http:http://host/path
    url = target if target.startswith(("http://", "https://")) else f"http:{target}"
    return HttpAgent(config.display_name, url, config.timeout_s)
