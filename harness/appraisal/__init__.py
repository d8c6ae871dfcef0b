"""Which de-escalation behaviours an agent turn shows."""

from __future__ import annotations

from harness.appraisal.base import Appraisal, Appraiser
from harness.appraisal.lexicon import LexiconAppraiser
from harness.errors import DeescError

DEFAULT_APPRAISAL = "lexicon"


APPRAISALS = ("lexicon", "classifier")


def open_appraiser(name: str = DEFAULT_APPRAISAL) -> Appraiser:
    """`lexicon`: phrase patterns (the default until the classifier meets its quality target);
    `classifier`: the learned one, after `deesc appraisal train`."""
    if name == "lexicon":
        return LexiconAppraiser()
    if name == "classifier":
        from harness.appraisal.classifier import ClassifierAppraiser

        return ClassifierAppraiser()
    raise DeescError(f"unknown appraisal {name!r}; known: {', '.join(APPRAISALS)}")


__all__ = [
    "APPRAISALS",
    "DEFAULT_APPRAISAL",
    "Appraisal",
    "Appraiser",
    "LexiconAppraiser",
    "open_appraiser",
]
