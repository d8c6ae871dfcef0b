"""The simulated customer: a language model kept in character by an explicit state.

The model writes the customer's next line from a prompt holding the persona (with examples of
its voice), the facts revealed so far, the current anger in words and what the agent just did.
Several candidates are sampled in one batch and chosen from, not the first taken: lines out of
role are dropped by rule (agent phrases, narration, an echo of the agent), and the critic
(`critic.py`) picks the line that is complete, in the mood the state asks for and answers the
agent. When none will do, the persona's own voice line for the mood stands in (and when no
candidate is even in role, the turn is marked as a simulator fault). Hidden facts are never in
the prompt until the agent asks for them; then the customer says them in the persona's words.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Literal

from harness.appraisal.base import off_loop
from harness.appraisal.offers import OfferReading
from harness.behaviours import BEHAVIOURS
from harness.engine.base import Engine, Request
from harness.engine.registry import ModelOptions
from harness.personas.persona import HiddenFact, Offer, Persona
from harness.personas.voice import customer_offer
from harness.sentences import split_sentences, words
from harness.sim.critic import Critic
from harness.sim.emotion import EmotionalState
from harness.transcripts import last_text

Intent = Literal["continue", "accept", "hang_up"]
PromptStyle = Literal["continuation", "chat"]
# candidate lines sampled per customer turn, in one batch; the critic picks one
CANDIDATES = 2
# the line ends at its first newline (clean_line keeps only that): stop generating there
STOP = ("\n", "Agent:", "Customer:")

# Phrases that only a support agent or a narrator would write.
_OUT_OF_ROLE = re.compile(
    r"\b(how (can|may) i (help|assist)|thank you for (contacting|reaching out|your patience)"
    r"|i apologi[sz]e for (the|any) inconvenience|i understand your (frustration|concern)"
    r"|is there anything else i can|as (a|an) (customer service|support|ai)|our (team|records) (will|show)"
    r"|i('ll| will) (look into|check) (this|that|your account) for you|let me (check|look into) (this|that|your)"
    r"|the customer\b|dear customer|best regards|sincerely,|^agent\b)",
    re.I,
)
_STAGE = re.compile(r"\*[^*]{0,80}\*|\([^)]{0,80}\)|\[[^\]]{0,80}\]")

# a short example of the format keeps a small model writing the customer's side
_EXAMPLE = (
    "Example (another chat):\n"
    "Agent: I'm sorry. Can you give me the order number?\n"
    "Customer: It's 48213. And this is the second time this has happened.\n"
)


@dataclass
class CustomerTurn:
    text: str
    revealed: list[str] = field(default_factory=list)
    fault: str | None = None
    samples: int = 0  # model samples drawn for this line (0: not sampled)
    voiced: bool = False  # the persona's voice line stood in: no candidate would do


ECHO_WORDS = 6  # a run of this many of the agent's words, repeated, is an echo


def echoes(text: str, agent_text: str) -> bool:
    """Whether a line repeats a run of the agent's last message (small models copy it)."""
    said, heard = words(text), words(agent_text)
    if len(said) < ECHO_WORDS or len(heard) < ECHO_WORDS:
        return False
    heard_runs = {tuple(heard[i : i + ECHO_WORDS]) for i in range(len(heard) - ECHO_WORDS + 1)}
    return any(
        tuple(said[i : i + ECHO_WORDS]) in heard_runs for i in range(len(said) - ECHO_WORDS + 1)
    )


def out_of_role_reason(text: str, agent_text: str = "") -> str | None:
    if not text.strip():
        return "empty"
    if len(text.split()) < 2 and not re.search(r"[a-z]", text, re.I):
        return "not a sentence"
    if match := _OUT_OF_ROLE.search(text):
        return f"speaks as the agent or a narrator ({match.group(0)!r})"
    if echoes(text, agent_text):
        return "repeats the agent's words"
    return None


def clean_line(raw: str) -> str:
    """The first line of a completion, without labels, stage directions or quotes."""
    text = raw.strip().split("\n")[0]
    text = re.sub(r"^(customer|me|user)\s*:\s*", "", text, flags=re.I)
    text = _STAGE.sub("", text).strip().strip('"').strip()
    return " ".join(split_sentences(text)[:3])


def mood_band(anger: float, behaviours: Sequence[str] = ()) -> str:
    """Which of the persona's voice lines fit now (see `Persona.voice`)."""
    if "jargon" in behaviours and anger < 8:
        return "confused"
    return "furious" if anger >= 8 else "annoyed" if anger >= 4 else "calming"


def fallback_line(
    persona: Persona,
    state: EmotionalState,
    rng: random.Random,
    behaviours: Sequence[str] = (),
    earlier: Sequence[str] = (),
) -> str:
    """A line in the customer's voice when no sampled line will do: the persona's own line for
    the mood (one not said yet), else a plain one built from its goal."""
    said = {" ".join(words(e)) for e in earlier}
    own = [v for v in persona.voice.get(mood_band(state.anger, behaviours), ())
           if " ".join(words(v)) not in said]  # fmt: skip
    if own:
        return rng.choice(own)
    goal = persona.goal.rstrip(".")
    if state.anger >= 7:
        options = [f"That's not good enough. {goal}.", f"Are you even listening? {goal}."]
    elif state.anger >= 4:
        options = [
            "And what exactly are you going to do about it?",
            f"I just want this sorted. {goal}.",
        ]
    else:
        options = ["Okay. So what happens now?", "Alright, that helps. What's the next step?"]
    return rng.choice(options)


@cache
def shipped_critic() -> Critic:
    """The critic every customer shares in this process (opened once: it loads the encoder)."""
    from harness.sim.critic_training import open_critic

    return open_critic()


class CustomerSimulator:
    # `critic`: where none is given (deesc play, the exam server) the shipped one, so that every
    # way of meeting the customer chooses its lines the same way
    def __init__(
        self,
        persona: Persona,
        engine: Engine,
        options: ModelOptions,
        *,
        prompt_style: PromptStyle = "continuation",
        candidates: int = CANDIDATES,
        critic: Critic | None = None,
    ) -> None:
        self.persona = persona
        self.engine = engine
        self.options = options
        self.prompt_style = prompt_style
        self.candidates = candidates
        self.critic = critic

    def opening(self, rng: random.Random) -> str:
        return rng.choice(self.persona.opening_lines)

    def header(self) -> str:
        """Who the customer is: the same for every turn of an episode, so it leads the prompt."""
        p, sc = self.persona, self.persona.scenario
        voice = "; ".join(
            f"when {band.replace('_', ' ')}: \"{lines[0]}\"" for band, lines in p.voice.items()
            if band != "hanging_up" and lines
        )  # fmt: skip
        return (
            f"{p.name}, a customer of {sc.company}, writes about {sc.product}. {sc.situation}\n"
            f"{p.name} wants: {p.goal} Style: {p.style}"
            + (f"\nHow {p.name} talks - {voice}" if voice else "")
        )

    def state_note(
        self,
        state: EmotionalState,
        behaviours: list[str],
        revealed: list[HiddenFact],
        reading: OfferReading | None = None,
    ) -> str:
        """How the customer feels and what they know now: changes every turn, so it comes last."""
        p = self.persona
        notes = []
        if behaviours:
            did = "; ".join(BEHAVIOURS[b].description for b in behaviours)
            notes.append(f"The agent's last message: {did}.")
        notes += self._offer_notes(behaviours, reading)
        if revealed:
            notes.append(f"{p.name} has told the agent: " + " ".join(f.fact for f in revealed))
        notes.append(f"{p.name} is now {state.mood}.")
        return " ".join(notes)

    def _offer_notes(self, behaviours: list[str], reading: OfferReading | None) -> list[str]:
        """What the customer makes of an offer: one that is only part of the goal, or one that
        is not what they asked for, gets an answer from the goal instead of silence."""
        p, goal = self.persona, self.persona.goal.rstrip(".")
        if reading is None:
            return []
        if reading.partial_offers and not reading.offers:
            return [f"The agent offered only part of what {p.name} wants; {p.name} takes that "
                    f"part and asks for the rest ({p.name} wants: {goal})."]  # fmt: skip
        offered = {"offer_solution", "offer_choices"} & set(behaviours)
        if offered and not reading.offers:
            return [f"The agent offered something that is not what {p.name} asked for; "
                    f"{p.name} says what would do instead: {goal}."]  # fmt: skip
        return []

    def request(self, turns: list[dict], note: str, seed: int) -> Request:
        budget = min(self.options.max_new_tokens, 48)
        sampling = self.options.sampling(seed=seed, stop=STOP, max_new_tokens=budget)
        history = "\n".join(
            f"{'Customer' if t['role'] == 'customer' else 'Agent'}: {t['text'] or '...'}"
            for t in turns
        )
        if self.prompt_style == "chat":
            system = (
                f"You play a customer, never the support agent.\n{self.header()}\n{note}\n"
                "Reply with the customer's next message only, one or two short sentences."
            )
            return Request(
                sampling,
                messages=(
                    {"role": "system", "content": system},
                    {"role": "user", "content": f"The chat so far:\n{history}\n\nNext message:"},
                ),
            )
        prompt = (
            f"A support chat; only the customer's lines are written here.\n{self.header()}\n\n"
            f"{_EXAMPLE}\n{history}\n({note})\nCustomer:"
        )
        return Request(sampling, prompt=prompt)

    async def reply(
        self,
        turns: list[dict],
        state: EmotionalState,
        behaviours: list[str],
        revealed: list[HiddenFact],
        revealed_now: list[HiddenFact],
        seed: int,
        reading: OfferReading | None = None,
    ) -> CustomerTurn:
        """The customer's next line: several candidates sampled in one batch, the rule-based
        role check, then the critic's choice; the persona's voice when none will do."""
        note = self.state_note(state, behaviours, [*revealed, *revealed_now], reading)
        last_agent = last_text(turns, "agent")
        earlier = [t["text"] for t in turns if t["role"] == "customer"]
        request = replace(self.request(turns, note, seed), n=max(1, self.candidates))
        completion = await self.engine.generate(request)  # one prefill for every candidate
        lines = list(dict.fromkeys(clean_line(s.text) for s in completion.samples))
        in_role = [line for line in lines if out_of_role_reason(line, last_agent) is None]
        line, fault, voiced = "", None, False
        if not in_role:
            fault = "out_of_role"
        elif self.candidates > 1 or self.critic is not None:
            # even a single surviving candidate is checked: its rules (complete, no apology when
            # angry, no loop) decide whether the persona's own voice stands in
            critic = self.critic or shipped_critic()
            best, _ = await off_loop(critic.choose, in_role, last_agent, state.anger, earlier)
            line = best.line if best is not None else ""
        else:
            line = in_role[0]
        if not line:
            line = fallback_line(self.persona, state, random.Random(seed), behaviours, earlier)
            voiced = True
        said = " ".join(f.say for f in revealed_now)
        text = f"{said} {line}".strip() if said else line
        return CustomerTurn(text, [f.id for f in revealed_now], fault, request.n, voiced)

    def closing(
        self,
        intent: Intent,
        seed: int,
        accepted: Offer | None = None,
        revealed_now: list[HiddenFact] | None = None,
    ) -> CustomerTurn:
        """The last line when the state ends the conversation. It is not sampled: whether the
        customer accepts or hangs up is the simulator's decision, and a small model asked to
        voice it often does not (measured: most sampled hang-ups read as ordinary replies)."""
        rng = random.Random(seed)
        if intent == "accept":
            if accepted is not None and accepted.accept:
                line = rng.choice(accepted.accept)  # the persona's own words for this offer
            else:
                offer = customer_offer(accepted) if accepted else "do that"
                line = rng.choice(
                    [
                        f"Okay. If you can {offer}, that works for me. Thank you.",
                        f"Alright, {offer} - yes, please do that. Thanks.",
                    ]
                )
        else:
            line = rng.choice(
                self.persona.voice.get("hanging_up")
                or (
                    "Forget it. I'm done with this, I'm taking my business elsewhere.",
                    "That's it, I'm hanging up. Unbelievable.",
                    "I've had enough of this. Goodbye.",
                )
            )
        said = " ".join(f.say for f in revealed_now or [])
        return CustomerTurn(f"{said} {line}".strip(), [f.id for f in revealed_now or []])
