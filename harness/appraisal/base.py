"""What an appraisal is: the behaviours of the taxonomy that one agent turn shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Appraisal:
    behaviours: tuple[str, ...]
    # behaviour -> probability (1.0 for rule-based appraisals)
    scores: dict[str, float] = field(default_factory=dict)
    # behaviour -> the words of the turn that show it (a sentence or clause), for evidence
    evidence: dict[str, str] = field(default_factory=dict)


class Appraiser(Protocol):
    """Names the behaviours of an agent turn, given the customer turn before it."""

    name: str

    def appraise(self, agent_text: str, customer_text: str = "") -> Appraisal: ...
