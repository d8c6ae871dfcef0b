"""User Satisfaction Simulation (Sun et al., SIGIR 2021): task-oriented dialogues (SGD,
MultiWOZ 2.1, ReDial, CCPE) whose user turns and whole dialogues were rated by annotators for
satisfaction, 1-5. Published as one text file per source: tab-separated lines of role, text,
action and comma-separated ratings, dialogues separated by blank lines, each ending with a
`USER<TAB>OVERALL` line that carries the dialogue's ratings."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from harness.errors import SpecError

SOURCE = "github.com/sunnweiwei/user-satisfaction-simulation, dataset/{SGD,MWOZ,ReDial,CCPE}.txt"
LICENCE = "no licence file in the repository (research data; SGD CC BY-SA 4.0, MultiWOZ MIT)"
ABOUT = "3,500 task-oriented dialogues, overall user satisfaction 1-5 by annotators"
SOURCES = ("SGD", "MWOZ", "ReDial", "CCPE")  # JDDC is Chinese: not read


def load(folder: Path) -> list[dict[str, Any]]:
    """One transcript per dialogue: USER turns as the customer's, SYSTEM turns as the agent's.
    `satisfaction` is the mean overall rating; `satisfied` is 1 when it rounds to 4 or 5 and 0
    when it rounds to 1 or 2 (the many 3s are left out)."""
    found = [
        (name, folder / f"{name}.txt") for name in SOURCES if (folder / f"{name}.txt").exists()
    ]
    if not found:
        raise SpecError(folder, f"none of {', '.join(s + '.txt' for s in SOURCES)} is here")
    out = []
    for name, path in found:
        turns: list[dict[str, str]] = []
        start = 1
        lines = [*path.read_text(encoding="utf-8").splitlines(), ""]
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                if turns:
                    raise SpecError(path, "a dialogue without an OVERALL line", line=start)
                start = number + 1
                continue
            parts = line.split("\t")
            if len(parts) < 2 or parts[0] not in ("USER", "SYSTEM"):
                raise SpecError(
                    path, "expected ROLE<TAB>text with ROLE USER or SYSTEM", line=number
                )
            if parts[0] == "USER" and parts[1] == "OVERALL":
                try:
                    ratings = [int(x) for x in parts[3].split(",")]
                except (IndexError, ValueError):
                    raise SpecError(
                        path, "OVERALL needs its ratings, e.g. 3,4,3", line=number
                    ) from None
                mean = statistics.fmean(ratings)
                labels: dict[str, Any] = {"satisfaction": round(mean, 3)}
                if round(mean) != 3:
                    labels["satisfied"] = int(round(mean) >= 4)
                if any(t["role"] == "agent" for t in turns):
                    out.append({"id": f"uss-{name}-{len(out)}", "turns": turns,
                                "meta": {"corpus": "uss", "source": name, "labels": labels}})  # fmt: skip
                turns = []
                continue
            role = "customer" if parts[0] == "USER" else "agent"
            turns.append({"role": role, "text": parts[1]})
    return out
