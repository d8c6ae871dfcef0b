"""Feedback for a trainee: per criterion the score, the judge's reason and quotes, and for each
weak criterion one concrete tip from the rubric. Anchors stay with trainers."""

from __future__ import annotations

from typing import Any

from harness.personas.rubric import Rubric

WEAK_BELOW = 3.5  # on 1-5: under "3 = the basics, nothing more" and a half


def feedback(record: dict[str, Any], rubric: Rubric) -> list[dict[str, Any]]:
    by_id = {c.id: c for c in rubric.criteria}
    items = []
    for criterion_id, score in (record.get("scores") or {}).items():
        criterion = by_id.get(criterion_id)
        if criterion is None or score.get("value") is None:
            continue
        weak = score["value"] < WEAK_BELOW
        items.append(
            {
                "criterion": criterion_id,
                "title": criterion.title,
                "value": score["value"],
                "rationale": score["rationale"],
                "quotes": [(e["turn"], e["quote"]) for e in score["evidence"] if e.get("found")],
                "weak": weak,
                "tip": (criterion.tip or criterion.description) if weak else None,
            }
        )
    return sorted(items, key=lambda i: i["value"])


def feedback_text(record: dict[str, Any], rubric: Rubric) -> str:
    verdict = "PASSED" if record.get("passed") else "not passed"
    lines = [
        f"Composite {record.get('composite')} / 100 (pass mark {rubric.pass_mark:g}): {verdict}",
        f"The conversation ended: {record['end_reason']}; customer anger "
        f"{record['outcome']['anger_start']:g} -> {record['outcome']['anger_end']:g}",
    ]
    for failure in record.get("critical_failures") or []:
        lines.append(f"Critical failure: {failure}")
    lines.append("")
    for item in feedback(record, rubric):
        mark = "!" if item["weak"] else " "
        lines.append(f"{mark} {item['title']:<28} {item['value']:.1f}  {item['rationale']}")
        for turn, quote in item["quotes"]:
            lines.append(f'      turn {turn}: "{quote}"')
        if item["tip"]:
            lines.append(f"      Tip: {item['tip']}")
    return "\n".join(lines)
