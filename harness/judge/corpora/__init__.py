"""Public human-rated conversations, read from a local path in their published format, so that
the judge is measured on text nobody here wrote (`deesc calibrate --corpus NAME --path DIR`,
`bench/real_text.py`). Nothing of them is shipped or copied into the repository.

Each loader turns its corpus into transcripts (the format `deesc judge` reads) whose
`meta.labels` hold the people's ratings, numeric and as a good/poor split, and
`meta.corpus` the corpus name. The development corpora are listed here; ESConv and
FailedESConv, AnnoMI, PAIR and MAIA-DQE are kept aside for the project's independent check
and have no loader on purpose: nothing here may be tuned on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import DeescError
from harness.judge.corpora import epitome, politeness, uss


@dataclass(frozen=True)
class Corpus:
    name: str
    load: Callable[[Path], list[dict[str, Any]]]
    numeric: str  # the people's rating, for rank correlation
    binary: str  # good (1) against poor (0), for AUROC and the false-alarm rate
    source: str
    licence: str
    about: str


CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in (
        Corpus("epitome", epitome.load, "empathy", "empathic", epitome.SOURCE, epitome.LICENCE,
               epitome.ABOUT),
        Corpus("politeness", politeness.load, "politeness", "polite", politeness.SOURCE,
               politeness.LICENCE, politeness.ABOUT),
        Corpus("uss", uss.load, "satisfaction", "satisfied", uss.SOURCE, uss.LICENCE, uss.ABOUT),
    )
}  # fmt: skip


def load_corpus(name: str, path: str | Path) -> list[dict[str, Any]]:
    if name not in CORPORA:
        raise DeescError(f"unknown corpus {name!r}; known: {', '.join(CORPORA)}")
    folder = Path(path)
    if not folder.exists():
        raise DeescError(f"{folder}: no such folder (the {name} corpus: {CORPORA[name].source})")
    return CORPORA[name].load(folder)
