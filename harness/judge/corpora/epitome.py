"""EPITOME (Sharma et al., EMNLP 2020): Reddit mental-health support posts and responses, each
response rated by trained annotators for three empathy mechanisms, 0-2 each: emotional
reactions, interpretations, explorations. Published as three CSV files with the columns
sp_id, rp_id, seeker_post, response_post, level, rationales."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from harness.errors import SpecError

SOURCE = "github.com/behavioral-data/Empathy-Mental-Health, dataset/*-reddit.csv"
LICENCE = "Althoff research licences (academic; attribution only), in the repository"
ABOUT = "3,084 Reddit support responses, empathy 0-2 on three mechanisms"
FILES = {
    "emotional_reactions": "emotional-reactions-reddit.csv",
    "interpretations": "interpretations-reddit.csv",
    "explorations": "explorations-reddit.csv",
}
COLUMNS = {"sp_id", "rp_id", "seeker_post", "response_post", "level"}


def load(folder: Path) -> list[dict[str, Any]]:
    """One transcript per response rated on all three mechanisms: the seeker's post as the
    customer turn, the response as the agent's. `empathy` is the sum (0-6); `empathic` is 1
    for a sum of 3 or more and 0 for no empathy at all (the middle is left out)."""
    by_pair: dict[tuple[str, str], dict[str, Any]] = {}
    for mechanism, name in FILES.items():
        path = folder / name
        if not path.exists():
            raise SpecError(path, "file not found (EPITOME publishes three CSV files)")
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if missing := COLUMNS - set(reader.fieldnames or []):
                raise SpecError(path, f"missing columns {sorted(missing)}", line=1)
            for number, row in enumerate(reader, start=2):
                try:
                    level = int(row["level"])
                except ValueError:
                    raise SpecError(
                        path, f"level {row['level']!r} is not 0, 1 or 2", line=number
                    ) from None
                pair = by_pair.setdefault((row["sp_id"], row["rp_id"]), {
                    "seeker": row["seeker_post"], "response": row["response_post"], "levels": {}})  # fmt: skip
                pair["levels"][mechanism] = level
    out = []
    for (sp, rp), pair in sorted(by_pair.items()):
        if len(pair["levels"]) < len(FILES):
            continue
        total = sum(pair["levels"].values())
        labels: dict[str, Any] = {**pair["levels"], "empathy": total}
        if total >= 3 or total == 0:
            labels["empathic"] = int(total >= 3)
        out.append({
            "id": f"epitome-{sp}-{rp}",
            "turns": [{"role": "customer", "text": pair["seeker"]},
                      {"role": "agent", "text": pair["response"]}],
            "meta": {"corpus": "epitome", "labels": labels},
        })  # fmt: skip
    return out
