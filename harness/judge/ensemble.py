"""The ensemble: the behaviour judge and a model judge, averaged where both scored."""

from __future__ import annotations

import asyncio

from harness.judge.base import Conversation, CriterionScore, Judgement
from harness.judge.behaviour import BehaviourJudge
from harness.judge.model import ModelJudge
from harness.personas.rubric import Rubric


def combine(behaviour: CriterionScore, model: CriterionScore) -> CriterionScore:
    """Mean value; evidence from both (the behaviour judge's first); the lower confidence."""
    scored = [s for s in (behaviour, model) if s.value is not None]
    if not scored:
        return CriterionScore(None, None, unscored=f"{behaviour.unscored}; {model.unscored}")
    value = sum(s.value for s in scored if s.value is not None) / len(scored)
    confidences = [s.confidence for s in scored if s.confidence is not None]
    rationale = " | ".join(
        f"{who}: {s.rationale if s.value is not None else 'unscored, ' + str(s.unscored)}"
        for who, s in (("behaviours", behaviour), ("model", model))
    )
    return CriterionScore(
        value=value,
        confidence=min(confidences) if confidences else None,
        evidence=behaviour.evidence + model.evidence,
        rationale=rationale,
    )


class EnsembleJudge:
    def __init__(self, behaviour: BehaviourJudge, model: ModelJudge) -> None:
        self.behaviour, self.model = behaviour, model
        self.name = f"ensemble:{model.engine.name}"

    def reseed(self, repeat: int) -> None:
        self.model.reseed(repeat)

    async def judge(self, conversations: list[Conversation], rubric: Rubric) -> list[Judgement]:
        by_behaviour, by_model = await asyncio.gather(
            self.behaviour.judge(conversations, rubric), self.model.judge(conversations, rubric)
        )
        out = []
        for b, m in zip(by_behaviour, by_model, strict=True):
            scores = {k: combine(b.scores[k], m.scores[k]) for k in b.scores}
            out.append(Judgement(scores, critical_failures=b.critical_failures, judge=self.name))
        return out
