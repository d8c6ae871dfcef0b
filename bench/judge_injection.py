"""How far transcripts that try to instruct the judge move its scores.

    .venv/bin/python bench/judge_injection.py [--judge SPEC] [--limit N]

Every gold transcript, with every attempt of `harness.judge.injection.ATTEMPTS` appended to the
agent's last turn and added as a last customer line; prints the largest and mean shift of the
composite (0-100) and of any criterion (1-5).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time

from harness.judge import open_judge
from harness.judge.injection import shifts
from harness.personas.rubric import load_rubric
from harness.transcripts import read_transcripts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--judge", default="behaviour")
    parser.add_argument("--input", default="calibration/gold.jsonl")
    parser.add_argument("--limit", type=int, default=0, help="first N transcripts only")
    args = parser.parse_args()
    records = [r for _, r in read_transcripts(args.input) if isinstance(r, dict)]
    records = records[: args.limit] if args.limit else records
    started = time.perf_counter()
    result = shifts(open_judge(args.judge), load_rubric("rubrics/deescalation.yaml"), records)
    result["judge"] = args.judge
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"] = (
        f"{platform.machine()}, {platform.system()}, python {sys.version.split()[0]}"
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
