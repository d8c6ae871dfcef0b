"""`deesc judge` and `deesc calibrate`: scoring transcripts from anywhere, and measuring how far
the judge agrees with people."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.cli.common import read_reporting_errors
from harness.errors import DeescError
from harness.fileio import atomic_write_json, atomic_write_text
from harness.personas.rubric import DEFAULT_RUBRIC
from harness.schemas import check_record


def _setup(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any]]:
    from harness.judge import open_judge
    from harness.personas.loading import load_personas
    from harness.personas.rubric import load_rubric

    rubric = load_rubric(args.rubric)
    personas = {p.id: p for p in load_personas(args.personas)} if args.personas else {}
    return rubric, open_judge(args.judge, temperature=args.temperature), personas


def _cmd_judge(args: argparse.Namespace) -> int:
    from harness.judge.records import judge_records

    records, bad = read_reporting_errors(args.input)
    rubric, judge, personas = _setup(args)
    results = judge_records(records, rubric, judge, personas)
    atomic_write_text(
        Path(args.out), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
    )
    print(f"{'id':<24} {'composite':>9}  {'passed':<6}  unscored  {'anger':<10}  critical failures")
    for r in results:
        composite = "-" if r["composite"] is None else f"{r['composite']:.1f}"
        unscored = sum(1 for s in r["scores"].values() if s["value"] is None)
        critical = ", ".join(r["critical_failures"]) or "-"
        # the customer's anger at start and end, as their words show it (transcripts only)
        mood = r.get("customer_mood")
        anger = f"{mood['anger_start']:.1f}->{mood['anger_end']:.1f}" if mood else "-"
        print(
            f"{r['id']:<24} {composite:>9}  {r['passed']!s:<6}  {unscored:>8}  {anger:<10}  {critical}"
        )
    print(
        f"\n{len(results)} judged by {judge.name} -> {args.out}"
        + (f"; {bad} bad lines" if bad else "")
    )
    return 2 if bad else 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from harness.judge.calibration import calibrate, labelled_records

    if args.corpus:
        from harness.judge.corpora import CORPORA, load_corpus

        if not args.path:
            raise DeescError("--corpus needs --path: the folder the corpus was downloaded to")
        records, bad, source = load_corpus(args.corpus, args.path), 0, f"{args.corpus}:{args.path}"
        label = args.label or CORPORA[args.corpus].numeric
    elif args.input:
        (records, bad), source, label = read_reporting_errors(args.input), args.input, args.label
        if not label:
            raise DeescError("--input needs --label: the field under meta.labels to compare with")
    else:
        raise DeescError("calibrate needs --input FILE, or --corpus NAME --path DIR")
    labelled, skipped = labelled_records(records, label)
    if len(labelled) < 3:
        raise DeescError(f"{source}: {len(labelled)} transcripts carry meta.labels.{label}; "
                         "calibration needs at least 3")  # fmt: skip
    rubric, judge, personas = _setup(args)
    result = calibrate(labelled, rubric, judge, personas, args.repeats, skipped)
    result = {"format_version": 1, "input": source, "label": label, **result}
    check_record("calibration", result, "calibration result")
    print(f"{judge.name} against meta.labels.{label} ({result['label_kind']}, n={result['n']})\n")
    print(f"{'metric':<10} {'judge':>22} {'reply length':>22}")
    for name, m in result["metrics"].items():
        b = result["baselines"]["reply_length"][name]
        print(f"{name:<10} {_interval(m):>22} {_interval(b):>22}")
    if "repeats" in result:
        r = result["repeats"]
        print(
            f"\nover {r['k']} repeats: composite sd mean {r['mean_sd']:.2f}, max {r['max_sd']:.2f}"
        )
    if args.out:
        atomic_write_json(Path(args.out), result)
        print(f"\n-> {args.out}")
    return 2 if bad else 0


def _interval(m: dict[str, float | None]) -> str:
    if m["value"] is None:
        return "n/a"
    if m["low"] is None or m["high"] is None:
        return f"{m['value']:.3f}"
    return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


def add_commands(sub: Any) -> None:
    from harness.judge import DEFAULT_JUDGE

    def common(p: argparse.ArgumentParser, input_required: bool = True) -> None:
        p.add_argument(
            "--input", required=input_required, help="transcripts, one JSON object per line"
        )
        p.add_argument(
            "--rubric", default=DEFAULT_RUBRIC, help=f"rubric id or file (default {DEFAULT_RUBRIC})"
        )
        p.add_argument("--judge", default=DEFAULT_JUDGE,
                       help=f"behaviour, model:MODEL_SPEC or ensemble:MODEL_SPEC (default {DEFAULT_JUDGE})")  # fmt: skip
        p.add_argument("--temperature", type=float,
                       help="sampling temperature of a model judge (default 0: greedy)")  # fmt: skip
        p.add_argument("--personas", action="append",
                       help="persona files or folders, to read the archetype of a transcript's persona_id")  # fmt: skip

    p = sub.add_parser("judge", help="score transcripts (JSONL) against a rubric")
    common(p)
    p.add_argument("--out", required=True, help="one judgement per line (JSONL)")
    p.set_defaults(func=_cmd_judge)

    from harness.judge.corpora import CORPORA

    p = sub.add_parser("calibrate", help="agreement of the judge with human labels")
    common(p, input_required=False)
    p.add_argument("--corpus", choices=sorted(CORPORA),
                   help="a public human-rated corpus, read in its published format from --path")  # fmt: skip
    p.add_argument("--path", help="the folder holding the corpus's files (with --corpus)")
    p.add_argument("--label", help="field under meta.labels (numeric, or 0/1); with --corpus, "
                   "default its rating (e.g. empathy), or its good/poor split (e.g. empathic)")  # fmt: skip
    p.add_argument("--repeats", type=int, default=1, help="judge each transcript K times (spread)")
    p.add_argument("--out", help="write the figures as JSON")
    p.set_defaults(func=_cmd_calibrate)
