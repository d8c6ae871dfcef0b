"""From criterion scores (and the outcome: for simulated episodes the one recorded, for
transcripts the customer's mood read from their words) to a composite 0-100 and pass or fail
against the rubric's pass mark and critical failures."""

from __future__ import annotations

from typing import Any

from harness.judge.base import Judgement
from harness.personas.rubric import Rubric


def outcome_parts(outcome: dict[str, Any] | None) -> dict[str, float]:
    """Anger reduction (share of the starting anger gone by the end) and resolution, in [0, 1]."""
    if not outcome:
        return {}
    start, end = float(outcome["anger_start"]), float(outcome["anger_end"])
    reduction = max(0.0, min(1.0, (start - end) / start)) if start > 0 else float(end <= 0)
    return {"anger_reduction": reduction, "resolved": float(bool(outcome["resolved"]))}


def mood_parts(mood: dict[str, Any] | None) -> dict[str, float]:
    """How calm a transcript's customer sounds at the end (judge/mood.py), in [0, 1]."""
    if not mood:
        return {}
    return {"calm_at_end": max(0.0, min(1.0, 1 - float(mood["anger_end"]) / 10))}


def verdict(
    rubric: Rubric,
    judgement: Judgement,
    outcome: dict[str, Any] | None,
    mood: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`composite` (None when no criterion could be scored), `passed`, and how it was made.

    The criteria part is the weighted mean of (value - 1) / 4 over the scored criteria; the
    outcome parts count with the rubric's `outcome_weights` when there is an outcome, and the
    weights of what is missing are shared out over the rest. A transcript has no recorded
    outcome; the mood its customer ends in, read from their words, is its only sign of how the
    conversation ended (a customer who was helped ends calm), and counts with the weight of the
    whole outcome (`anger_reduction` and `resolved`) instead."""
    by_id = {c.id: c for c in rubric.criteria}
    scored = [(by_id[k], s.value) for k, s in judgement.scores.items() if s.value is not None]
    parts: dict[str, float] = {}
    if scored:
        total = sum(c.weight for c, _ in scored)
        parts["criteria"] = sum(c.weight * (v - 1) / 4 for c, v in scored) / total
    parts.update(outcome_parts(outcome) if outcome else mood_parts(mood))
    weights = rubric.outcome_weights
    weight_of = {"criteria": weights.criteria, "anger_reduction": weights.anger_reduction,
                 "resolved": weights.resolved,
                 # a transcript's only sign of how it ended: the whole outcome's weight
                 "calm_at_end": weights.anger_reduction + weights.resolved}  # fmt: skip
    used = {k: weight_of[k] for k in parts if weight_of[k] > 0}
    if "criteria" not in parts or not used:
        return {"composite": None, "passed": False, "parts": parts,
                "critical_failures": list(judgement.critical_failures)}  # fmt: skip
    composite = 100 * sum(weight_of[k] * parts[k] for k in used) / sum(used.values())
    passed = composite >= rubric.pass_mark and not judgement.critical_failures
    # a pass is for helping the customer, not for the words alone
    if rubric.pass_requires_help and judgement.helped is False:
        passed = False
    out = {
        "composite": round(composite, 2),
        "passed": passed,
        "parts": {k: round(v, 4) for k, v in parts.items()},
        "critical_failures": list(judgement.critical_failures),
    }
    if "calm_at_end" in parts:
        out["customer_mood"] = mood
    return out
