"""The simulated customer: a language model kept in character by an explicit state.

The model writes the customer's next line from a prompt holding the persona, the facts revealed
so far, the current anger in words and what the agent just did. Small models drift out of
role (they answer as the support agent), so each line is checked; a line out of role is
sampled again, and if that fails too a plain line in the customer's voice is used instead and
the turn is marked as a simulator fault. Hidden facts are never in the prompt until the agent
asks for them; then the customer says them in the persona's own words.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Literal

from harness.behaviours import BEHAVIOURS
from harness.engine.base import Engine, Request
from harness.engine.registry import ModelOptions
from harness.personas.persona import HiddenFact, Offer, Persona
from harness.personas.voice import customer_offer
from harness.sentences import split_sentences, words
from harness.sim.emotion import EmotionalState
from harness.transcripts import last_text

Intent = Literal["continue", "accept", "hang_up"]
PromptStyle = Literal["continuation", "chat"]
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


_NEGATION = re.compile(
    r"\b(not|no|never|cannot|unable|won't|can't|don't|doesn't|isn't)\b|n't\b", re.I
)


def _cue_said(text: str, cue: str) -> bool:
    """A cue counts only where its own clause does not negate it ("I can't refund" is no offer)."""
    lowered, cue = text.lower(), cue.lower()
    start = lowered.find(cue)
    while start != -1:
        clause = re.split(r"[.?!;]", lowered[:start])[-1]
        if not _NEGATION.search(clause):
            return True
        start = lowered.find(cue, start + 1)
    return False


def offers_in(text: str, offers: tuple[Offer, ...]) -> list[str]:
    """Ids of the offers whose cue phrases an agent turn says (not negated)."""
    return [o.id for o in offers if any(_cue_said(text, cue) for cue in o.cues)]


def facts_asked(agent_text: str, persona: Persona, revealed: set[str]) -> list[HiddenFact]:
    """Hidden facts the agent asked for: a cue inside a question sentence of the agent's turn."""
    questions = [s.lower() for s in split_sentences(agent_text) if s.endswith("?")]
    return [
        fact
        for fact in persona.hidden_facts
        if fact.id not in revealed
        and any(cue.lower() in q for q in questions for cue in fact.asked_by)
    ]


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


def fallback_line(persona: Persona, state: EmotionalState, rng: random.Random) -> str:
    """A plain line in the customer's voice, used when the model will not stay in role."""
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


class CustomerSimulator:
    def __init__(
        self,
        persona: Persona,
        engine: Engine,
        options: ModelOptions,
        *,
        prompt_style: PromptStyle = "continuation",
        attempts: int = 2,
    ) -> None:
        self.persona = persona
        self.engine = engine
        self.options = options
        self.prompt_style = prompt_style
        self.attempts = attempts

    def opening(self, rng: random.Random) -> str:
        return rng.choice(self.persona.opening_lines)

    def header(self) -> str:
        """Who the customer is: the same for every turn of an episode, so it leads the prompt."""
        p, sc = self.persona, self.persona.scenario
        return (
            f"{p.name}, a customer of {sc.company}, writes about {sc.product}. {sc.situation}\n"
            f"{p.name} wants: {p.goal} Style: {p.style}"
        )

    def state_note(
        self, state: EmotionalState, behaviours: list[str], revealed: list[HiddenFact]
    ) -> str:
        """How the customer feels and what they know now: changes every turn, so it comes last."""
        p = self.persona
        notes = []
        if behaviours:
            did = "; ".join(BEHAVIOURS[b].description for b in behaviours)
            notes.append(f"The agent's last message: {did}.")
        if revealed:
            notes.append(f"{p.name} has told the agent: " + " ".join(f.fact for f in revealed))
        notes.append(f"{p.name} is now {state.mood}.")
        return " ".join(notes)

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
    ) -> CustomerTurn:
        """The customer's next line in the conversation, from the model, checked for role."""
        note = self.state_note(state, behaviours, [*revealed, *revealed_now])
        line, fault, samples = "", None, 0
        last_agent = last_text(turns, "agent")
        for attempt in range(self.attempts):
            completion = await self.engine.generate(self.request(turns, note, seed + attempt))
            samples += 1
            line = clean_line(completion.text)
            if out_of_role_reason(line, last_agent) is None:
                fault = None
                break
            fault = "out_of_role"
        if fault is not None:
            line = fallback_line(self.persona, state, random.Random(seed))
        said = " ".join(f.say for f in revealed_now)
        text = f"{said} {line}".strip() if said else line
        return CustomerTurn(text, [f.id for f in revealed_now], fault, samples)

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
