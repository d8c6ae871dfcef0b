"""Phrases alone must not pass an exam: every gaming attempt of `harness.judge.gaming` takes
each shipped exam as a candidate would, beside `ref:careful`, which never reads the persona
but listens and helps. bench/gaming.py does the same with the offline customer model."""

from __future__ import annotations

import pytest
from conftest import CUSTOMER

from harness.agents.base import AgentConfig
from harness.exam.attempts import attempt_result
from harness.judge.gaming import ATTEMPTS
from harness.personas.builtin import shipped
from harness.personas.exam import load_exams
from harness.run.runner import RunConfig, Runner

CAREFUL = "ref:careful"
# attempts known to pass an exam (none now; tip stuffing and one paragraph did until a repeated
# turn stopped counting as progress and the matcher learnt stock offers): a known weakness is
# stated here, so that its fix shows up
KNOWN_TO_PASS: set[str] = set()


@pytest.mark.slow
def test_no_gaming_attempt_passes_a_shipped_exam(tmp_path, pool) -> None:
    agents = [f"python:harness.judge.gaming:{name}" for name in ATTEMPTS] + [CAREFUL]
    exams = load_exams(shipped("exams"))
    assert exams
    for exam_id, setup in exams.items():
        config = RunConfig(
            personas=tuple(p.source for p in setup.personas),
            agents=tuple(AgentConfig(spec=a) for a in agents),
            rubric=setup.rubric.source,
            customer_model=CUSTOMER,
            out=str(tmp_path / exam_id),
        )
        result = Runner(config, pool=pool, progress=False).run()
        assert not result.failures
        for agent in agents:
            mine = [e for e in result.episodes if e["agent"] == agent]
            assert len(mine) == len(setup.personas)
            _, passed = attempt_result(mine, setup.exam.pass_mark)
            if agent == CAREFUL:
                # where it resolves the customer, the careful agent's conversation passes
                resolved = [e for e in mine if e["outcome"]["resolved"]]
                assert resolved and all(e["passed"] for e in resolved), exam_id
            elif agent.rsplit(":", 1)[-1] in KNOWN_TO_PASS:
                assert passed, f"{agent} no longer passes: remove it from KNOWN_TO_PASS"
            else:
                assert not passed, (exam_id, agent, [e["composite"] for e in mine])
                assert not any(e["passed"] for e in mine), (exam_id, agent)
