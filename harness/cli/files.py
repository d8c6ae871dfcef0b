"""`deesc validate` and `deesc models`: checking definition files, and the packaged offline
models."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.errors import DeescError


def _cmd_validate(args: argparse.Namespace) -> int:
    from harness.personas.loading import files_under
    from harness.personas.validation import validate_paths

    failed = 0
    try:
        files = files_under(args.paths)
    except DeescError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for file in files:
        try:
            [(_, kind)] = validate_paths([file])
            print(f"ok    {file} ({kind})")
        except DeescError as exc:
            failed += 1
            print(f"error {exc}", file=sys.stderr)
    print(f"{len(files) - failed} valid, {failed} invalid")
    return 2 if failed else 0


def _cmd_models(args: argparse.Namespace) -> int:
    from harness.engine.offline import PACKAGED, cache_root, prepare_gguf, prepared_dir

    if args.models_command == "prepare":
        for model in PACKAGED.values():
            path = model.location()
            if model.kind != "causal-lm":
                continue
            if path is None:
                raise DeescError(f"offline:{model.name} is not installed: {model.pip}")
            folder = prepare_gguf(path)
            print(f"offline:{model.name} ready in {folder}")
        from harness.appraisal.training import ensure_trained

        print(f"behaviour classifier ready in {ensure_trained()}")
        return 0
    print(f"{'spec':<28} {'kind':<10} {'status':<14} where")
    for model in PACKAGED.values():
        path = model.location()
        if path is None:
            status, where = "not installed", model.pip
        elif model.kind == "causal-lm":
            ready = prepared_dir(path)
            status = "ready" if ready else "needs prepare"
            where = str(ready or path)
        else:
            status, where = "ready", str(path)
        print(f"{'offline:' + model.name:<28} {model.kind:<10} {status:<14} {where}")
    print(f"\ncache: {cache_root()}")
    print(
        "also: hf:<hub id or folder>, gguf:<file.gguf>, openai:<base url>#<model>, scripted:<file.yaml>"
    )
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("validate", help="check persona, rubric, exam and run files")
    p.add_argument("paths", nargs="+", help="files or folders")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("models", help="packaged offline models")
    msub = p.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="what is installed and prepared")
    msub.add_parser("prepare", help="convert packaged GGUF models once into the local cache")
    p.set_defaults(func=_cmd_models)
