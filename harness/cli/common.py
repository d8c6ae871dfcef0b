"""What several commands share: reading transcripts with each bad line reported."""

from __future__ import annotations

import sys
from typing import Any

from harness.transcripts import valid_transcripts


def read_reporting_errors(path: str) -> tuple[list[dict[str, Any]], int]:
    """The valid transcripts of a JSONL file, each bad line reported on stderr with its number;
    and how many were bad."""
    good, bad = valid_transcripts(path)
    for error in bad:
        print(f"error {error}", file=sys.stderr)
    return good, len(bad)
