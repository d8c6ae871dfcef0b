"""`deesc persona new | check | list`: the researcher's persona toolkit."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.appraisal import APPRAISALS, DEFAULT_APPRAISAL
from harness.errors import DeescError
from harness.fileio import atomic_write_json, atomic_write_text
from harness.personas.rubric import DEFAULT_RUBRIC


def _cmd_new(args: argparse.Namespace) -> int:
    from harness.personas.template import persona_template

    out = Path(args.out)
    if out.exists() and not args.force:
        raise DeescError(f"{out}: already exists (pass --force to overwrite)")
    persona_id = args.id or out.stem
    try:
        text = persona_template(args.archetype, persona_id)
    except ValueError as exc:
        raise DeescError(str(exc)) from None
    atomic_write_text(out, text)
    print(f"wrote {out}: edit the scenario, then `deesc persona check {out}`")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from harness.agents.base import AgentConfig
    from harness.engine.registry import ModelOptions
    from harness.personas.check import BAD, GOOD, UNBRIEFED, check_persona, check_text
    from harness.run.runner import RunConfig, Runner

    if args.from_run:
        from harness.personas.loading import load_personas
        from harness.results.store import load_run

        run = load_run(args.from_run)
        personas, episodes, where = load_personas(args.paths), run.episodes, run.dir
        missing = {GOOD, BAD} - set(run.agents)
        if missing:
            raise DeescError(f"{run.dir}: the run has no {', '.join(sorted(missing))} episodes")
    else:
        agents = [GOOD, BAD, UNBRIEFED, *(a for a in args.agent or [] if a != UNBRIEFED)]
        out = args.out or tempfile.mkdtemp(prefix="deesc-persona-check-")
        config = RunConfig(personas=tuple(args.paths), agents=tuple(AgentConfig(spec=a) for a in agents),
                           repeats=args.repeats, seed=args.seed, appraisal=args.appraisal, out=out,
                           rubric=args.rubric)  # fmt: skip
        if args.customer_model:
            config = replace(config, customer_model=ModelOptions(spec=args.customer_model))
        runner = Runner(config, progress=not args.no_progress)
        print(f"{len(runner.plans)} episodes -> {runner.store.dir}", file=sys.stderr)
        result = runner.run()
        if result.failures:
            raise DeescError(f"{len(result.failures)} episodes failed: {result.failures[0][1]}")
        personas, episodes, where = runner.personas, result.episodes, runner.store.dir
    checks = [check_persona(p, episodes) for p in personas]
    for check in checks:
        print(check_text(check) + "\n")
    rejected = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(rejected)} of {len(checks)} personas pass")
    if args.json:
        atomic_write_json(Path(args.json), {"format_version": 1, "run": str(where),
                                            "personas": [c.as_dict() for c in checks]})  # fmt: skip
    return 1 if rejected else 0


def _cmd_list(args: argparse.Namespace) -> int:
    from harness.personas.loading import load_personas
    from harness.personas.packs import coverage, installed_packs, read_pack

    rows = [(info, str(info.folder)) for info in installed_packs().values()]
    for folder in args.paths:
        rows.append((read_pack(folder), folder))
    if not rows:
        print("no persona packs installed; give pack folders to list them")
        return 0
    for info, where in rows:
        personas = load_personas([info.folder])
        print(f"{info.name} {info.version} ({info.licence}) from {info.source}: {where}")
        print(f"  {info.description}")
        cov = coverage(personas)
        if args.json:
            print("  " + json.dumps(cov))
            continue
        anger = cov["starting_anger"]
        print(
            f"  {cov['personas']} personas; archetypes: "
            + ", ".join(f"{k} {v}" for k, v in cov["archetypes"].items())
        )
        print("  domains: " + ", ".join(f"{k} {v}" for k, v in cov["domains"].items()))
        print(f"  starting anger: {anger['min']:g}-{anger['max']:g} (mean {anger['mean']:g}); hidden facts: "
              f"{cov['hidden_facts']['total']} ({cov['hidden_facts']['personas_without']} personas without)")  # fmt: skip
        print(
            "  expected difficulty: "
            + ", ".join(f"{k} {v}" for k, v in cov["expected_difficulty"].items())
        )
    return 0


def add_commands(sub: Any) -> None:
    from harness.personas.template import archetypes

    p = sub.add_parser("persona", help="write, check and list personas and persona packs")
    psub = p.add_subparsers(dest="persona_command", required=True)

    n = psub.add_parser("new", help="a commented starting persona for an archetype")
    n.add_argument("archetype", choices=archetypes())
    n.add_argument("--out", required=True, help="the YAML file to write")
    n.add_argument("--id", help="persona id (default: the file name)")
    n.add_argument("--force", action="store_true", help="overwrite an existing file")
    n.set_defaults(func=_cmd_new)

    c = psub.add_parser("check", help="does each persona tell a good agent from a bad one?")
    c.add_argument("paths", nargs="+", help="persona files, folders or pack:NAME")
    c.add_argument(
        "--customer-model", help="model spec of the customer (default the offline model)"
    )
    c.add_argument(
        "--repeats", type=int, default=2, help="episodes per persona and agent (default 2)"
    )
    c.add_argument(
        "--agent", action="append", help="another agent to run beside the reference agents"
    )
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--appraisal", choices=APPRAISALS, default=DEFAULT_APPRAISAL)
    c.add_argument("--rubric", default=DEFAULT_RUBRIC,
                   help=f"rubric id or file that scores the episodes (default {DEFAULT_RUBRIC})")  # fmt: skip
    c.add_argument("--out", help="run directory for the episodes (default a temporary folder)")
    c.add_argument("--from-run", help="read the episodes of this finished run instead of running")
    c.add_argument("--json", help="also write the report as JSON")
    c.add_argument("--no-progress", action="store_true")
    c.set_defaults(func=_cmd_check)

    ls = psub.add_parser("list", help="installed persona packs and their coverage")
    ls.add_argument("paths", nargs="*", help="pack folders to list as well")
    ls.add_argument("--json", action="store_true", help="coverage as JSON")
    ls.set_defaults(func=_cmd_list)
