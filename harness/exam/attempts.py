"""The rule that turns an attempt's conversations into an exam result."""

from __future__ import annotations

from typing import Any


def attempt_result(records: list[dict[str, Any]], pass_mark: float) -> tuple[float | None, bool]:
    """The mean composite of an attempt's conversations (one the judge could not score counts
    0); it passes at the exam's pass mark, with no critical failure in any conversation."""
    if not records:
        return None, False
    mean = round(sum(r.get("composite") or 0.0 for r in records) / len(records), 2)
    critical = any(r.get("critical_failures") for r in records)
    return mean, mean >= pass_mark and not critical
