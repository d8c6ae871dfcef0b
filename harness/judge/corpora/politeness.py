"""The Stanford Politeness Corpus (Danescu-Niculescu-Mizil et al., ACL 2013): requests from
Wikipedia editors' talk pages and Stack Exchange, each rated for politeness by five annotators.
Published as wikipedia.annotated.csv and stack-exchange.annotated.csv with the columns
Community, Id, Request, Score1-5, TurkId1-5 and Normalized Score."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from harness.errors import SpecError

SOURCE = (
    "Stanford Politeness Corpus (ConvoKit; a copy at github.com/extendann/Politeness-Detection)"
)
LICENCE = "CC BY 4.0"
ABOUT = "10,956 requests (Wikipedia, Stack Exchange), politeness by five annotators"
FILES = ("wikipedia.annotated.csv", "stack-exchange.annotated.csv")
COLUMNS = {"Id", "Request", "Normalized Score"}


def _quartiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]


def load(folder: Path) -> list[dict[str, Any]]:
    """One transcript per request, the request as an agent turn (there is no turn before it).
    `politeness` is the normalised score; `polite` is 1 in each community's top quartile and 0
    in its bottom quartile, the split the corpus's authors used."""
    found = [folder / name for name in FILES if (folder / name).exists()]
    if not found:
        raise SpecError(folder, f"neither {' nor '.join(FILES)} is here")
    out = []
    for path in found:
        rows = []
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if missing := COLUMNS - set(reader.fieldnames or []):
                raise SpecError(path, f"missing columns {sorted(missing)}", line=1)
            for number, row in enumerate(reader, start=2):
                try:
                    rows.append((row, float(row["Normalized Score"])))
                except ValueError:
                    raise SpecError(path, "Normalized Score is not a number", line=number) from None
        low, high = _quartiles([score for _, score in rows])
        community = path.name.split(".")[0]
        for row, score in rows:
            labels: dict[str, Any] = {"politeness": score}
            if score >= high or score <= low:
                labels["polite"] = int(score >= high)
            out.append({
                "id": f"politeness-{community}-{row['Id']}",
                "turns": [{"role": "agent", "text": row["Request"]}],
                "meta": {"corpus": "politeness", "community": community, "labels": labels},
            })  # fmt: skip
    return out
