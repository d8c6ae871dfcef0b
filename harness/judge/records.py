"""Judgements as records: the lines of `deesc judge --out` and the scoring part of episodes."""

from __future__ import annotations

from typing import Any

from harness.judge.base import Conversation, Judgement
from harness.judge.verdict import verdict
from harness.spec import Persona, Rubric

FORMAT_VERSION = 1
DEFAULT_RUBRIC = "rubrics/deescalation.yaml"  # relative to the working directory


def conversation_from(record: dict[str, Any], personas: dict[str, Persona]) -> Conversation:
    """A transcript (or episode) as the judge reads it. The archetype chooses the criteria: from
    the persona the transcript names, else `meta.archetype`, else none (the criteria that apply
    to every customer)."""
    persona = personas.get(record.get("persona_id") or "")
    archetype = persona.archetype if persona else (record.get("meta") or {}).get("archetype")
    turns = tuple({"role": t["role"], "text": t["text"]} for t in record["turns"])
    return Conversation(record["id"], turns, archetype, record.get("outcome"))


def judgement_record(
    conversation: Conversation, judgement: Judgement, rubric: Rubric
) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "id": conversation.id,
        "judge": judgement.judge,
        "rubric": {"id": rubric.id, "version": rubric.version, "sha256": rubric.content_hash},
        **verdict(rubric, judgement, conversation.outcome),
        "scores": {k: s.as_dict() for k, s in judgement.scores.items()},
    }


async def judge_episode(
    record: dict[str, Any], personas: dict[str, Persona], judge: Any, rubric: Rubric
) -> dict[str, Any]:
    """The episode with the judge's verdict added (what every episode of a run carries)."""
    conversation = conversation_from(record, personas)
    (judgement,) = await judge.judge([conversation], rubric)
    verdict_ = judgement_record(conversation, judgement, rubric)
    record.update({k: v for k, v in verdict_.items() if k not in ("id", "format_version")})
    return record
