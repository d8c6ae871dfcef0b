"""Which de-escalation behaviours an agent turn shows."""

from __future__ import annotations

from harness.appraisal.base import Appraisal, Appraiser
from harness.appraisal.lexicon import LexiconAppraiser
from harness.errors import DeescError

DEFAULT_APPRAISAL = "classifier"


APPRAISALS = ("lexicon", "classifier")


def open_appraiser(name: str = DEFAULT_APPRAISAL) -> Appraiser:
    """`classifier`: the learned one (the default; trained on first use when missing);
    `lexicon`: phrase patterns, a fallback with no model, measured against the classifier."""
    if name == "lexicon":
        return LexiconAppraiser()
    if name == "classifier":
        from harness.appraisal.classifier import ClassifierAppraiser
        from harness.appraisal.training import ensure_trained

        # the default folder is kept current: trained first when missing or stale
        return ClassifierAppraiser(ensure_trained())
    raise DeescError(f"unknown appraisal {name!r}; known: {', '.join(APPRAISALS)}")


__all__ = [
    "APPRAISALS",
    "DEFAULT_APPRAISAL",
    "Appraisal",
    "Appraiser",
    "LexiconAppraiser",
    "open_appraiser",
]
