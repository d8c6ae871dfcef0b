"""`deesc leaderboard DIR`: every run under a folder, one row per agent, rubric version and
judge (scores under another rubric or judge mean something else), pooled over runs."""

from __future__ import annotations

import csv
import io
from typing import Any

from harness.results.index import RunIndex
from harness.stats import interval_text, mean_interval

FORMAT_VERSION = 1
# sort keys; numbers sort best first (hung_up: fewest first)
SORT_KEYS = ("composite", "pass_rate", "resolved", "hung_up", "anger_drop", "episodes", "agent",
             "last_run")  # fmt: skip
_ASCENDING = {"agent", "hung_up"}

_QUERY = """
SELECT e.agent, r.rubric_id, r.rubric_version, r.rubric_sha256, r.judge,
       COUNT(DISTINCT r.path), COUNT(DISTINCT e.persona_id), MAX(r.started),
       GROUP_CONCAT(e.composite, ','), AVG(e.passed), AVG(e.resolved), AVG(e.hung_up),
       AVG(e.anger_drop), COUNT(*)
FROM episodes e JOIN runs r ON r.path = e.run_path
GROUP BY e.agent, r.rubric_id, r.rubric_version, r.rubric_sha256, r.judge
"""


def leaderboard(index: RunIndex, sort: str = "composite") -> list[dict[str, Any]]:
    rows = []
    for (agent, rubric_id, version, sha, judge, runs, personas, last, composites, pass_rate,
         resolved, hung_up, anger_drop, n) in index.conn.execute(_QUERY):  # fmt: skip
        values = [float(v) for v in composites.split(",")] if composites else []
        rows.append(
            {
                "agent": agent,
                "rubric": f"{rubric_id}@{version}" if rubric_id else None,
                "rubric_sha256": sha,
                "judge": judge,
                "runs": runs,
                "personas": personas,
                "episodes": n,
                "composite": mean_interval(values),
                "pass_rate": None if pass_rate is None else round(pass_rate, 4),
                "resolved": round(resolved, 4),
                "hung_up": round(hung_up, 4),
                "anger_drop": round(anger_drop, 4),
                "last_run": last,
            }
        )
    return sort_rows(rows, sort)


def sort_rows(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    def value(row: dict[str, Any]) -> Any:
        v = row[key]["mean"] if key == "composite" else row[key]
        return (v is None, v if key in _ASCENDING else (-v if isinstance(v, int | float) else v))

    if key == "last_run":  # newest first
        return sorted(rows, key=lambda r: r["last_run"] or "", reverse=True)
    return sorted(rows, key=value)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0%}"


COLUMNS = ("rank", "agent", "rubric", "judge", "runs", "personas", "episodes", "composite [95% CI]",
           "pass rate", "resolved", "hung up", "anger drop", "last run")  # fmt: skip


def flat_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Rows as text cells, in COLUMNS order (the table and the CSV)."""
    return [
        [str(i), r["agent"], (r["rubric"] or "-") + (f" ({r['rubric_sha256'][:8]})" if r["rubric_sha256"] else ""),
         r["judge"] or "-", str(r["runs"]), str(r["personas"]), str(r["episodes"]),
         interval_text(r["composite"]), _pct(r["pass_rate"]), _pct(r["resolved"]), _pct(r["hung_up"]),
         f"{r['anger_drop']:.1f}", r["last_run"] or "-"]
        for i, r in enumerate(rows, start=1)
    ]  # fmt: skip


def as_csv(rows: list[dict[str, Any]]) -> str:
    """One line per row with plain numbers (the interval in its own columns), for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rank", "agent", "rubric", "rubric_sha256", "judge", "runs", "personas",
                     "episodes", "composite", "composite_low", "composite_high", "pass_rate",
                     "resolved", "hung_up", "anger_drop", "last_run"])  # fmt: skip
    for i, r in enumerate(rows, start=1):
        c = r["composite"]
        writer.writerow([i, r["agent"], r["rubric"], r["rubric_sha256"], r["judge"], r["runs"],
                         r["personas"], r["episodes"], c["mean"], c["low"], c["high"],
                         r["pass_rate"], r["resolved"], r["hung_up"], r["anger_drop"],
                         r["last_run"]])  # fmt: skip
    return out.getvalue()
