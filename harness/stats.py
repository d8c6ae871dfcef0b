"""Uncertainty for run results: bootstrap intervals of means, pass^k, and paired differences
with a permutation test. Every resampling is seeded, so a summary is the same every time it is
rebuilt from the same episodes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000
PERMUTATIONS = 9999
INTERVAL = {"method": "percentile bootstrap", "confidence": CONFIDENCE, "resamples": RESAMPLES}


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), digits)


def _bootstrap_mean(x: np.ndarray, seed: int) -> tuple[float, float]:
    if len(x) < 2:
        return float("nan"), float("nan")
    if np.all(x == x[0]):  # every resample has the same mean; scipy would warn and give nan
        return float(x[0]), float(x[0])
    result = stats.bootstrap(
        (x,), np.mean, vectorized=True, n_resamples=RESAMPLES, confidence_level=CONFIDENCE,
        method="percentile", random_state=seed,
    )  # fmt: skip
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def mean_interval(values: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """`{mean, low, high, n}`: the mean with a 95% percentile-bootstrap interval (none for fewer
    than two values). Booleans count as 0/1, so this is also a rate with its interval."""
    x = np.asarray([float(v) for v in values if v is not None], dtype=float)
    if len(x) == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    low, high = _bootstrap_mean(x, seed)
    return {"mean": _round(x.mean()), "low": _round(low), "high": _round(high), "n": len(x)}


def interval_text(stat: dict[str, Any] | None, spec: str = ".1f") -> str:
    """A `mean_interval` as people read it: `mean [low, high]`; the mean alone with one value,
    "-" with none."""
    if not stat or stat.get("mean") is None:
        return "-"
    if stat["low"] is None:
        return format(stat["mean"], spec)
    return f"{stat['mean']:{spec}} [{stat['low']:{spec}}, {stat['high']:{spec}}]"


def pass_hat_k(trials: Sequence[tuple[int, int]], k: int) -> float | None:
    """The chance that k independent tries of a task all pass, averaged over tasks, as
    tau-bench reports it: per task with n tries and c passes, C(c, k) / C(n, k) (unbiased).
    Tasks with fewer than k tries do not count; None when none has k."""
    usable = [(n, c) for n, c in trials if n >= k]
    if not usable:
        return None
    return _round(sum(math.comb(c, k) / math.comb(n, k) for n, c in usable) / len(usable))


def paired_difference(a: Sequence[float], b: Sequence[float], seed: int = 0) -> dict[str, Any]:
    """B - A over pairs: the mean difference, its bootstrap interval and a two-sided p-value
    from a permutation test that swaps A and B within pairs (exact for small n)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = y - x
    out = {**mean_interval(diff.tolist(), seed), "p_value": None}
    if len(diff) >= 2 and not np.all(diff == 0):
        result = stats.permutation_test(
            (x, y), lambda u, v, axis: np.mean(v - u, axis=axis), permutation_type="samples",
            vectorized=True, n_resamples=PERMUTATIONS, alternative="two-sided", random_state=seed,
        )  # fmt: skip
        out["p_value"] = _round(result.pvalue)
    elif len(diff) >= 2:
        out["p_value"] = 1.0
    return out


def p_below(differences: Sequence[float], margin: float, seed: int = 0) -> float | None:
    """One-sided p-value that the mean difference lies below -margin: a sign-flip permutation
    test of the differences shifted by the margin (exact for small n)."""
    shifted = np.asarray(differences, dtype=float) + margin
    if len(shifted) < 2:
        return None
    if np.all(shifted == 0):
        return 1.0
    result = stats.permutation_test(
        (shifted,), np.mean, permutation_type="samples", vectorized=True,
        n_resamples=PERMUTATIONS, alternative="less", random_state=seed,
    )  # fmt: skip
    return _round(result.pvalue)
