"""`deesc appraise` and `deesc appraisal train`: the behaviours of agent turns, and the
classifier that reads them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.appraisal import APPRAISALS, DEFAULT_APPRAISAL


def _cmd_appraisal_train(args: argparse.Namespace) -> int:
    from harness.appraisal.classifier import CARD, default_dir
    from harness.appraisal.training import report, train

    out = Path(args.out) if args.out else default_dir()
    card = train(
        seed=args.seed, out=out, epochs=args.epochs, log=lambda m: print(m, file=sys.stderr)
    )
    print(report(card))
    print(
        f"\n{card['turns_per_second']} turns/s; trained in {card['train_seconds']}s; written to {out}"
    )
    print(f"the full measurements: {out / CARD}")
    return 0


def _cmd_appraise(args: argparse.Namespace) -> int:
    from harness.appraisal import open_appraiser
    from harness.cli.judge import read_reporting_errors
    from harness.transcripts import agent_turns

    appraiser = open_appraiser(args.appraisal)
    transcripts, bad = read_reporting_errors(args.input)
    for item in transcripts:
        print(f"== {item['id']}")
        for number, text, customer in agent_turns(item["turns"]):
            found = appraiser.appraise(text, customer)
            shown = ", ".join(f"{b} {found.scores.get(b, 1.0):.2f}" for b in found.behaviours)
            print(f"  turn {number}: {shown or '-'}\n    {text[:100]}")
    return 2 if bad else 0


def _cmd_appraise(args: argparse.Namespace) -> int:
    from harness.appraisal import open_appraiser
    from harness.cli.judge import read_reporting_errors
    from harness.transcripts import agent_turns

    appraiser = open_appraiser(args.appraisal)
    transcripts, bad = read_reporting_errors(args.input)
    for item in transcripts:
        print(f"== {item['id']}")
        for number, text, customer in agent_turns(item["turns"]):
            found = appraiser.appraise(text, customer)
            shown = ", ".join(f"{b} {found.scores.get(b, 1.0):.2f}" for b in found.behaviours)
            print(f"  turn {number}: {shown or '-'}\n    {text[:100]}")
    return 2 if bad else 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("appraise", help="behaviours of each agent turn of transcripts (JSONL)")
    p.add_argument("--input", required=True, help="transcripts, one JSON object per line")
    p.add_argument("--appraisal", default=DEFAULT_APPRAISAL, choices=APPRAISALS)
    p.set_defaults(func=_cmd_appraise)

    p = sub.add_parser("appraisal", help="the learned behaviour classifier")
    asub = p.add_subparsers(dest="appraisal_command", required=True)
    t = asub.add_parser("train", help="train it on the corpus and report per-behaviour quality")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=int, default=15)
    t.add_argument("--out", help="folder for the weights (default: the user's cache)")
    t.set_defaults(func=_cmd_appraisal_train)
