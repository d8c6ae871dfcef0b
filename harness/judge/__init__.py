"""The rubric-guided judge: per-criterion scores with evidence, and the verdict from them.

Judges, by spec (`--judge`):
- `behaviour`: from the behaviours the appraisal finds (deterministic, offline, fast);
- `model:MODEL_SPEC`: a language model on any engine backend;
- `ensemble:MODEL_SPEC`: both, averaged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from harness.appraisal import Appraiser
from harness.engine.base import Sampling
from harness.engine.registry import EnginePool, ModelOptions
from harness.errors import DeescError
from harness.judge.base import Conversation, CriterionScore, Evidence, Judge, Judgement
from harness.judge.behaviour import BehaviourJudge
from harness.judge.verdict import verdict

# chosen by `deesc calibrate` on the gold set (README): the packaged 135M model as a judge is
# no better than chance there, the behaviour judge is
DEFAULT_JUDGE = "behaviour"


def open_judge(
    spec: str = DEFAULT_JUDGE,
    pool: EnginePool | None = None,
    appraiser: Appraiser | None = None,
    model_options: Mapping[str, ModelOptions] | None = None,
    temperature: float | None = None,
) -> Judge:
    """A judge by spec; model judges share `pool`'s engines (and batches) with the run, take
    their model's options from `model_options` (keyed by model spec, as in a run file) and
    sample at `temperature` when it is given."""
    from harness.judge.ensemble import EnsembleJudge
    from harness.judge.model import ModelJudge

    if spec == "behaviour":
        return BehaviourJudge(appraiser)
    kind, _, model_spec = spec.partition(":")
    if kind not in ("model", "ensemble") or not model_spec:
        raise DeescError(
            f"unknown judge {spec!r}; use behaviour, model:MODEL_SPEC or ensemble:MODEL_SPEC"
        )
    pool = pool or EnginePool()
    # greedy unless asked to sample: the same transcript, the same scores
    options = (model_options or {}).get(model_spec) or ModelOptions(spec=model_spec, temperature=0)
    if temperature is not None:
        options = replace(options, temperature=temperature)
    engine = pool.get(options)
    sampling = Sampling(temperature=options.temperature, top_p=options.top_p,
                        max_new_tokens=max(options.max_new_tokens, 160), seed=0)  # fmt: skip
    model = ModelJudge(engine, sampling)
    if kind == "model":
        return model
    return EnsembleJudge(BehaviourJudge(appraiser), model)


__all__ = [
    "DEFAULT_JUDGE",
    "BehaviourJudge",
    "Conversation",
    "CriterionScore",
    "Evidence",
    "Judge",
    "Judgement",
    "open_judge",
    "verdict",
]
