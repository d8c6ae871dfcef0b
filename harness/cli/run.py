"""`deesc run`: many episodes of personas against agents, judged, with summary and report."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.appraisal import APPRAISALS, DEFAULT_APPRAISAL
from harness.errors import DeescError

if TYPE_CHECKING:
    from harness.run.runner import RunConfig


def _run_config(args: argparse.Namespace) -> RunConfig:
    from harness.agents.base import AgentConfig
    from harness.run.runfile import load_runfile
    from harness.run.runner import RunConfig

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
             "customer_candidates",
             "judge", "rubric")  # fmt: skip
    for name in names:
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    config = replace(config, **overrides)
    return config


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.results.tables import outcome_table, separation, separation_table
    from harness.run.runner import Runner

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
    if result.outputs:
        summary, report = result.outputs
        print(f"\nsummary: {summary}\nreport: {report}")
    if result.failures:
        for episode_id, error in result.failures:
            print(f"failed: {episode_id}: {error}", file=sys.stderr)
        print(f"{len(result.failures)} episodes failed; finish them with --resume", file=sys.stderr)
        return 1
    return 0


def add_commands(sub: Any) -> None:
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
    p.add_argument("--customer-candidates", type=int, metavar="N",
                   help="customer lines sampled per turn, the critic picks one (default 2; 1: the first)")  # fmt: skip
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
        "--rubric", help="rubric id or file that scores every episode (default deescalation)"
    )
    p.add_argument("--resume", action="store_true", help="finish an interrupted run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)
