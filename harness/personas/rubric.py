"""Rubric files: anchored 1-5 criteria, outcome weights, critical failures and a pass mark,
validated into a frozen `Rubric`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.personas.builtin import rubric_file
from harness.personas.documents import check_schema, content_hash, unique_ids
from harness.sourcefile import read_document

# the id of a shipped rubric (or a path): found from any folder
DEFAULT_RUBRIC = "deescalation"


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    description: str
    weight: float
    anchors: dict[str, str]
    applies_to: tuple[str, ...] | None
    evidence_behaviours: tuple[str, ...]
    penalty_behaviours: tuple[str, ...]
    tip: str | None = None
    occasion: str = "always"  # when the conversation gives occasion for it (schema: occasion)
    nothing_shown: float = 3.0  # the score with occasion and nothing shown (3: as rubrics 1.0-1.1)

    def applies(self, archetype: str | None) -> bool:
        """Criteria with no `applies_to` apply everywhere, also when the archetype is unknown."""
        if self.applies_to is None:
            return True
        return archetype is not None and archetype in self.applies_to


@dataclass(frozen=True)
class CriticalFailure:
    id: str
    description: str
    behaviours: tuple[str, ...]


@dataclass(frozen=True)
class OutcomeWeights:
    criteria: float
    anger_reduction: float
    resolved: float


@dataclass(frozen=True)
class Rubric:
    id: str
    version: str
    title: str
    criteria: tuple[Criterion, ...]
    outcome_weights: OutcomeWeights
    critical_failures: tuple[CriticalFailure, ...]
    pass_mark: float
    source: str
    content_hash: str
    pass_requires_help: bool = False


def load_rubric(path: str | Path) -> Rubric:
    """A rubric from its file, or from the id of a shipped rubric (`deescalation`)."""
    doc = read_document(rubric_file(path))
    check_schema(doc, "rubric")
    d = doc.data
    unique_ids(doc, d["criteria"], ["criteria"], "criterion")
    unique_ids(doc, d["critical_failures"], ["critical_failures"], "critical failure")
    ow = d["outcome_weights"]
    return Rubric(
        id=d["id"],
        version=d["version"],
        title=d["title"],
        criteria=tuple(
            Criterion(
                id=c["id"],
                title=c["title"],
                description=c["description"],
                weight=float(c["weight"]),
                anchors=dict(c["anchors"]),
                applies_to=tuple(c["applies_to"]) if "applies_to" in c else None,
                evidence_behaviours=tuple(c.get("evidence_behaviours", [])),
                penalty_behaviours=tuple(c.get("penalty_behaviours", [])),
                tip=c.get("tip"),
                occasion=c.get("occasion", "always"),
                nothing_shown=float(c.get("nothing_shown", 3.0)),
            )
            for c in d["criteria"]
        ),
        outcome_weights=OutcomeWeights(
            float(ow["criteria"]), float(ow["anger_reduction"]), float(ow["resolved"])
        ),
        critical_failures=tuple(
            CriticalFailure(f["id"], f["description"], tuple(f["behaviours"]))
            for f in d["critical_failures"]
        ),
        pass_mark=float(d["pass_mark"]),
        source=str(doc.path),
        content_hash=content_hash(d),
        pass_requires_help=bool(d.get("pass_requires_help", False)),
    )
