"""`deesc`: the command line. Each subcommand parses its options and calls the library."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness.appraisal import APPRAISALS, DEFAULT_APPRAISAL
from harness.errors import DeescError

if TYPE_CHECKING:
    from harness.runner import RunConfig

log = logging.getLogger("harness")


def _cmd_validate(args: argparse.Namespace) -> int:
    from harness.spec import spec_files, validate_paths

    failed = 0
    try:
        files = spec_files(args.paths)
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
        from harness.appraisal.classifier import ensure_trained

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
    from harness.cli_judge import read_reporting_errors
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


def _run_config(args: argparse.Namespace) -> RunConfig:
    from harness.agents.base import AgentConfig
    from harness.runfile import load_runfile
    from harness.runner import RunConfig

    if args.runfile:
        config = load_runfile(args.runfile)
    else:
        if not args.personas or not args.agent:
            raise DeescError("deesc run needs --personas and at least one --agent (or a run file)")
        config = RunConfig(personas=tuple(args.personas), agents=())
    overrides = {}
    if args.personas:
        overrides["personas"] = tuple(args.personas)
    if args.agent:
        overrides["agents"] = tuple(AgentConfig(spec=s) for s in args.agent)
    if args.customer_model:
        overrides["customer_model"] = replace(config.customer_model, spec=args.customer_model)
    names = ("repeats", "seed", "concurrency", "max_turns", "out", "prompt_style", "appraisal",
             "judge", "rubric")  # fmt: skip
    for name in names:
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    config = replace(config, **overrides)
    return config


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.analysis import outcome_table, separation, separation_table
    from harness.runner import Runner

    runner = Runner(_run_config(args), progress=not args.no_progress)
    print(f"{len(runner.plans)} episodes -> {runner.store.dir}", file=sys.stderr)
    try:
        result = runner.run(resume=args.resume)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted; finished episodes are kept. Resume with: deesc run ... --out "
            f"{runner.store.dir} --resume",
            file=sys.stderr,
        )
        return 130
    episodes = result.episodes
    print(
        f"\nRun {result.run_dir} ({len(episodes)} episodes, {result.wall_s:.1f}s"
        + (f", {result.skipped} from before" if result.skipped else "")
        + ")\n"
    )
    print(outcome_table(episodes, ("agent",)))
    print()
    print(outcome_table(episodes, ("persona_id", "agent")))
    agents = {e["agent"] for e in episodes}
    if {"ref:empathetic", "ref:dismissive"} <= agents:
        rows = separation(episodes, "ref:empathetic", "ref:dismissive")
        print("\nDoes the simulator tell a good agent from a bad one? (mean final anger)\n")
        print(separation_table(rows, "ref:empathetic", "ref:dismissive"))
        print(f"\n{sum(r['separated'] for r in rows)}/{len(rows)} personas separate them")
    for name, stats in result.engines.items():
        print(f"\nengine {name}: {stats}")
    if episodes:
        from harness.cli_results import write_outputs

        summary, report = write_outputs(result.run)
        print(f"\nsummary: {summary}\nreport: {report}")
    if result.failures:
        for episode_id, error in result.failures:
            print(f"failed: {episode_id}: {error}", file=sys.stderr)
        print(f"{len(result.failures)} episodes failed; finish them with --resume", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deesc", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="simulate conversations between personas and agents")
    p.add_argument("runfile", nargs="?", help="a run file (YAML); options below override it")
    p.add_argument("--personas", action="append", help="persona file or folder (repeatable)")
    p.add_argument(
        "--agent",
        action="append",
        help="ref:NAME, model:MODEL_SPEC, http:URL, python:MODULE:CALLABLE (repeatable)",
    )
    p.add_argument("--customer-model", help="model spec of the simulated customer")
    p.add_argument("--repeats", type=int, help="episodes per persona and agent (default 1)")
    p.add_argument("--seed", type=int, help="run seed (default 0)")
    p.add_argument("--concurrency", type=int, help="episodes in flight at once (default 32)")
    p.add_argument("--max-turns", type=int, help="cap on agent turns per episode")
    p.add_argument("--out", help="run directory (default eval_runs/<run id>)")
    p.add_argument(
        "--prompt-style",
        choices=["continuation", "chat"],
        help="how the customer model is prompted (default continuation)",
    )
    p.add_argument(
        "--appraisal",
        choices=APPRAISALS,
        help=f"what reads the agent's behaviours for the customer (default {DEFAULT_APPRAISAL})",
    )
    p.add_argument("--judge", help="behaviour (default), model:MODEL_SPEC or ensemble:MODEL_SPEC")
    p.add_argument(
        "--rubric", help="rubric that scores every episode (default rubrics/deescalation.yaml)"
    )
    p.add_argument("--resume", action="store_true", help="finish an interrupted run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)

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

    from harness.cli_judge import add_commands as add_judge_commands
    from harness.cli_persona import add_commands as add_persona_commands
    from harness.cli_results import add_commands as add_result_commands
    from harness.play import add_command as add_play_command
    from harness.web.serve import add_command as add_serve_command

    add_judge_commands(sub)
    add_result_commands(sub)
    add_play_command(sub)
    add_persona_commands(sub)
    add_serve_command(sub)

    p = sub.add_parser("validate", help="check persona, rubric, exam and run files")
    p.add_argument("paths", nargs="+", help="files or folders")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("models", help="packaged offline models")
    msub = p.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="what is installed and prepared")
    msub.add_parser("prepare", help="convert packaged GGUF models once into the local cache")
    p.set_defaults(func=_cmd_models)
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
