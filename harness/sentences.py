"""Splitting a turn into sentences, words and the numbers it states: the one rule the
simulator, the appraisals and the checks on customer lines share."""

from __future__ import annotations

import re
from collections.abc import Iterable

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


# a turn says again what an earlier one said when this share of its word triples (or, for a
# turn under three words, all of it) is in that earlier turn: one pasted paragraph sent turn
# after turn, with a word changed or a sentence added, still repeats
REPEAT_SHARE = 0.8


def _triples(text: str) -> set[tuple[str, ...]]:
    said = words(text)
    if len(said) < 3:
        return {tuple(said)} if said else set()
    return {tuple(said[i : i + 3]) for i in range(len(said) - 2)}


def repeats(text: str, earlier: Iterable[str]) -> bool:
    """Whether `text` mostly says again what one of the `earlier` turns said."""
    mine = _triples(text)
    if not mine:
        return False
    return any(len(mine & _triples(e)) >= REPEAT_SHARE * len(mine) for e in earlier)


# a number with letters, a currency sign or three or more digits: a reference or an amount
_FACT_TOKEN = re.compile(r"[$£€]?\b[A-Za-z]*[-#]?\d[\w-]*\b")


def fact_tokens(text: str) -> set[str]:
    """The references and amounts a text states (an order number, "$89.99", "NW-448120"),
    lower case without currency signs: for checking that a line says no number it may not."""
    out = set()
    for token in _FACT_TOKEN.findall(text):
        digits = sum(ch.isdigit() for ch in token)
        if digits >= 3 or any(ch.isalpha() for ch in token) or token[:1] in "$£€":
            out.add(token.lower().strip("$£€#-"))
    return out
