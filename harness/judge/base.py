"""What a judge gives back: a score per rubric criterion, and the verdict built from them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.appraisal.base import Appraisal
from harness.personas.persona import Persona
from harness.personas.rubric import Criterion, Rubric
from harness.transcripts import agent_turns


@dataclass(frozen=True)
class Evidence:
    turn: int  # 1-based position in the transcript, as the judge's prompt numbers turns
    quote: str
    behaviour: str | None = None
    found: bool = True  # the quote occurs in that agent turn (whitespace-normalised)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"turn": self.turn, "quote": self.quote, "found": self.found}
        if self.behaviour:
            out["behaviour"] = self.behaviour
        return out


@dataclass(frozen=True)
class CriterionScore:
    """A 1-5 value with a confidence in [0, 1], or unscored with the reason (never a default)."""

    value: float | None
    confidence: float | None
    evidence: tuple[Evidence, ...] = ()
    rationale: str = ""
    unscored: str | None = None

    def as_dict(self) -> dict[str, Any]:
        if self.value is None:
            return {"value": None, "unscored": self.unscored or "no score"}
        return {
            "value": round(self.value, 3),
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "evidence": [e.as_dict() for e in self.evidence],
            "rationale": self.rationale,
        }


@dataclass(frozen=True)
class Conversation:
    """What a judge reads: the turns, and what is known about the customer and the outcome.

    A simulated episode hands over its persona and what its appraisal read in each agent turn
    (`appraisals`, by 1-based turn number), so the judge scores the turns the customer reacted
    to as the customer read them."""

    id: str
    turns: tuple[dict[str, Any], ...]
    archetype: str | None = None
    outcome: dict[str, Any] | None = None  # simulated episodes only
    persona: Persona | None = None
    appraisals: Mapping[int, Appraisal] = field(default_factory=dict)
    # a transcript's customer mood as their words show it (judge/mood.py); None in episodes
    mood: dict[str, Any] | None = None

    def agent_turns(self) -> list[tuple[int, str, str]]:
        return agent_turns(self.turns)


@dataclass(frozen=True)
class Judgement:
    scores: dict[str, CriterionScore]
    critical_failures: tuple[str, ...] = ()
    judge: str = ""
    # whether the customer was helped (occasions.helped); None when the judge cannot tell
    helped: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Judge(Protocol):
    name: str

    async def judge(self, conversations: list[Conversation], rubric: Rubric) -> list[Judgement]:
        """One judgement per conversation, criteria chosen by `applicable`."""
        ...


def applicable(rubric: Rubric, archetype: str | None) -> list[Criterion]:
    """The criteria for this customer; with no archetype, those that apply to every one."""
    return [c for c in rubric.criteria if c.applies(archetype)]
