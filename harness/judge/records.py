"""Judgements as records: the lines of `deesc judge --out` and the scoring part of episodes."""

from __future__ import annotations

import asyncio
from typing import Any

from harness.judge.base import Conversation, Judgement
from harness.judge.mood import read_moods
from harness.judge.verdict import verdict
from harness.personas.persona import Persona
from harness.personas.rubric import Rubric
from harness.records import EpisodeRecord
from harness.sim.episode import Episode

FORMAT_VERSION = 1


def conversation_from(record: dict[str, Any], personas: dict[str, Persona]) -> Conversation:
    """A transcript (or episode) as the judge reads it. The archetype chooses the criteria: from
    the persona the transcript names, else `meta.archetype`, else none (the criteria that apply
    to every customer)."""
    persona = personas.get(record.get("persona_id") or "")
    archetype = persona.archetype if persona else (record.get("meta") or {}).get("archetype")
    turns = tuple({"role": t["role"], "text": t["text"]} for t in record["turns"])
    return Conversation(record["id"], turns, archetype, record.get("outcome"), persona)


def verdict_fields(
    conversation: Conversation, judgement: Judgement, rubric: Rubric
) -> dict[str, Any]:
    """What a judgement adds to a transcript or an episode: judge, rubric, verdict, scores."""
    return {
        "judge": judgement.judge,
        "rubric": {"id": rubric.id, "version": rubric.version, "sha256": rubric.content_hash},
        **verdict(rubric, judgement, conversation.outcome, conversation.mood),
        "scores": {k: s.as_dict() for k, s in judgement.scores.items()},
    }


def judgement_record(
    conversation: Conversation, judgement: Judgement, rubric: Rubric
) -> dict[str, Any]:
    """A line of `deesc judge --out`."""
    return {
        "format_version": FORMAT_VERSION,
        "id": conversation.id,
        **verdict_fields(conversation, judgement, rubric),
    }


def episode_conversation(episode: Episode, record: EpisodeRecord) -> Conversation:
    """A finished episode as the judge reads it: its persona, its outcome, and the appraisal of
    every agent turn this process read (a conversation restored from its turns, in the exam
    server, keeps the behaviours it recorded; the judge re-reads only their strengths)."""
    turns = tuple(
        {k: t[k] for k in ("role", "text", "behaviours") if k in t} for t in record["turns"]
    )
    persona = episode.persona
    return Conversation(record["id"], turns, persona.archetype, record["outcome"], persona,
                        dict(episode.appraisals))  # fmt: skip


async def judge_episode(
    episode: Episode, record: EpisodeRecord, judge: Any, rubric: Rubric
) -> EpisodeRecord:
    """The episode's record with the judge's verdict added (what every episode of a run, a
    `deesc play` session and an exam conversation carries)."""
    conversation = episode_conversation(episode, record)
    (judgement,) = await judge.judge([conversation], rubric)
    record.update(verdict_fields(conversation, judgement, rubric))
    return record


def judge_records(
    records: list[dict[str, Any]], rubric: Any, judge: Any, personas: dict[str, Any]
) -> list[dict[str, Any]]:
    conversations = read_moods([conversation_from(r, personas) for r in records])
    judgements = asyncio.run(judge.judge(conversations, rubric))
    return [judgement_record(c, j, rubric) for c, j in zip(conversations, judgements, strict=True)]
