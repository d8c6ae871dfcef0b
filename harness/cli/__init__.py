"""`deesc`: the command line. `COMMANDS` is the one registry of subcommands: each module adds
its parsers with `add_commands(sub)`, parses options and calls the library; heavy imports wait
until a command runs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from harness.cli import appraisal, exam, files, judge, persona, results, run
from harness.errors import DeescError

COMMANDS = (run, appraisal, judge, results, exam, persona, files)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deesc", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.func(args)
    except DeescError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
