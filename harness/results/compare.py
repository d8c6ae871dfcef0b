"""Two runs side by side: episodes paired by persona and repeat (the same customer seed when the
run seeds match), the paired difference B - A with a bootstrap interval and a permutation
p-value, overall, per criterion and per persona, and a regression verdict for CI."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.errors import DeescError
from harness.results.store import Run
from harness.results.summary import episode_metrics, is_faulty
from harness.stats import CONFIDENCE, INTERVAL, p_below, paired_difference

FORMAT_VERSION = 1
OUTCOMES = ("passed", "resolved", "hung_up", "anger_drop")


def pick_agent(run: Run, name: str | None, other: Run, flag: str) -> str:
    agents = run.agents
    if name is not None:
        if name not in agents:
            raise DeescError(
                f"{run.dir}: no agent {name!r} in this run (it has: {', '.join(agents)})"
            )
        return name
    if len(agents) == 1:
        return agents[0]
    shared = sorted(set(agents) & set(other.agents))
    if len(shared) == 1:
        return shared[0]
    raise DeescError(f"{run.dir} has agents {', '.join(agents)}; choose one with {flag}")


def _rubric_sha(run: Run) -> str | None:
    return (run.manifest.get("rubric") or {}).get("sha256")


def comparability_problems(a: Run, b: Run) -> list[str]:
    """What makes scores of the two runs mean different things (content hashes, the judge)."""
    problems = []
    if _rubric_sha(a) != _rubric_sha(b):
        problems.append("the rubrics differ (rubric sha256 in the manifests)")
    if a.manifest["personas_hash"] != b.manifest["personas_hash"]:
        problems.append("the persona sets differ (personas_hash in the manifests)")
    if a.manifest["config"].get("judge") != b.manifest["config"].get("judge"):
        problems.append("the judges differ")
    return problems


# libraries whose versions change what a model generates for the same seed
MODEL_LIBRARIES = ("torch", "transformers")


def version_differences(a: Run, b: Run) -> list[str]:
    """The model libraries whose versions the two manifests record differently: their scores
    still compare, but the same seed need not have given the same conversations."""
    pa, pb = a.manifest.get("packages") or {}, b.manifest.get("packages") or {}
    return [
        f"{name} {pa.get(name) or 'not recorded'} in A, {pb.get(name) or 'not recorded'} in B"
        for name in MODEL_LIBRARIES
        if pa.get(name) != pb.get(name)
    ]


def _by_key(run: Run, agent: str) -> dict[tuple[str, int], dict[str, Any]]:
    return {(e["persona_id"], e["repeat"]): e for e in run.episodes if e["agent"] == agent}


def _paired(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    value: Callable[[dict[str, Any]], float | None],
    seed: int,
) -> dict[str, Any]:
    a, b = [], []
    for ea, eb in pairs:
        va, vb = value(ea), value(eb)
        if va is not None and vb is not None:
            a.append(va)
            b.append(vb)
    diff = paired_difference(a, b, seed)
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {"a": mean(a), "b": mean(b), "difference": diff}


def _criterion(name: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda e: ((e.get("scores") or {}).get(name) or {}).get("value")


def compare_runs(
    a: Run,
    b: Run,
    agent_a: str | None = None,
    agent_b: str | None = None,
    force: bool = False,
    fail_if_worse: float | None = None,
    seed: int = 0,
    exclude_faulty: bool = False,
) -> dict[str, Any]:
    """`exclude_faulty` drops every pair where either episode has a simulator fault."""
    problems = comparability_problems(a, b)
    if problems and not force:
        raise DeescError(
            f"cannot compare {a.dir} with {b.dir}: {'; '.join(problems)}. "
            "Their scores do not mean the same thing; pass --force to compare anyway"
        )
    name_a, name_b = pick_agent(a, agent_a, b, "--agent-a"), pick_agent(b, agent_b, a, "--agent-b")
    ea, eb = _by_key(a, name_a), _by_key(b, name_b)
    keys = sorted(set(ea) & set(eb))
    faulty = [k for k in keys if is_faulty(ea[k]) or is_faulty(eb[k])]
    if exclude_faulty:
        keys = [k for k in keys if k not in faulty]
    if not keys:
        raise DeescError(f"no episode of {name_a} in {a.dir} pairs with one of {name_b} in {b.dir}")
    pairs = [(ea[k], eb[k]) for k in keys]
    composite = _paired(pairs, lambda e: e.get("composite"), seed)
    criteria_names = sorted({c for pair in pairs for e in pair for c in e.get("scores") or {}})
    personas = sorted({p for p, _ in keys})
    result = {
        "format_version": FORMAT_VERSION,
        "a": {"run": str(a.dir), "run_id": a.manifest["run_id"], "agent": name_a},
        "b": {"run": str(b.dir), "run_id": b.manifest["run_id"], "agent": name_b},
        "forced_despite": problems,
        "version_warnings": version_differences(a, b),
        "pairs": len(pairs),
        "unpaired": {"a": len(ea) - len(keys), "b": len(eb) - len(keys)},
        "same_seeds": sum(1 for x, y in pairs if x["seed"] == y["seed"]),
        "simulator_faults": {
            "a": sum(1 for e in ea.values() if is_faulty(e)),
            "b": sum(1 for e in eb.values() if is_faulty(e)),
            "faulty_pairs": len(faulty),
            "excluded": exclude_faulty,
        },
        "interval": {**INTERVAL, "seed": seed, "test": "paired permutation, two-sided"},
        "composite": composite,
        "outcomes": {
            m: _paired(pairs, lambda e, m=m: episode_metrics(e)[m], seed) for m in OUTCOMES
        },
        "criteria": {c: _paired(pairs, _criterion(c), seed) for c in criteria_names},
        "personas": {
            p: _paired(
                [x for x in pairs if x[0]["persona_id"] == p], lambda e: e.get("composite"), seed
            )
            for p in personas
        },
    }
    diffs = [
        y["composite"] - x["composite"]
        for x, y in pairs
        if x.get("composite") is not None and y.get("composite") is not None
    ]
    p_worse = None if fail_if_worse is None else p_below(diffs, fail_if_worse, seed)
    result["verdict"] = verdict(composite["difference"], fail_if_worse, p_worse)
    return result


def verdict(
    difference: dict[str, Any], margin: float | None, p_worse: float | None
) -> dict[str, Any]:
    """A regression only when B is worse than A by more than the margin with confidence: the
    whole 95% interval of B - A lies below -margin, and the one-sided permutation test of the
    differences shifted by the margin agrees (p < 0.05, which a handful of pairs cannot reach,
    however large their differences). Noise is not a regression."""
    low, high = difference["low"], difference["high"]
    if high is None or low is None:
        label = "undecided (too few pairs for an interval)"
        worse = False
    else:
        worse = (
            margin is not None
            and high < -margin
            and p_worse is not None
            and p_worse < 1 - CONFIDENCE
        )
        if low > 0:
            label = "B better"
        elif high < 0:
            label = "B worse"
        else:
            label = "no clear difference"
    return {"label": label, "margin": margin, "p_worse_than_margin": p_worse, "regression": worse}
