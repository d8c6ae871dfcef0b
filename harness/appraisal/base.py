"""What an appraisal is: the behaviours of the taxonomy that one agent turn shows, and what
it offers and asks for of the persona."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from harness.appraisal.offers import OfferReading
from harness.personas.persona import Persona

T = TypeVar("T")
# The learned appraisal is CPU work. Run inside the event loop it would stall every episode and
# stretch agents' timeouts (a webhook reply that came late was read as in time); one worker
# thread keeps the loop free and the classifier's tokenizer used by one thread at a time.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="deesc-appraisal")


async def off_loop(fn: Callable[..., T], *args: object) -> T:
    """`fn(*args)` on the appraisal worker thread, awaited."""
    return await asyncio.get_running_loop().run_in_executor(_WORKER, fn, *args)


@dataclass(frozen=True)
class Appraisal:
    behaviours: tuple[str, ...]
    # behaviour -> probability (1.0 for rule-based appraisals)
    scores: dict[str, float] = field(default_factory=dict)
    # behaviour -> the words of the turn that show it (a sentence or clause), for evidence
    evidence: dict[str, str] = field(default_factory=dict)
    # behaviour -> how well its words fit the customer's turn (cosine, learned appraisals only)
    fit: dict[str, float] = field(default_factory=dict)
    # what the turn did about the persona, when it was read against one
    offers: OfferReading = field(default_factory=OfferReading)


class Appraiser(Protocol):
    """Reads an agent turn, given the customer turn before it: the behaviours it shows and,
    given the persona (and the facts already revealed), what it offers and asks for."""

    name: str

    def appraise(
        self,
        agent_text: str,
        customer_text: str = "",
        persona: Persona | None = None,
        revealed: Collection[str] = (),
    ) -> Appraisal: ...
