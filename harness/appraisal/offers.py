"""What an agent turn does about the persona: the offers it makes (whole or in part), the
demands it concedes, the hidden facts it asks for. Read by the learned matcher
(`matching.py`), with the persona's optional hints (`cues`, `asked_by`) counting for certain;
the lexicon appraisal reads the hints alone."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from harness.personas.persona import HiddenFact, Offer, Persona
from harness.sentences import split_sentences

_NEGATION = re.compile(
    r"\b(not|no|never|cannot|unable|won't|can't|don't|doesn't|isn't)\b|n't\b", re.IGNORECASE
)


@dataclass(frozen=True)
class OfferReading:
    """Ids of what one agent turn did about the persona, and the words that did it."""

    offers: tuple[str, ...] = ()  # acceptable resolutions made whole
    partial_offers: tuple[str, ...] = ()  # made in part (the refund but not the fee)
    concessions: tuple[str, ...] = ()  # unacceptable demands given in to
    asked: tuple[str, ...] = ()  # hidden facts asked for
    evidence: dict[str, str] = field(default_factory=dict)  # id -> the piece that made it


def cue_said(text: str, cue: str) -> bool:
    """A cue counts only where its own clause does not negate it ("I can't refund" is no offer)."""
    lowered, cue = text.lower(), cue.lower()
    start = lowered.find(cue)
    while start != -1:
        clause = re.split(r"[.?!;]", lowered[:start])[-1]
        if not _NEGATION.search(clause):
            return True
        start = lowered.find(cue, start + 1)
    return False


def offers_by_cue(text: str, offers: tuple[Offer, ...]) -> list[str]:
    """Ids of the offers whose cue phrases an agent turn says (not negated)."""
    return [o.id for o in offers if any(cue_said(text, cue) for cue in o.cues)]


def facts_by_cue(text: str, facts: tuple[HiddenFact, ...]) -> list[str]:
    """Ids of the facts one of whose `asked_by` phrases is inside a question of the turn."""
    questions = [s.lower() for s in split_sentences(text) if s.endswith("?")]
    return [f.id for f in facts if any(c.lower() in q for q in questions for c in f.asked_by)]


def read_by_cues(text: str, persona: Persona, revealed: Collection[str] = ()) -> OfferReading:
    """The reading from the persona's hints alone (the lexicon appraisal's)."""
    facts = tuple(f for f in persona.hidden_facts if f.id not in revealed)
    return OfferReading(
        offers=tuple(offers_by_cue(text, persona.acceptable_resolutions)),
        concessions=tuple(offers_by_cue(text, persona.unacceptable_demands)),
        asked=tuple(facts_by_cue(text, facts)),
    )


def read_offers(
    matcher: object | None, text: str, persona: Persona, revealed: Collection[str] = ()
) -> OfferReading:
    """The learned reading where there is a matcher, the hints counting for certain."""
    hinted = read_by_cues(text, persona, revealed)
    if matcher is None or not text.strip():
        return hinted
    facts = [(f.id, f.fact) for f in persona.hidden_facts if f.id not in revealed]
    resolutions = [(o.id, o.description) for o in persona.acceptable_resolutions]
    demands = [(o.id, o.description) for o in persona.unacceptable_demands]
    offers = matcher.read(text, resolutions, "offer")  # type: ignore[attr-defined]
    conceded = matcher.read(text, demands, "offer")  # type: ignore[attr-defined]
    asked = matcher.read(text, facts, "fact")  # type: ignore[attr-defined]
    whole = [i for i, m in offers.items() if m.label == "offer"]
    evidence = {i: m.piece for reading in (offers, conceded, asked) for i, m in reading.items()}

    def ordered(ids: Collection[str], items: list[tuple[str, str]]) -> tuple[str, ...]:
        return tuple(i for i, _ in items if i in set(ids))

    made = ordered({*whole, *hinted.offers}, resolutions)
    return OfferReading(
        offers=made,
        partial_offers=ordered({i for i, m in offers.items() if m.label == "partial"} - set(made), resolutions),
        concessions=ordered({*(i for i, m in conceded.items() if m.label == "offer"), *hinted.concessions}, demands),
        asked=ordered({*asked, *hinted.asked}, facts),
        evidence=evidence,
    )  # fmt: skip
