"""Reference agents, good and bad on purpose: `ref:empathetic` and `ref:dismissive` (and, from
`unbriefed.py`, `ref:careful` and `ref:courteous`, which never read the persona).

They are deterministic (phrasings vary only with the episode seed) and are handed the persona,
so the good one can ask for the facts that matter and offer what would resolve the case. They
calibrate the harness: the simulator and the judge must tell them apart on every persona.
"""

from __future__ import annotations

import random
import re

from harness.agents.base import Agent, AgentConfig, AgentContext, AgentView
from harness.agents.unbriefed import CarefulAgent, CourteousAgent
from harness.errors import DeescError
from harness.personas.persona import Persona
from harness.personas.voice import agent_offer, agent_question

_ABUSE = re.compile(
    r"\b(idiot|stupid|useless|incompetent|damn|hell|crap|morons?|pathetic|garbage|shut up)\b", re.I
)


def _pick(rng: random.Random, options: list[str]) -> str:
    return rng.choice(options)


class EmpatheticAgent:
    """Acknowledges, paraphrases, asks for what it needs, offers choices, confirms."""

    name = "ref:empathetic"
    needs_persona = True

    async def respond(self, view: AgentView) -> str:
        persona = view.persona
        if persona is None:
            raise DeescError("ref:empathetic needs the persona")
        turn = view.agent_turns_so_far()
        rng = random.Random(view.seed * 1000 + turn)
        parts: list[str] = []
        if _ABUSE.search(view.last_customer_text):
            parts.append(
                _pick(
                    rng,
                    [
                        "I'm here to help, and I'd ask that we keep the language respectful so I can.",
                        "I want to sort this out with you; please keep it respectful so I can help.",
                    ],
                )
            )
        if turn == 0:
            parts.append(self._acknowledge(persona, rng))
        elif turn == 1:
            parts.append(self._ask(persona, rng))
        elif turn == 2:
            parts.append(self._offer(persona, rng))
        else:
            parts.append(self._confirm(persona, rng))
        return " ".join(parts)

    def _acknowledge(self, persona: Persona, rng: random.Random) -> str:
        return " ".join(
            [
                _pick(
                    rng,
                    [
                        "I can understand how frustrating this is, and I'm sorry.",
                        "That sounds really frustrating, and I'm sorry you've had to deal with it.",
                    ],
                ),
                f"So if I understand correctly, something has gone wrong with your {persona.scenario.product}"
                " and you need it put right.",
                _pick(
                    rng,
                    [
                        "I'll personally make sure we sort this out.",
                        "I'll take care of this myself.",
                    ],
                ),
            ]
        )

    def _ask(self, persona: Persona, rng: random.Random) -> str:
        lead = _pick(rng, ["Thank you for explaining.", "Thanks for bearing with me."])
        if not persona.hidden_facts:
            return f"{lead} Could you tell me when this started, so I can check the details?"
        asks = [agent_question(fact) for fact in persona.hidden_facts[:2]]
        return " ".join([lead, "So I get this right:", *asks])

    def _offer(self, persona: Persona, rng: random.Random) -> str:
        offers = persona.acceptable_resolutions
        parts = []
        if persona.unacceptable_demands:
            demand = agent_offer(persona.unacceptable_demands[0])
            parts.append(
                f"I know you asked for this, but our policy doesn't allow me to {demand}; what I can do instead is this."
            )
        if len(offers) >= 2:
            parts.append(
                f"Here are two options: I can {agent_offer(offers[0])}, or I can "
                f"{agent_offer(offers[1])}. Which would you prefer?"
            )
        else:
            parts.append(f"Here's what I can do: I can {agent_offer(offers[0])}.")
        parts.append(
            _pick(
                rng,
                [
                    "You'll get a confirmation email within 24 hours.",
                    "You'll receive a confirmation email within one business day.",
                ],
            )
        )
        return " ".join(parts)

    def _confirm(self, persona: Persona, rng: random.Random) -> str:
        first = agent_offer(persona.acceptable_resolutions[0])
        return " ".join(
            [
                f"To confirm, I can {first} for you right now, and I'll stay on it until it's done.",
                _pick(rng, ["Does that work for you?", "Is that okay with you?"]),
                "Thank you for your patience.",
            ]
        )


class DismissiveAgent:
    """Minimises, blames, refuses without alternatives, passes the customer on."""

    name = "ref:dismissive"
    needs_persona = True

    _LINES = (
        ["Calm down. These things happen to everyone.", "Relax, it's not a big deal."],
        [
            "That's our policy. There's nothing I can do.",
            "I can't change that, it's company policy.",
        ],
        [
            "You should have read the terms before signing up.",
            "If you had checked your account, you'd have seen it.",
        ],
        [
            "Please hold. Actually, you'll need to call another department.",
            "That's not my department, you'll have to contact them yourself.",
        ],
    )

    async def respond(self, view: AgentView) -> str:
        turn = view.agent_turns_so_far()
        rng = random.Random(view.seed * 1000 + turn)
        return _pick(rng, self._LINES[min(turn, len(self._LINES) - 1)])


REFERENCE_AGENTS: dict[str, type] = {
    "empathetic": EmpatheticAgent,
    "dismissive": DismissiveAgent,
    "careful": CarefulAgent,  # never reads the persona
    "courteous": CourteousAgent,  # never reads the persona, never helps
}


def build_reference_agent(target: str, config: AgentConfig, context: AgentContext) -> Agent:
    if target not in REFERENCE_AGENTS:
        raise DeescError(
            f"unknown reference agent ref:{target}; known: "
            + ", ".join(f"ref:{n}" for n in REFERENCE_AGENTS)
        )
    agent = REFERENCE_AGENTS[target]()
    agent.name = config.display_name
    return agent
