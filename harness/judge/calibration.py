"""How far a judge agrees with human labels: rank correlations, AUROC for pass/fail labels,
quadratic-weighted kappa for 1-5 labels, each with a bootstrap 95% interval, and the same
metrics for baselines that know nothing of de-escalation (the length of the agent's replies)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score

LabelKind = Literal["binary", "ordinal_1_5", "numeric"]
RESAMPLES = 2000


def label_kind(labels: Sequence[float]) -> LabelKind:
    values = set(labels)
    if values <= {0, 1}:
        return "binary"
    if values <= {1, 2, 3, 4, 5}:
        return "ordinal_1_5"
    return "numeric"


def to_1_5(composites: Sequence[float]) -> list[int]:
    """Composite (0-100) back on the 1-5 scale it was made from (1 + 4 * composite / 100),
    rounded: 1 below 12.5, 5 from 87.5."""
    return [min(5, max(1, round(1 + 4 * c / 100))) for c in composites]


def by_rank(scores: Any, labels: Any) -> list[int]:
    """Scores with no 1-5 scale of their own (reply length) given the labels' own spread: the
    lowest-scoring share gets the lowest label, and so on (the kindest mapping for a baseline)."""
    order = np.argsort(np.asarray(scores), kind="stable")
    out = np.empty(len(order), dtype=int)
    out[order] = np.sort(np.asarray(labels).astype(int))
    return out.tolist()


def _metric_functions(
    kind: LabelKind, on_composite_scale: bool
) -> dict[str, Callable[[Any, Any], float]]:
    metrics: dict[str, Callable[[Any, Any], float]] = {
        "spearman": lambda x, y: float(stats.spearmanr(x, y).statistic),
        "kendall": lambda x, y: float(stats.kendalltau(x, y).statistic),
    }
    if kind == "binary":
        metrics["auroc"] = lambda x, y: float(roc_auc_score(y, x))
    if kind == "ordinal_1_5":
        # judged composites mapped onto 1-5 by five equal bands of 0-100
        metrics["qwk"] = lambda x, y: quadratic_kappa(
            np.asarray(to_1_5(x) if on_composite_scale else by_rank(x, y)), y.astype(int)
        )
    return metrics


_QUADRATIC = np.subtract.outer(np.arange(5), np.arange(5)) ** 2 / 16.0


def quadratic_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Quadratic-weighted kappa of two 1-5 ratings: scikit-learn's `cohen_kappa_score(...,
    weights="quadratic", labels=[1..5])`, on the confusion matrix directly. Its input checks
    cost 4 ms a call, which the 2,000 bootstrap resamples of `deesc calibrate` paid 17 s for;
    a test keeps the two equal."""
    observed = np.zeros((5, 5))
    np.add.at(observed, (a - 1, b - 1), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    disagreement = (_QUADRATIC * expected).sum()
    return float(1 - (_QUADRATIC * observed).sum() / disagreement) if disagreement else float("nan")


def agreement(
    scores: Sequence[float],
    labels: Sequence[float],
    kind: LabelKind,
    on_composite_scale: bool = True,
    seed: int = 0,
) -> dict[str, dict[str, float | None]]:
    """Each metric with a percentile bootstrap 95% interval over transcripts. Kappa compares
    composites on their own scale (`to_1_5`), other scores `by_rank`."""
    x, y = np.asarray(scores, dtype=float), np.asarray(labels, dtype=float)
    out: dict[str, dict[str, float | None]] = {}
    for name, fn in _metric_functions(kind, on_composite_scale).items():
        try:
            value = fn(x, y)
        except ValueError:
            value = float("nan")
        low = high = float("nan")
        if len(x) >= 3 and not math.isnan(value):
            result = stats.bootstrap(
                (x, y), fn, paired=True, vectorized=False, n_resamples=RESAMPLES,
                confidence_level=0.95, method="percentile", random_state=seed,
            )  # fmt: skip
            low, high = result.confidence_interval.low, result.confidence_interval.high
        out[name] = {k: None if math.isnan(v) else round(float(v), 4)
                     for k, v in (("value", value), ("low", low), ("high", high))}  # fmt: skip
    return out


def reply_length(turns: Sequence[dict[str, Any]]) -> float:
    """The baseline: words the agent wrote, all turns together."""
    return float(sum(len(t["text"].split()) for t in turns if t["role"] == "agent"))


def labelled_records(
    records: list[dict[str, Any]], label: str
) -> tuple[list[tuple[dict[str, Any], float]], list[str]]:
    """(transcript, numeric `meta.labels.<label>`) pairs, and a note for each transcript
    without one."""
    labelled, skipped = [], []
    for r in records:
        value = ((r.get("meta") or {}).get("labels") or {}).get(label)
        if isinstance(value, bool) or not isinstance(value, int | float):
            skipped.append(f"{r['id']}: no numeric meta.labels.{label}")
        else:
            labelled.append((r, float(value)))
    return labelled, skipped


def calibrate(
    labelled: list[tuple[dict[str, Any], float]],
    rubric: Any,
    judge: Any,
    personas: dict[str, Any],
    repeats: int = 1,
    skipped: list[str] | None = None,
) -> dict[str, Any]:
    """The judge's composite against the labels, with the reply-length baseline on the same
    transcripts; with `repeats` > 1 a sampling judge is reseeded and its spread reported."""
    from harness.judge.records import judge_records

    skipped = list(skipped or [])
    runs = []
    for repeat in range(repeats):
        if repeat and hasattr(judge, "reseed"):
            judge.reseed(repeat)
        runs.append(judge_records([r for r, _ in labelled], rubric, judge, personas))
    scores, labels, lengths = [], [], []
    for i, (record, label) in enumerate(labelled):
        composites = [run[i]["composite"] for run in runs]
        if any(c is None for c in composites):
            skipped.append(f"{record['id']}: no criterion could be scored")
            continue
        scores.append(statistics.fmean(composites))
        labels.append(label)
        lengths.append(reply_length(record["turns"]))
    kind = label_kind(labels)
    result: dict[str, Any] = {
        "label_kind": kind, "judge": judge.name, "rubric": f"{rubric.id}@{rubric.version}",
        "n": len(scores), "skipped": skipped, "metrics": agreement(scores, labels, kind),
        "baselines": {"reply_length": agreement(lengths, labels, kind, on_composite_scale=False)},
    }  # fmt: skip
    if repeats > 1:
        spreads = [
            statistics.pstdev([run[i]["composite"] for run in runs])
            for i in range(len(labelled))
            if all(run[i]["composite"] is not None for run in runs)
        ]
        result["repeats"] = {"k": repeats, "mean_sd": round(statistics.fmean(spreads), 4),
                             "max_sd": round(max(spreads), 4)}  # fmt: skip
    return result


def real_text_report(
    records: list[dict[str, Any]],
    judged: list[dict[str, Any]],
    numeric: str,
    binary: str,
    negative_turns: list[bool] | None = None,
) -> dict[str, Any]:
    """The judge against people on one corpus, beside the reply-length baseline: rank
    correlation with the numeric rating, AUROC of good against poor, and the false alarms on
    conversations people rated good (a critical failure; an agent turn read as negative)."""
    composite = [j["composite"] if j["composite"] is not None else 0.0 for j in judged]
    lengths = [reply_length(r["turns"]) for r in records]
    labels = [r["meta"]["labels"] for r in records]
    out: dict[str, Any] = {"n": len(records)}
    for name, values in (("judge", composite), ("reply_length", lengths)):
        rated = [(v, lab[numeric]) for v, lab in zip(values, labels, strict=True) if numeric in lab]
        split = [(v, lab[binary]) for v, lab in zip(values, labels, strict=True) if binary in lab]
        out[name] = {
            "spearman": agreement(*zip(*rated, strict=True), "numeric", on_composite_scale=False)["spearman"],
            "auroc": agreement(*zip(*split, strict=True), "binary", on_composite_scale=False)["auroc"],
        }  # fmt: skip
    good = [i for i, lab in enumerate(labels) if lab.get(binary) == 1]
    out["good"] = len(good)
    out["critical_failures_on_good"] = (
        round(sum(1 for i in good if judged[i]["critical_failures"]) / len(good), 4)
        if good
        else None
    )
    out["passed_good"] = (
        round(sum(1 for i in good if judged[i]["passed"]) / len(good), 4) if good else None
    )
    if negative_turns is not None:
        out["negative_turns_on_good"] = round(
            sum(negative_turns[i] for i in good) / len(good), 4) if good else None  # fmt: skip
    return out
