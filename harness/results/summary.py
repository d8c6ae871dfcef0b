"""summary.json: per agent, per persona and per criterion, each mean with a bootstrap interval,
outcome rates, pass rate and pass^k. Built from a run's episodes alone, so `deesc report`
rebuilds it at any time and gets the same file."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from harness.fileio import atomic_write_json, read_json_record
from harness.records import EpisodeRecord
from harness.results.store import Run
from harness.schemas import check_record
from harness.stats import INTERVAL, mean_interval, pass_hat_k

FORMAT_VERSION = 1
SUMMARY = "summary.json"
# each a mean with an interval; booleans are rates
METRICS = ("composite", "passed", "resolved", "hung_up", "escalated", "anger_drop", "turns")


def episode_metrics(episode: EpisodeRecord) -> dict[str, float | None]:
    """The numbers a summary averages, from one episode (None where format 1 had no judge)."""
    outcome = episode["outcome"]
    return {
        "composite": episode.get("composite"),
        "passed": None if "passed" not in episode else float(episode["passed"]),
        "resolved": float(outcome["resolved"]),
        "hung_up": float(outcome["hung_up"]),
        "escalated": float(outcome["escalated"]),
        "anger_drop": float(outcome["anger_start"]) - float(outcome["anger_end"]),
        "turns": float(outcome["turns"]),
    }


def criterion_values(episodes: Iterable[dict[str, Any]]) -> dict[str, list[float]]:
    values: dict[str, list[float]] = defaultdict(list)
    for episode in episodes:
        for criterion, score in (episode.get("scores") or {}).items():
            if score.get("value") is not None:
                values[criterion].append(float(score["value"]))
    return dict(sorted(values.items()))


def group_stats(episodes: list[dict[str, Any]], seed: int = 0) -> dict[str, Any]:
    rows = [episode_metrics(e) for e in episodes]
    out: dict[str, Any] = {"n": len(episodes)}
    for name in METRICS:
        out[name] = mean_interval([r[name] for r in rows if r[name] is not None], seed)
    out["criteria"] = {c: mean_interval(v, seed) for c, v in criterion_values(episodes).items()}
    out["end_reasons"] = dict(sorted(Counter(e["end_reason"] for e in episodes).items()))
    faults = [int(e["outcome"].get("simulator_faults", 0)) for e in episodes]
    kinds: Counter = Counter()
    for e in episodes:
        kinds.update(e["outcome"].get("fault_kinds", {}))
    out["simulator_faults"] = {"total": sum(faults), "episodes": sum(1 for f in faults if f),
                               "kinds": dict(sorted(kinds.items()))}  # fmt: skip
    return out


def is_faulty(episode: dict[str, Any]) -> bool:
    """An episode the simulator got wrong somewhere (a customer line with a fault)."""
    return int(episode["outcome"].get("simulator_faults", 0)) > 0


def _pass_hat(episodes: list[dict[str, Any]]) -> dict[str, float | None]:
    """pass^k for k = 1 .. the most repeats any persona has; a persona is a task."""
    tries: dict[str, list[bool]] = defaultdict(list)
    for e in episodes:
        if "passed" in e:
            tries[e["persona_id"]].append(bool(e["passed"]))
    trials = [(len(t), sum(t)) for t in tries.values()]
    most = max((n for n, _ in trials), default=0)
    return {str(k): pass_hat_k(trials, k) for k in range(1, most + 1)}


def build_summary(run: Run, seed: int = 0, exclude_faulty: bool = False) -> dict[str, Any]:
    """`exclude_faulty` leaves out episodes with a simulator fault (the agent is then judged
    only where the simulator behaved); their count is reported either way."""
    manifest = run.manifest
    kept = [e for e in run.episodes if not (exclude_faulty and is_faulty(e))]
    by_agent: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for episode in kept:
        by_agent[episode["agent"]].append(episode)
    agents = {}
    for agent, episodes in sorted(by_agent.items()):
        by_persona: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in episodes:
            by_persona[e["persona_id"]].append(e)
        agents[agent] = {
            "overall": group_stats(episodes, seed),
            "pass_hat_k": _pass_hat(episodes),
            "personas": {p: group_stats(eps, seed) for p, eps in sorted(by_persona.items())},
        }
    return {
        "format_version": FORMAT_VERSION,
        "run_id": manifest["run_id"],
        "started": manifest["started"],
        "finished": manifest["finished"],
        "rubric": manifest.get("rubric"),
        "judge": manifest["config"].get("judge"),
        "personas_hash": manifest["personas_hash"],
        "episodes": len(kept),
        "episodes_planned": manifest["episodes_planned"],
        "faulty_episodes": sum(1 for e in run.episodes if is_faulty(e)),
        "excluded_faulty": exclude_faulty,
        "interval": {**INTERVAL, "seed": seed},
        "agents": agents,
    }


def write_summary(run: Run, seed: int = 0, exclude_faulty: bool = False) -> dict[str, Any]:
    summary = build_summary(run, seed, exclude_faulty)
    path = run.dir / SUMMARY
    check_record("summary", summary, str(path))
    atomic_write_json(path, summary)
    return summary


def read_summary(run_dir: str | Path) -> dict[str, Any]:
    missing = f"{run_dir}: no {SUMMARY}; build it with: deesc report {run_dir}"
    return read_json_record(Path(run_dir) / SUMMARY, "summary", missing)
