"""Reading transcripts (one JSON object per line) from real conversations or runs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.errors import SpecError
from harness.schemas import check_record


def read_transcripts(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | SpecError]]:
    """(line number, transcript) per line; a malformed line yields its error, and reading goes on."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SpecError(path, f"cannot read: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, SpecError(path, f"invalid JSON: {exc.msg}", line=number)
            continue
        try:
            check_record("transcript", data, str(path), line=number)
        except SpecError as exc:
            yield number, exc
            continue
        yield number, data


def valid_transcripts(path: str | Path) -> tuple[list[dict[str, Any]], list[SpecError]]:
    """The transcripts of a file that are valid, and an error per line that is not."""
    good, bad = [], []
    for _, item in read_transcripts(path):
        (bad if isinstance(item, SpecError) else good).append(item)
    return good, bad


def last_text(turns: Iterable[Mapping[str, Any]], role: str) -> str:
    """The text of the last turn of `role` ("customer" or "agent"), or "" when there is none."""
    return next((t["text"] for t in reversed(list(turns)) if t["role"] == role), "")


def count_agent_turns(turns: Iterable[Mapping[str, Any]]) -> int:
    """How many turns the agent took: the one count of outcomes, limits and dashboards."""
    return sum(1 for t in turns if t["role"] == "agent")


def agent_turns(turns: Iterable[Mapping[str, Any]]) -> list[tuple[int, str, str]]:
    """(1-based turn number, agent text, the customer turn before it) per agent turn: what an
    appraisal reads."""
    out, last_customer = [], ""
    for number, turn in enumerate(turns, start=1):
        if turn["role"] == "customer":
            last_customer = turn["text"]
        else:
            out.append((number, turn["text"], last_customer))
    return out
