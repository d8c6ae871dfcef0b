"""Feedback for a trainee: per criterion the score, the reason in words and the quotes, and for
each weak criterion one tip from the rubric, pointed at the moment of this conversation where it
applies. Anchors stay with trainers."""

from __future__ import annotations

import re
from typing import Any

from harness.behaviours import BEHAVIOURS
from harness.personas.rubric import Criterion, Rubric

WEAK_BELOW = 3.5  # on 1-5: under "3 = the basics, nothing more" and a half
QUOTE_CHARS = 160

# a rubric tip's example is written for one customer ("So you were charged twice in March ..."):
# shown under another customer's conversation it misleads, so the tip keeps its advice and the
# conversation supplies the moment instead
_EXAMPLE = re.compile(r"\s*:\s*[\"“].*$", re.DOTALL)

# where in a conversation a criterion's advice applies, by its first evidence behaviour: the
# customer's first line (what the problem is), their angriest (the feeling to answer), or the
# trainee's last reply (how it was closed)
_AT_LAST_REPLY = frozenset({"confirm_resolution", "set_expectation", "thank_customer"})
_AT_ANGRIEST = frozenset({"acknowledge_feelings", "set_boundary_respectfully", "apologise"})


def feedback(record: dict[str, Any], rubric: Rubric) -> list[dict[str, Any]]:
    """One item per scored criterion, weakest first: `criterion`, `title`, `value`, `reason`
    (words, never behaviour ids), `quotes` [(turn, text)], `weak`, and for a weak one `tip` and
    `moment` ({turn, who: customer|trainee, text}: where in this conversation it applies)."""
    by_id = {c.id: c for c in rubric.criteria}
    turns = record.get("turns") or []
    words = record.get("judge") == "behaviour"  # other judges write their own reasons
    items = []
    for criterion_id, score in (record.get("scores") or {}).items():
        criterion = by_id.get(criterion_id)
        if criterion is None or score.get("value") is None:
            continue
        weak = score["value"] < WEAK_BELOW
        quotes = [(e["turn"], e["quote"]) for e in score["evidence"] if e.get("found")]
        where = moment(criterion, turns) if weak else None
        if where and where["who"] == "trainee" and where["turn"] in {t for t, _ in quotes}:
            where = None  # the quote from that reply already shows where
        items.append(
            {
                "criterion": criterion_id,
                "title": criterion.title,
                "value": score["value"],
                "reason": reason(criterion, turns) if words else score.get("rationale", ""),
                "quotes": quotes,
                "weak": weak,
                "tip": advice(criterion) if weak else None,
                "moment": where,
            }
        )
    return sorted(items, key=lambda i: i["value"])


def reason(criterion: Criterion, turns: list[dict[str, Any]]) -> str:
    """What the agent's turns showed for this criterion, in the taxonomy's words."""
    shown = _turns_showing(criterion.evidence_behaviours, turns)
    against = _turns_showing(criterion.penalty_behaviours, turns)
    parts = []
    if shown:
        parts.append("Seen: " + "; ".join(_said(b, ts) for b, ts in shown) + ".")
    else:
        parts.append(f"Not seen in these replies: {_lower_first(criterion.description)}")
    if against:
        parts.append("Against it: " + "; ".join(_said(b, ts) for b, ts in against) + ".")
    return " ".join(parts)


def advice(criterion: Criterion) -> str:
    tip = criterion.tip or criterion.description
    general = _EXAMPLE.sub("", tip).rstrip()
    return general if general.endswith((".", "!", "?")) else general + "."


def moment(criterion: Criterion, turns: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The turn of this conversation the tip is about: the trainee's reply that went against
    the criterion, else the customer line (or the last reply) where it was called for."""
    for _, numbers in _turns_showing(criterion.penalty_behaviours, turns):
        return _at(turns, numbers[0], "trainee")
    customer = [n for n, t in enumerate(turns, 1) if t["role"] == "customer" and t.get("text")]
    agent = [n for n, t in enumerate(turns, 1) if t["role"] == "agent" and t.get("text")]
    first = criterion.evidence_behaviours[0] if criterion.evidence_behaviours else ""
    if first in _AT_LAST_REPLY and agent:
        return _at(turns, agent[-1], "trainee")
    if first in _AT_ANGRIEST and customer:
        angriest = max(customer, key=lambda n: (turns[n - 1].get("state", {}).get("anger", 0), -n))
        return _at(turns, angriest, "customer")
    return _at(turns, customer[0], "customer") if customer else None


def _turns_showing(
    behaviours: tuple[str, ...] | list[str], turns: list[dict[str, Any]]
) -> list[tuple[str, list[int]]]:
    """(behaviour, the agent turns showing it) for each behaviour that was shown."""
    out = []
    for behaviour in behaviours:
        numbers = [
            n
            for n, t in enumerate(turns, 1)
            if t["role"] == "agent" and behaviour in (t.get("behaviours") or ())
        ]
        if numbers:
            out.append((behaviour, numbers))
    return out


def _said(behaviour: str, numbers: list[int]) -> str:
    known = BEHAVIOURS.get(behaviour)
    words = known.description if known else behaviour.replace("_", " ")
    if len(numbers) == 1:
        return f"{words} (turn {numbers[0]})"
    return f"{words} (turns {', '.join(map(str, numbers[:-1]))} and {numbers[-1]})"


def _at(turns: list[dict[str, Any]], number: int, who: str) -> dict[str, Any]:
    text = " ".join(turns[number - 1]["text"].split())
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return {"turn": number, "who": who, "text": text}


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def moment_text(item: dict[str, Any]) -> str:
    m = item.get("moment")
    if not m:
        return ""
    who = "you wrote" if m["who"] == "trainee" else "the customer wrote"
    return f"In this conversation, turn {m['turn']}, {who}: “{m['text']}”"


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
        lines.append(f"{mark} {item['title']:<28} {item['value']:.1f}  {item['reason']}")
        for turn, quote in item["quotes"]:
            lines.append(f'      turn {turn}: "{quote}"')
        if item["tip"]:
            lines.append(f"      Tip: {item['tip']}")
            if where := moment_text(item):
                lines.append(f"      {where}")
    return "\n".join(lines)
