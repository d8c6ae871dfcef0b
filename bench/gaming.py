"""Gaming attempts against every shipped exam (issue 13): phrases alone must not pass.

    .venv/bin/python bench/gaming.py [--customer-model SPEC] [--exams exam:core-certification]

Each attempt of `harness.judge.gaming` takes each exam as a candidate would (one conversation
per exam persona, judged with the exam's rubric) beside `ref:careful`, which listens and helps
without reading the persona files. Prints, per agent, the attempt's mean composite and whether
it passes, and per persona the composite, whether the conversation passed and how it ended.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

from harness.agents.base import AgentConfig
from harness.engine.registry import ModelOptions
from harness.exam.attempts import attempt_result
from harness.judge.gaming import ATTEMPTS
from harness.personas.builtin import shipped
from harness.personas.exam import load_exams
from harness.run.runner import RunConfig, Runner

CONTROL = "ref:careful"


def run_exam(setup, agents: list[str], customer: str | None, out: Path) -> dict:
    config = RunConfig(
        personas=tuple(p.source for p in setup.personas),
        agents=tuple(AgentConfig(spec=a) for a in agents),
        rubric=setup.rubric.source,
        out=str(out),
        **({"customer_model": ModelOptions(spec=customer)} if customer else {}),
    )
    result = Runner(config, progress=False).run()
    if result.failures:
        raise SystemExit(f"episodes failed: {result.failures[0]}")
    table = {}
    for agent in agents:
        mine = [e for e in result.episodes if e["agent"] == agent]
        mean, passed = attempt_result(mine, setup.exam.pass_mark)
        table[agent] = {
            "attempt_composite": mean, "attempt_passed": passed,
            "personas": {e["persona_id"]: {"composite": e["composite"], "passed": e["passed"],
                                           "end_reason": e["end_reason"]} for e in mine},
        }  # fmt: skip
    return table


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--exams", default=str(shipped("exams")))
    parser.add_argument("--customer-model", help="default: the offline customer model")
    parser.add_argument("--out", help="write the figures as JSON")
    args = parser.parse_args()
    agents = [f"python:harness.judge.gaming:{name}" for name in ATTEMPTS] + [CONTROL]
    results = {}
    for exam_id, setup in load_exams(args.exams).items():
        with tempfile.TemporaryDirectory() as tmp:
            table = run_exam(setup, agents, args.customer_model, Path(tmp) / "run")
        results[exam_id] = table
        print(f"\n{exam_id} (pass mark {setup.exam.pass_mark:g})")
        for agent, row in table.items():
            name = agent.rsplit(":", 1)[-1]
            verdict = "PASSES" if row["attempt_passed"] else "fails"
            print(f"  {name:<22} attempt {row['attempt_composite']:5.1f} {verdict}")
            for persona, p in row["personas"].items():
                print(f"    {persona:<30} {p['composite']:5.1f} {'passed' if p['passed'] else '-':<6} "
                      f"{p['end_reason']}")  # fmt: skip
    meta = {"customer_model": args.customer_model or "offline:smollm2-135m",
            "machine": f"{platform.machine()}, {platform.system()}, python {sys.version.split()[0]}"}  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps({**meta, "exams": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
