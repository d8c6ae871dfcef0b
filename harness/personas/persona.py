"""Persona files: strict validation into a frozen `Persona`.

A persona file is checked against its JSON Schema (harness/schemas/persona.schema.json) and
then for the rules a schema cannot say (unique ids). Errors name the file, the line and the
JSON pointer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.personas.documents import check_schema, content_hash, unique_ids
from harness.sentences import fact_tokens
from harness.sourcefile import SourceDocument, read_document

DEFAULT_MAX_TURNS = 8
DEFAULT_ACCEPT_BELOW = 4.0


@dataclass(frozen=True)
class Scenario:
    company: str
    product: str
    domain: str
    situation: str
    known_facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class HiddenFact:
    id: str
    fact: str  # third person, neutral: what the matcher and the simulator read
    say: str  # the customer's words when asked
    asked_by: tuple[str, ...] = ()  # optional hints inside a question
    question: str | None = None  # the agent's question, for the reference agents


@dataclass(frozen=True)
class Offer:
    id: str
    description: str  # follows "I can", speaks to the customer as "you"
    cues: tuple[str, ...] = ()  # optional hints
    accept: tuple[str, ...] = ()  # the customer's own words accepting it


VOICE_MOODS = ("furious", "annoyed", "calming", "confused", "hanging_up")


@dataclass(frozen=True)
class Temperament:
    initial_anger: float
    patience: int
    drift: float
    accept_below: float = DEFAULT_ACCEPT_BELOW


@dataclass(frozen=True)
class Persona:
    id: str
    name: str
    archetype: str
    scenario: Scenario
    hidden_facts: tuple[HiddenFact, ...]
    goal: str
    acceptable_resolutions: tuple[Offer, ...]
    unacceptable_demands: tuple[Offer, ...]
    temperament: Temperament
    reactions: dict[str, float]
    style: str
    opening_lines: tuple[str, ...]
    max_turns: int
    source: str
    content_hash: str
    # mood or intent -> lines in this customer's voice (optional; see VOICE_MOODS)
    voice: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _offers(items: Iterable[dict]) -> tuple[Offer, ...]:
    return tuple(
        Offer(o["id"], o["description"], tuple(o.get("cues", [])), tuple(o.get("accept", [])))
        for o in items
    )


def persona_from_document(doc: SourceDocument) -> Persona:
    check_schema(doc, "persona")
    d = doc.data
    unique_ids(doc, d.get("hidden_facts", []), ["hidden_facts"], "hidden fact")
    unique_ids(doc, d["acceptable_resolutions"], ["acceptable_resolutions"], "resolution")
    unique_ids(doc, d.get("unacceptable_demands", []), ["unacceptable_demands"], "demand")
    sc, te = d["scenario"], d["temperament"]
    return Persona(
        id=d["id"],
        name=d["name"],
        archetype=d["archetype"],
        scenario=Scenario(
            sc["company"],
            sc["product"],
            sc["domain"],
            sc["situation"],
            tuple(sc.get("known_facts", [])),
        ),
        hidden_facts=tuple(
            HiddenFact(
                h["id"], h["fact"], h["say"], tuple(h.get("asked_by", [])), h.get("question")
            )
            for h in d.get("hidden_facts", [])
        ),
        goal=d["goal"],
        acceptable_resolutions=_offers(d["acceptable_resolutions"]),
        unacceptable_demands=_offers(d.get("unacceptable_demands", [])),
        temperament=Temperament(
            float(te["initial_anger"]),
            int(te["patience"]),
            float(te["drift"]),
            float(te.get("accept_below", DEFAULT_ACCEPT_BELOW)),
        ),
        reactions={k: float(v) for k, v in d.get("reactions", {}).items()},
        style=d["style"],
        opening_lines=tuple(d["opening_lines"]),
        max_turns=int(d.get("max_turns", DEFAULT_MAX_TURNS)),
        source=str(doc.path),
        content_hash=content_hash(d),
        voice={k: tuple(v) for k, v in d.get("voice", {}).items()},
    )


def personas_hash(personas: Iterable[Persona]) -> str:
    """One hash for a set of personas (ids and contents, in any order): runs compare only on
    the same set, and a pack's version is recorded with the hash of the personas used."""
    joined = "".join(f"{p.id}:{p.content_hash}\n" for p in sorted(personas, key=lambda p: p.id))
    return hashlib.sha256(joined.encode()).hexdigest()


def load_persona(path: str | Path) -> Persona:
    return persona_from_document(read_document(path))


def persona_facts(persona: Persona) -> set[str]:
    """Every number and reference the persona file gives the customer (`sentences.fact_tokens`
    of its texts): what a customer line may mention without contradicting the persona."""
    sc = persona.scenario
    texts = [sc.situation, *sc.known_facts, persona.goal, *persona.opening_lines]
    texts += [f"{h.fact} {h.say}" for h in persona.hidden_facts]
    texts += [
        o.description for o in (*persona.acceptable_resolutions, *persona.unacceptable_demands)
    ]
    return set().union(*(fact_tokens(t) for t in texts))
