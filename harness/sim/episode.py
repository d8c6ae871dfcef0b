"""One conversation between a simulated customer and an agent under test, and why it ended.

The loop: the customer opens; then, until a stop condition, the agent replies, the appraisal
names the behaviours of the reply, the emotional state reacts, and the customer answers in
character (revealing any hidden fact the agent asked for), accepts an offer, or hangs up.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.agents.base import Agent, AgentError, AgentView
from harness.appraisal.base import Appraisal, Appraiser, off_loop
from harness.personas.persona import HiddenFact, Offer, Persona
from harness.records import EpisodeRecord, EpisodeTurn
from harness.seeds import derive_seed
from harness.sentences import repeats
from harness.sim.customer import CustomerSimulator, Intent
from harness.sim.emotion import EmotionalState
from harness.sim.faults import line_faults
from harness.transcripts import count_agent_turns

FORMAT_VERSION = 3  # 3: partial offers, voiced lines; 2: the judge's scores (1 had none)
MAX_CONSECUTIVE_AGENT_ERRORS = 2


class EndReason(StrEnum):
    SATISFIED = "satisfied"  # anger low enough and an acceptable resolution accepted
    HUNG_UP = "hung_up"  # anger at the top too long, or patience gone
    ESCALATED = "escalated"  # the agent handed over to a supervisor
    MAX_TURNS = "max_turns"
    AGENT_ERROR = "agent_error"  # the agent failed to reply repeatedly
    AGENT_ENDED = "agent_ended"  # a trainee ended the conversation (`/end`, the finish button)
    TIME_LIMIT = "time_limit"  # an exam conversation ran past its time limit


@dataclass(frozen=True)
class EpisodePlan:
    id: str
    persona: Persona
    agent_name: str
    repeat: int
    seed: int
    max_turns: int


class Episode:
    def __init__(
        self, plan: EpisodePlan, agent: Agent, customer: CustomerSimulator, appraiser: Appraiser
    ) -> None:
        self.plan = plan
        self.agent = agent
        self.customer = customer
        self.appraiser = appraiser
        self.persona = plan.persona
        self.state = EmotionalState.for_persona(plan.persona)
        self.turns: list[EpisodeTurn] = []
        self.revealed: list[HiddenFact] = []
        self.offered: dict[str, Offer] = {}
        # turn number (1-based) -> what the appraisal read in that agent turn; the judge reuses
        # these, so the customer and the judge never read a turn differently
        self.appraisals: dict[int, Appraisal] = {}
        self.end_reason: EndReason | None = None
        self._agent_errors = 0

    async def run(self) -> EpisodeRecord:
        started = time.perf_counter()
        self.open()
        while not await self.step():
            pass
        return self.record(time.perf_counter() - started)

    @classmethod
    def restore(
        cls,
        plan: EpisodePlan,
        agent: Agent,
        customer: CustomerSimulator,
        appraiser: Appraiser,
        turns: list[dict[str, Any]],
    ) -> Episode:
        """An episode in the middle, from the turns it wrote so far (a trainee's conversation
        kept in a database across requests and restarts). The state is replayed from the
        recorded behaviours, not re-appraised, so it is the state the customer had."""
        episode = cls(plan, agent, customer, appraiser)
        by_id = {o.id: o for o in plan.persona.acceptable_resolutions}
        facts = {f.id: f for f in plan.persona.hidden_facts}
        for i, turn in enumerate(turns[1:], start=1):
            if turn["role"] == "agent":
                answer = turns[i + 1] if i + 1 < len(turns) else {}
                progress = bool(
                    turn.get("offers") or turn.get("partial_offers") or answer.get("revealed")
                )
                episode.state.react(
                    turn.get("behaviours", []),
                    progress=progress,
                    repeated=bool(turn.get("repeated")),
                )
                for offer in turn.get("offers", []):
                    episode.offered.setdefault(offer, by_id[offer])
                episode._agent_errors = episode._agent_errors + 1 if turn.get("error") else 0
            else:
                episode.revealed.extend(facts[f] for f in turn.get("revealed", []))
        episode.turns = [dict(t) for t in turns]
        return episode

    @property
    def agent_turns(self) -> int:
        return count_agent_turns(self.turns)

    def end(self, reason: EndReason) -> None:
        """Ended from outside: the trainee finished, or the time ran out."""
        self.end_reason = reason

    def open(self) -> None:
        opening = self.customer.opening(random.Random(self.plan.seed))
        self.turns.append(
            {"role": "customer", "text": opening, "state": {"anger": self.state.anger}}
        )

    def _view(self) -> AgentView:
        sc = self.persona.scenario
        return AgentView(
            episode_id=self.plan.id,
            seed=self.plan.seed,
            company=sc.company,
            product=sc.product,
            turns=tuple({"role": t["role"], "text": t["text"]} for t in self.turns),
            persona=self.persona if self.agent.needs_persona else None,
        )

    async def _agent_turn(self) -> Appraisal:
        view = self._view()
        turn: dict[str, Any] = {"role": "agent"}
        try:
            turn["text"] = await self.agent.respond(view)
            self._agent_errors = 0
        except AgentError as exc:
            turn["text"], turn["error"] = "", str(exc)
            self._agent_errors += 1
        revealed = {f.id for f in self.revealed}
        found = await off_loop(
            self.appraiser.appraise, turn["text"], view.last_customer_text, self.persona, revealed
        )
        reading = found.offers
        # progress a person would recognise: a fact asked for, an offer (whole or in part)
        progress = bool(reading.asked or reading.offers or reading.partial_offers)
        earlier = [t["text"] for t in self.turns if t["role"] == "agent"]
        repeated = repeats(turn["text"], earlier)
        turn["anger_delta"] = self.state.react(found.behaviours, progress, repeated)
        if repeated:
            turn["repeated"] = True
        turn["state"] = {"anger": self.state.anger}
        turn["behaviours"] = list(found.behaviours)
        if reading.offers:
            turn["offers"] = list(reading.offers)
        if reading.partial_offers:
            turn["partial_offers"] = list(reading.partial_offers)
        if reading.concessions:
            turn["concessions"] = list(reading.concessions)
        for offer in self.persona.acceptable_resolutions:
            if offer.id in reading.offers:
                self.offered.setdefault(offer.id, offer)
        self.turns.append(turn)
        self.appraisals[len(self.turns)] = found
        return found

    def _intent(self) -> tuple[Intent, Offer | None]:
        if self.offered and self.state.anger <= self.persona.temperament.accept_below:
            return "accept", next(iter(self.offered.values()))
        if self.state.wants_to_hang_up:
            return "hang_up", None
        return "continue", None

    async def step(self) -> bool:
        """One agent turn and the customer's answer; True when the conversation is over."""
        if await self._exchange():
            return True
        if self.agent_turns >= self.plan.max_turns:
            self.end_reason = EndReason.MAX_TURNS
            return True
        return False

    async def _exchange(self) -> bool:
        found = await self._agent_turn()
        behaviours = list(found.behaviours)
        if "escalate_to_supervisor" in behaviours:
            self.end_reason = EndReason.ESCALATED
            return True
        if self._agent_errors >= MAX_CONSECUTIVE_AGENT_ERRORS:
            self.end_reason = EndReason.AGENT_ERROR
            return True
        by_id = {f.id: f for f in self.persona.hidden_facts}
        asked = [by_id[f] for f in found.offers.asked]
        intent, accepted = self._intent()
        seed = derive_seed(self.plan.seed, "customer", len(self.turns))
        if intent == "continue":
            reply = await self.customer.reply(
                self.turns, self.state, behaviours, self.revealed, asked, seed, found.offers
            )
        else:
            reply = self.customer.closing(intent, seed, accepted, asked)
        self.revealed.extend(asked)
        customer_turn: dict[str, Any] = {
            "role": "customer",
            "text": reply.text,
            "state": {"anger": self.state.anger},
        }
        if reply.revealed:
            customer_turn["revealed"] = reply.revealed
        faults = [reply.fault] if reply.fault else []
        if reply.samples and not reply.fault:  # a sampled line that passed the role check
            earlier = [t["text"] for t in self.turns if t["role"] == "customer"]
            agents = [t["text"] for t in self.turns if t["role"] == "agent"]
            faults += line_faults(reply.text, self.persona, earlier, agents)
        if faults:
            customer_turn["fault"] = faults[0]
            customer_turn["faults"] = faults
        if reply.samples:
            customer_turn["samples"] = reply.samples
        if reply.voiced:
            customer_turn["voiced"] = True
        self.turns.append(customer_turn)
        if intent == "accept":
            self.end_reason = EndReason.SATISFIED
            return True
        if intent == "hang_up":
            self.end_reason = EndReason.HUNG_UP
            return True
        return False

    def record(self, elapsed_s: float) -> EpisodeRecord:
        assert self.end_reason is not None
        angers = [t["state"]["anger"] for t in self.turns]
        accepted = next(iter(self.offered)) if self.end_reason is EndReason.SATISFIED else None
        return {
            "format_version": FORMAT_VERSION,
            "id": self.plan.id,
            "persona_id": self.persona.id,
            "agent": self.plan.agent_name,
            "repeat": self.plan.repeat,
            "seed": self.plan.seed,
            "turns": self.turns,
            "end_reason": str(self.end_reason),
            "outcome": {
                "anger_start": angers[0],
                "anger_end": angers[-1],
                "anger_peak": max(angers),
                "resolved": self.end_reason is EndReason.SATISFIED,
                "hung_up": self.end_reason is EndReason.HUNG_UP,
                "escalated": self.end_reason is EndReason.ESCALATED,
                "turns": self.agent_turns,
                "accepted_offer": accepted,
                "revealed_facts": [f.id for f in self.revealed],
                "simulator_faults": sum(1 for t in self.turns if t.get("fault")),
                "fault_kinds": dict(
                    sorted(Counter(f for t in self.turns for f in t.get("faults", [])).items())
                ),
            },
            "meta": {"elapsed_s": round(elapsed_s, 3)},
        }
