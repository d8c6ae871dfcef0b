"""Splitting a turn into sentences (and words): the one rule the simulator, the appraisals and
the checks on customer lines share."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.?!])\s+")


def split_sentences(text: str) -> list[str]:
    """Non-empty sentences, split after '.', '?' or '!' followed by whitespace."""
    return [s.strip() for s in _BOUNDARY.split(text) if s.strip()]


# joints where people run two acts into one sentence; ", but" is left whole, because "we can't
# refund it, but I can repair it" is one act (a limit with an alternative)
_CLAUSE = re.compile(r"(?:;|,? - |, and |, so )\s*")


def split_clauses(text: str) -> list[str]:
    """The sentences of `text`, each cut further at the joints between independent clauses."""
    return [c.strip() for s in split_sentences(text) for c in _CLAUSE.split(s) if c.strip()]


_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """Lower-case words and numbers, punctuation dropped: for comparing what two lines say."""
    return _WORD.findall(text.lower())
