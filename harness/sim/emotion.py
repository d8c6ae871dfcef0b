"""The customer's explicit emotional state and how agent behaviours move it.

Anger lives on 0-10. After each agent turn: anger += sum of the reactions to the behaviours
the appraisal found (positive ones damped when repeated) + the persona's drift, clipped. A turn
that says again what an earlier one said calms no one: its positive behaviours count nothing,
and it angers as ignoring the customer does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from harness.behaviours import POSITIVE
from harness.personas.archetypes import default_reactions
from harness.personas.persona import DEFAULT_ACCEPT_BELOW, Persona

MAX_ANGER = 10.0
HANGUP_ANGER = 9.0  # at or above this for two agent turns in a row, the customer hangs up
TURNS_AT_TOP_TO_HANG_UP = 2
PROGRESS_EPSILON = 0.25  # anger must fall by more than this for a turn to count as progress

_MOODS = (
    (2.0, "calm and cooperative"),
    (4.0, "a little annoyed but willing to listen"),
    (6.0, "frustrated and impatient"),
    (8.0, "angry, short-tempered and suspicious of excuses"),
    (MAX_ANGER + 1, "furious, on the edge of hanging up"),
)


def reactions_for(persona: Persona) -> dict[str, float]:
    return {**default_reactions(persona.archetype), **persona.reactions}


def describe_anger(anger: float) -> str:
    return next(words for limit, words in _MOODS if anger < limit)


@dataclass
class EmotionalState:
    anger: float
    patience: int
    drift: float
    reactions: dict[str, float]
    accept_below: float = DEFAULT_ACCEPT_BELOW
    turns_at_top: int = 0
    turns_without_progress: int = 0
    shown: Counter[str] = field(default_factory=Counter)

    @classmethod
    def for_persona(cls, persona: Persona) -> EmotionalState:
        t = persona.temperament
        return cls(t.initial_anger, t.patience, t.drift, reactions_for(persona), t.accept_below)

    def delta_for(self, behaviours: tuple[str, ...] | list[str], repeated: bool = False) -> float:
        delta = self.drift
        if repeated:
            delta += self.reactions.get("ignore_question", 0.0)
        for name in behaviours:
            effect = self.reactions.get(name, 0.0)
            if name in POSITIVE and effect < 0:
                effect = 0.0 if repeated else effect * 0.5 ** self.shown[name]
            delta += effect
        return delta

    def react(
        self,
        behaviours: tuple[str, ...] | list[str],
        progress: bool = False,
        repeated: bool = False,
    ) -> float:
        """Apply one agent turn; return the change of anger actually applied. `progress` is
        what the turn did for the customer beside calming them (a fact asked for, an offer
        whole or in part): it keeps their patience as a fall in anger does. A `repeated` turn
        (`harness.sentences.repeats`) is no progress, whatever it says."""
        before = self.anger
        delta = self.delta_for(behaviours, repeated)
        self.anger = round(min(MAX_ANGER, max(0.0, before + delta)), 3)
        self.shown.update(behaviours)
        self.turns_at_top = self.turns_at_top + 1 if self.anger >= HANGUP_ANGER else 0
        progressed = not repeated and (progress or self.anger < before - PROGRESS_EPSILON)
        self.turns_without_progress = 0 if progressed else self.turns_without_progress + 1
        return round(self.anger - before, 3)

    @property
    def wants_to_hang_up(self) -> bool:
        """At the top of their anger too long, or out of patience; a customer calm enough to
        accept an offer waits for one (patience runs out only above `accept_below`)."""
        if self.turns_at_top >= TURNS_AT_TOP_TO_HANG_UP:
            return True
        return self.turns_without_progress >= self.patience and self.anger > self.accept_below

    @property
    def mood(self) -> str:
        return describe_anger(self.anger)
