"""A conversation with a person as the agent, one turn at a time: the episode loop of a run,
stepped from outside, so that `deesc play` and the exam server simulate the customer exactly as
`deesc run` does. Its turns are all it needs to continue after a restart."""

from __future__ import annotations

import time
from typing import Any

from harness.agents.human import HumanAgent
from harness.appraisal.base import Appraiser
from harness.personas.persona import Persona
from harness.sim.customer import CustomerSimulator
from harness.sim.episode import EndReason, Episode, EpisodePlan


class LiveConversation:
    def __init__(
        self,
        episode_id: str,
        persona: Persona,
        customer: CustomerSimulator,
        appraiser: Appraiser,
        seed: int,
        agent_name: str = "trainee",
        turns: list[dict[str, Any]] | None = None,
        end_reason: str | None = None,
    ) -> None:
        self.agent = HumanAgent(agent_name)
        plan = EpisodePlan(episode_id, persona, agent_name, 0, seed, persona.max_turns)
        if turns:
            self.episode = Episode.restore(plan, self.agent, customer, appraiser, turns)
            self.episode.end_reason = EndReason(end_reason) if end_reason else None
        else:
            self.episode = Episode(plan, self.agent, customer, appraiser)
            self.episode.open()
        self._started = time.perf_counter()

    @property
    def turns(self) -> list[dict[str, Any]]:
        return self.episode.turns

    @property
    def ended(self) -> bool:
        return self.episode.end_reason is not None

    @property
    def end_reason(self) -> str | None:
        return None if self.episode.end_reason is None else str(self.episode.end_reason)

    async def say(self, text: str) -> list[dict[str, Any]]:
        """The person's message and the customer's answer (the turns added). Raises ValueError
        for an empty or overlong message, or when the conversation is over."""
        if self.ended:
            raise ValueError("the conversation is over")
        self.agent.say(text)
        before = len(self.turns)
        await self.episode.step()
        return self.turns[before:]

    def finish(self, reason: EndReason = EndReason.AGENT_ENDED) -> None:
        if not self.ended:
            self.episode.end(reason)

    def record(self) -> dict[str, Any]:
        """The episode record (finish it first)."""
        return self.episode.record(time.perf_counter() - self._started)
