"""Which de-escalation behaviours an agent turn shows."""

from __future__ import annotations

from harness.appraisal.base import Appraisal, Appraiser
from harness.appraisal.lexicon import LexiconAppraiser
from harness.errors import DeescError

DEFAULT_APPRAISAL = "lexicon"


def open_appraiser(name: str = DEFAULT_APPRAISAL) -> Appraiser:
    if name == "lexicon":
        return LexiconAppraiser()
    raise DeescError(f"unknown appraisal {name!r}; known: lexicon")


__all__ = ["DEFAULT_APPRAISAL", "Appraisal", "Appraiser", "LexiconAppraiser", "open_appraiser"]
