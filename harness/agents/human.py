"""A person as the agent: a trainee at the terminal or a candidate in the browser. Their reply
is handed in from outside before each step (`say`), not asked for by the episode."""

from __future__ import annotations

from harness.agents.base import AgentError, AgentView

MAX_MESSAGE_CHARS = 2000  # a support reply, not a document; also bounds what the judge reads


class HumanAgent:
    needs_persona = False

    def __init__(self, name: str = "trainee") -> None:
        self.name = name
        self._pending: str | None = None

    def say(self, text: str) -> None:
        text = text.strip()
        if not text:
            raise ValueError("an empty message")
        if len(text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"a message of at most {MAX_MESSAGE_CHARS} characters")
        self._pending = text

    async def respond(self, view: AgentView) -> str:
        text, self._pending = self._pending, None
        if text is None:
            raise AgentError("no message from the trainee")
        return text
