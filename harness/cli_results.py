"""`deesc report`, `compare`, `leaderboard` and `export`: what a finished run becomes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.analysis import format_table
from harness.store import Run, atomic_write_json, atomic_write_text


def write_outputs(run: Run, exclude_faulty: bool = False) -> tuple[Path, Path]:
    """summary.json and report.html of a run, from its episodes (at the end of `deesc run`)."""
    from harness.report import REPORT, write_report
    from harness.summary import SUMMARY, write_summary

    summary = write_summary(run, exclude_faulty=exclude_faulty)
    write_report(run, summary)
    return run.dir / SUMMARY, run.dir / REPORT


def _cmd_report(args: argparse.Namespace) -> int:
    from harness.store import load_run

    summary, report = write_outputs(load_run(args.run), args.exclude_faulty)
    print(f"wrote {summary}\nwrote {report}")
    return 0


def _difference(d: dict[str, Any]) -> str:
    if d["mean"] is None:
        return "-"
    text = f"{d['mean']:+.2f}"
    if d["low"] is not None:
        text += f" [{d['low']:+.2f}, {d['high']:+.2f}]"
    if d.get("p_value") is not None:
        text += f"  p={d['p_value']:.3g}"
    return text


def comparison_text(result: dict[str, Any]) -> str:
    a, b = result["a"], result["b"]
    lines = [
        f"A: {a['agent']} in {a['run']}",
        f"B: {b['agent']} in {b['run']}",
        f"{result['pairs']} pairs by persona and repeat ({result['same_seeds']} with the same "
        f"customer seed); unpaired: A {result['unpaired']['a']}, B {result['unpaired']['b']}",
    ]
    faults = result["simulator_faults"]
    lines.append(f"simulator faults: A {faults['a']} episodes, B {faults['b']}; "
                 f"{faults['faulty_pairs']} pairs with one"
                 + (" (left out)" if faults["excluded"] else " (kept; --exclude-faulty leaves them out)"))  # fmt: skip
    if result["forced_despite"]:
        lines.append(
            "WARNING compared with --force although " + "; ".join(result["forced_despite"])
        )
    header = ["", "A", "B", "B - A [95% CI]  p"]
    num = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    row = lambda name, x: [name, num(x["a"]), num(x["b"]), _difference(x["difference"])]  # noqa: E731
    rows = [row("composite", result["composite"])]
    rows += [row(name, x) for name, x in result["outcomes"].items()]
    lines += ["", format_table(header, rows), "", "per criterion (1-5)"]
    lines.append(format_table(header, [row(c, x) for c, x in result["criteria"].items()]))
    lines += ["", "per persona (composite)"]
    lines.append(format_table(header, [row(p, x) for p, x in result["personas"].items()]))
    v = result["verdict"]
    lines.append(f"\nverdict: {v['label']}")
    if v["margin"] is not None:
        lines.append(
            f"regression beyond margin {v['margin']}: {'YES' if v['regression'] else 'no'}"
            f" (one-sided p={v['p_worse_than_margin']})"
        )
    return "\n".join(lines)


def _cmd_compare(args: argparse.Namespace) -> int:
    from harness.compare import compare_runs
    from harness.schemas import check_record
    from harness.store import load_run

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
    from harness.index import RunIndex
    from harness.leaderboard import COLUMNS, FORMAT_VERSION, as_csv, flat_rows, leaderboard

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
    from harness.export import export_run
    from harness.store import load_run

    run = load_run(args.run)
    out = export_run(run, args.format, args.out)
    print(f"{len(run.episodes)} episodes -> {out} ({args.format})")
    return 0


def add_commands(sub: Any) -> None:
    from harness.export import FORMATS
    from harness.leaderboard import SORT_KEYS

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
