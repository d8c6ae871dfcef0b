"""Splitting a turn into sentences: the one rule the simulator and the appraisals share."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.?!])\s+")


def split_sentences(text: str) -> list[str]:
    """Non-empty sentences, split after '.', '?' or '!' followed by whitespace."""
    return [s.strip() for s in _BOUNDARY.split(text) if s.strip()]
