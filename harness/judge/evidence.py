"""Checking that an evidence quote is really in the agent turn it names."""

from __future__ import annotations

import re

from harness.judge.base import Conversation, Evidence

_SPACE = re.compile(r"\s+")
# typographic variants a model may write for what the transcript spells plainly
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-"})


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_FOLD)).strip().casefold()


def verified(
    conversation: Conversation, turn: int, quote: str, behaviour: str | None = None
) -> Evidence:
    """The evidence, marked `found` only when `quote` is non-empty and occurs in agent turn
    `turn` (1-based) after whitespace normalisation; a quote from a customer turn is not."""
    found = False
    if 1 <= turn <= len(conversation.turns) and quote.strip():
        target = conversation.turns[turn - 1]
        found = target["role"] == "agent" and normalise(quote) in normalise(target["text"])
    return Evidence(turn=turn, quote=quote, behaviour=behaviour, found=found)
