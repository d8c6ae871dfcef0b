"""The customer's mood as their own words show it, for conversations that carry no simulated
outcome (real transcripts): how angry the customer sounds at the start and at the end, read by
the customer critic's anger head (`sim/critic.py`), the reader the simulator uses to choose
lines in the mood its state asks for.

A simulated episode's outcome says how the customer's anger went; a real chat says it only in
the customer's words. A customer who ends calm and thanking was de-escalated whatever the
agent's phrases were, and one who ends curt or angry was not: this is the outcome part of a
transcript's composite (`verdict.py`, `calm_at_end`), weighted as the rubric weights the
customer's anger. It needs a customer line after the agent first spoke; a lone request or a
post with one reply (nothing said back) has none, and the composite is the criteria alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from statistics import fmean
from typing import Any

from harness.judge.base import Conversation

LINES = 2  # the mood at either end is the mean over this many customer lines


def _customer_lines(conversation: Conversation) -> tuple[list[str], list[str]]:
    """(the customer's first lines, their lines after the agent first spoke)."""
    spoken = False
    first: list[str] = []
    after: list[str] = []
    for turn in conversation.turns:
        if turn["role"] == "agent":
            spoken = True
        elif turn["role"] == "customer" and turn["text"].strip():
            (after if spoken else first).append(turn["text"])
    return (first or after)[:LINES], after[-LINES:]


def read_moods(
    conversations: Sequence[Conversation], critic: Any | None = None
) -> list[Conversation]:
    """Each conversation with `mood` read from its customer lines, in one batch; those with a
    simulated outcome, a mood already read or no customer line after the agent spoke are
    returned as they are."""
    pending = [
        (i, first, last)
        for i, c in enumerate(conversations)
        if c.outcome is None and c.mood is None
        for first, last in [_customer_lines(c)]
        if last
    ]
    out = list(conversations)
    if not pending:
        return out
    if critic is None:
        from harness.sim.customer import shipped_critic

        critic = shipped_critic()
    angers = iter(critic.anger([line for _, first, last in pending for line in (*first, *last)]))
    for i, first, last in pending:
        start = [next(angers) for _ in first]
        end = [next(angers) for _ in last]
        mood = {"anger_start": round(fmean(start), 2), "anger_end": round(fmean(end), 2),
                "lines": len(last)}  # fmt: skip
        out[i] = replace(conversations[i], mood=mood)
    return out
