"""How fast `deesc leaderboard` lists many runs, with and without its SQLite index.

    .venv/bin/python bench/leaderboard_index.py [--runs 300] [--source RUN_DIR]

Copies one finished run N times into a temporary folder, then times: the first listing (every
run read and indexed), a second listing (nothing changed: the index answers), a listing after
one run changed, and, for reference, reading every run's episodes without an index.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path

from harness.results.index import RunIndex, run_dirs
from harness.results.leaderboard import leaderboard
from harness.results.store import load_run


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def listing(folder: Path) -> int:
    with RunIndex(folder) as index:
        index.refresh()
        return len(leaderboard(index))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--source", default="tests/data/golden/run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.runs):
            shutil.copytree(args.source, folder / f"run-{i:04d}")
        episodes = sum(len(load_run(d).episodes) for d in list(run_dirs(folder))[:1]) * args.runs
        cold, rows = timed(lambda: listing(folder))
        warm, _ = timed(lambda: listing(folder))
        (folder / "run-0000" / "manifest.json").touch()
        one, _ = timed(lambda: listing(folder))
        scan, _ = timed(lambda: [load_run(d) for d in run_dirs(folder)])
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, python {platform.python_version()}"
    )
    print(f"{args.runs} runs, {episodes} episodes, {rows} leaderboard rows")
    print(f"first listing (index built): {cold:.2f} s")
    print(f"second listing (unchanged):  {warm:.3f} s  ({cold / warm:.0f}x faster)")
    print(f"one run changed:             {one:.3f} s")
    print(f"reading every run, no index: {scan:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
