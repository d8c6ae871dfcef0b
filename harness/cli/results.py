"""`deesc report`, `compare`, `leaderboard` and `export`: what a finished run becomes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.fileio import atomic_write_json, atomic_write_text
from harness.results.tables import comparison_text, format_table


def _cmd_report(args: argparse.Namespace) -> int:
    from harness.results.outputs import write_outputs
    from harness.results.store import load_run

    summary, report = write_outputs(load_run(args.run), args.exclude_faulty)
    print(f"wrote {summary}\nwrote {report}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from harness.results.compare import compare_runs
    from harness.results.store import load_run
    from harness.schemas import check_record

    result = compare_runs(
        load_run(args.run_a), load_run(args.run_b), args.agent_a, args.agent_b,
        force=args.force, fail_if_worse=args.fail_if_worse, exclude_faulty=args.exclude_faulty,
    )  # fmt: skip
    check_record("compare", result, "comparison")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(comparison_text(result))
    if args.out:
        atomic_write_json(Path(args.out), result)
    return 1 if result["verdict"]["regression"] else 0


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from harness.results.index import RunIndex
    from harness.results.leaderboard import COLUMNS, FORMAT_VERSION, as_csv, flat_rows, leaderboard

    with RunIndex(args.dir, args.index) as index:
        counts = index.refresh()
        rows = leaderboard(index, args.sort)
    if args.format == "json":
        from harness.schemas import check_record

        board = {"format_version": FORMAT_VERSION, "rows": rows}
        check_record("leaderboard", board, "leaderboard")
        text = json.dumps(board, indent=2) + "\n"
    elif args.format == "csv":
        text = as_csv(rows)
    else:
        text = format_table(list(COLUMNS), flat_rows(rows)) + "\n"
    if args.out:
        atomic_write_text(Path(args.out), text)
    else:
        sys.stdout.write(text)
    print(
        f"{len(rows)} rows from {counts['read'] + counts['unchanged']} runs "
        f"({counts['read']} read, {counts['unchanged']} unchanged, "
        f"{counts['unreadable']} unreadable)",
        file=sys.stderr,
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from harness.results.export import export_run
    from harness.results.store import load_run

    run = load_run(args.run)
    out = export_run(run, args.format, args.out)
    print(f"{len(run.episodes)} episodes -> {out} ({args.format})")
    return 0


def add_commands(sub: Any) -> None:
    from harness.results.export import FORMATS
    from harness.results.leaderboard import SORT_KEYS

    p = sub.add_parser("report", help="(re)build summary.json and report.html of a run")
    p.add_argument("run", help="run directory")
    p.add_argument("--exclude-faulty", action="store_true",
                   help="leave out episodes with a simulator fault (counted either way)")  # fmt: skip
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("compare", help="paired comparison of an agent in two runs (B - A)")
    p.add_argument("run_a", help="baseline run directory")
    p.add_argument("run_b", help="candidate run directory")
    p.add_argument("--agent-a", help="agent in run A (needed when it has several)")
    p.add_argument("--agent-b", help="agent in run B (needed when it has several)")
    p.add_argument(
        "--fail-if-worse",
        type=float,
        metavar="MARGIN",
        help="exit 1 when B's composite is worse than A's by more than MARGIN points, with 95%% "
        "confidence",
    )
    p.add_argument("--force", action="store_true", help="compare runs of different rubrics, "
                   "persona sets or judges")  # fmt: skip
    p.add_argument("--exclude-faulty", action="store_true",
                   help="leave out pairs where either episode has a simulator fault")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--out", help="also write the comparison (JSON) to this file")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("leaderboard", help="every run under a folder, one row per agent")
    p.add_argument("dir", help="folder of runs (searched recursively)")
    p.add_argument("--sort", choices=SORT_KEYS, default="composite")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    p.add_argument("--out", help="write to this file instead of the terminal")
    p.add_argument("--index", help="index file (default DIR/.deesc-index.sqlite)")
    p.set_defaults(func=_cmd_leaderboard)

    p = sub.add_parser("export", help="a run's episodes as a table (one row per episode)")
    p.add_argument("run", help="run directory")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--out", required=True, help="file (parquet, jsonl) or folder (datasets)")
    p.set_defaults(func=_cmd_export)
