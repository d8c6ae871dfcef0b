"""The shapes of the records that cross modules: turns, outcomes and episodes, as the episode
writes them and the judge, the summaries, the report and the exam server read them. The JSON
Schemas (episode.schema.json, transcript.schema.json) are the contract on disk; these
TypedDicts say the same to the type checker."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["customer", "agent"]


class Turn(TypedDict):
    """A turn of a transcript from anywhere: who spoke, and what they said."""

    role: Role
    text: str


class State(TypedDict):
    anger: float


class EpisodeTurn(TypedDict):
    """A turn of a simulated episode: the transcript turn plus what the simulation read."""

    role: Role
    text: str
    state: State
    behaviours: NotRequired[list[str]]  # agent turns
    anger_delta: NotRequired[float]  # agent turns
    offers: NotRequired[list[str]]  # agent turns
    partial_offers: NotRequired[list[str]]  # agent turns
    repeated: NotRequired[bool]  # agent turns
    concessions: NotRequired[list[str]]  # agent turns
    error: NotRequired[str]  # agent turns
    revealed: NotRequired[list[str]]  # customer turns
    fault: NotRequired[str]  # customer turns
    faults: NotRequired[list[str]]  # customer turns
    samples: NotRequired[int]  # customer turns
    voiced: NotRequired[bool]  # customer turns


class Outcome(TypedDict):
    anger_start: float
    anger_end: float
    anger_peak: float
    resolved: bool
    hung_up: bool
    escalated: bool
    turns: int
    accepted_offer: NotRequired[str | None]
    revealed_facts: NotRequired[list[str]]
    simulator_faults: NotRequired[int]
    fault_kinds: NotRequired[dict[str, int]]


class EpisodeRecord(TypedDict):
    """A line of episodes.jsonl (format 2 adds the judge's fields)."""

    format_version: int
    id: str
    persona_id: str
    agent: str
    repeat: int
    seed: int
    turns: list[EpisodeTurn]
    end_reason: str
    outcome: Outcome
    meta: dict[str, Any]
    judge: NotRequired[str]
    rubric: NotRequired[dict[str, str]]
    composite: NotRequired[float | None]
    passed: NotRequired[bool]
    critical_failures: NotRequired[list[str]]
    parts: NotRequired[dict[str, float]]
    scores: NotRequired[dict[str, dict[str, Any]]]
