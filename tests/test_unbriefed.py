"""Agents that never read the persona file: a competent one resolves most customers, because
offers and questions are understood in its own words; a courteous, useless one resolves none."""

from __future__ import annotations

import pytest
from conftest import CORE, CUSTOMER, MINI, scripted_customer, scripted_pool

from harness.agents.base import AgentConfig
from harness.run.runner import RunConfig, Runner

AGENTS = ("ref:careful", "ref:courteous", "ref:empathetic", "ref:dismissive")


@pytest.fixture(scope="module")
def episodes(tmp_path_factory, request) -> list[dict]:
    pool = request.getfixturevalue("pool")
    config = RunConfig(personas=(str(CORE), str(MINI)), agents=tuple(AgentConfig(spec=a) for a in AGENTS),
                       customer_model=CUSTOMER, out=str(tmp_path_factory.mktemp("unbriefed") / "run"))  # fmt: skip
    result = Runner(config, pool=pool, progress=False).run()
    assert not result.failures
    return result.episodes


@pytest.fixture(scope="module")
def pool():
    return scripted_pool(scripted_customer())


def resolved(episodes: list[dict], agent: str, personas: set[str]) -> float:
    mine = [e for e in episodes if e["agent"] == agent and e["persona_id"] in personas]
    return sum(e["outcome"]["resolved"] for e in mine) / len(mine)


@pytest.mark.slow
def test_an_agent_that_never_read_the_persona_resolves_most_customers(episodes) -> None:
    core = {e["persona_id"] for e in episodes if not e["persona_id"].startswith("mini-")}
    mini = {"mini-billing", "mini-inflexible"}
    assert resolved(episodes, "ref:careful", core) >= 0.8
    assert resolved(episodes, "ref:careful", mini) == 1.0
    assert resolved(episodes, "ref:courteous", core | mini) == 0.0
    for persona in core | mini:  # and the reference agents still separate on every persona
        good = next(
            e for e in episodes if e["agent"] == "ref:empathetic" and e["persona_id"] == persona
        )
        bad = next(
            e for e in episodes if e["agent"] == "ref:dismissive" and e["persona_id"] == persona
        )
        assert good["outcome"]["anger_end"] < bad["outcome"]["anger_end"], persona
        assert good["composite"] > bad["composite"], persona
