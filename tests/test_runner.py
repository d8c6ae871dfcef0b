"""Running many episodes: output format, determinism, stop conditions, failures and resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from conftest import CUSTOMER, MINI, ROOT, RUBRIC

from harness.agents.base import AgentConfig
from harness.engine.registry import EnginePool
from harness.engine.scripted import ScriptedBackend, scripted_engine
from harness.errors import DeescError
from harness.results.store import RunStore
from harness.run.runner import RunConfig, Runner
from harness.schemas import validator


def config(tmp_path, *agents: str, **kw) -> RunConfig:
    base = RunConfig(
        personas=(str(MINI),),
        agents=tuple(AgentConfig(spec=a) for a in agents),
        customer_model=CUSTOMER,
        out=str(tmp_path / "run"),
    )
    return replace(base, **kw)


def run(cfg: RunConfig, pool: EnginePool, resume: bool = False):
    return Runner(cfg, pool=pool, progress=False).run(resume=resume)


def transcripts(result) -> dict[str, list[str]]:
    return {e["id"]: [t["text"] for t in e["turns"]] for e in result.episodes}


def test_a_run_writes_a_valid_manifest_and_one_line_per_episode(tmp_path, pool) -> None:
    result = run(config(tmp_path, "ref:empathetic", "ref:dismissive", repeats=2), pool)
    assert not result.failures and len(result.episodes) == 2 * 2 * 2
    for episode in result.episodes:
        assert not list(validator("episode").iter_errors(episode))
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert not list(validator("manifest").iter_errors(manifest))
    assert manifest["finished"] is not None and manifest["episodes_planned"] == 8
    assert set(manifest["personas"]) == {"mini-billing", "mini-inflexible"}
    assert manifest["models"]["scripted:customer"]["backend"] == "scripted"


def test_the_simulator_separates_good_and_bad_reference_agents(tmp_path, pool) -> None:
    result = run(config(tmp_path, "ref:empathetic", "ref:dismissive"), pool)
    ends = {(e["agent"], e["persona_id"]): e for e in result.episodes}
    for persona in ("mini-billing", "mini-inflexible"):
        good, bad = ends["ref:empathetic", persona], ends["ref:dismissive", persona]
        assert good["end_reason"] == "satisfied" and good["outcome"]["resolved"]
        assert bad["end_reason"] == "hung_up"
        assert (
            good["outcome"]["anger_end"]
            < good["outcome"]["anger_start"]
            < bad["outcome"]["anger_end"]
        )
    billing = ends["ref:empathetic", "mini-billing"]
    assert billing["outcome"]["revealed_facts"] == ["invoice"]
    assert any("INV-1" in t["text"] for t in billing["turns"] if t.get("revealed"))


def test_same_seed_same_transcripts_and_seeds_pair_across_agents(tmp_path, pool) -> None:
    cfg = config(tmp_path, "ref:empathetic", "ref:dismissive", repeats=2, seed=11)
    first = run(cfg, pool)
    second = run(replace(cfg, out=str(tmp_path / "again"), concurrency=1), pool)
    assert transcripts(first) == transcripts(second)
    seeds = {(e["persona_id"], e["repeat"], e["agent"]): e["seed"] for e in first.episodes}
    for persona in ("mini-billing", "mini-inflexible"):
        for repeat in (0, 1):
            assert (
                seeds[persona, repeat, "ref:empathetic"] == seeds[persona, repeat, "ref:dismissive"]
            )
    assert seeds["mini-billing", 0, "ref:empathetic"] != seeds["mini-billing", 1, "ref:empathetic"]
    other = run(replace(cfg, out=str(tmp_path / "other"), seed=12), pool)
    assert {e["seed"] for e in other.episodes}.isdisjoint({e["seed"] for e in first.episodes})


@pytest.mark.parametrize(
    ("agent", "reason"),
    [
        ("python:helpers:escalating_agent", "escalated"),
        ("python:helpers:broken_agent", "agent_error"),
    ],
)
def test_stop_conditions(tmp_path, pool, agent, reason) -> None:
    result = run(config(tmp_path, agent), pool)
    assert {e["end_reason"] for e in result.episodes} == {reason}
    if reason == "agent_error":
        errors = [t["error"] for e in result.episodes for t in e["turns"] if "error" in t]
        assert errors and all("ValueError: bot crashed" in err for err in errors)


def test_max_turns_caps_the_conversation(tmp_path, pool) -> None:
    result = run(config(tmp_path, "python:helpers:slow_agent", max_turns=2), pool)
    for episode in result.episodes:
        assert episode["outcome"]["turns"] <= 2
    assert "max_turns" in {e["end_reason"] for e in result.episodes}


def test_a_failing_episode_loses_nothing_else_and_resume_finishes_it(tmp_path) -> None:
    def customer(request) -> str:
        if "Bo Test" in request.prompt:
            raise RuntimeError("model crashed")
        return "I still need this sorted out."

    pool = EnginePool()
    pool.register(CUSTOMER, scripted_engine(ScriptedBackend(responder=customer)))
    cfg = config(tmp_path, "ref:empathetic")
    result = run(cfg, pool)
    assert [f[0] for f in result.failures] == ["ref:empathetic|mini-inflexible|0"]
    assert [e["persona_id"] for e in result.episodes] == ["mini-billing"]
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["finished"] is None

    healthy = EnginePool()
    healthy.register(CUSTOMER, scripted_engine(ScriptedBackend(default="Okay then.")))
    resumed = run(cfg, healthy, resume=True)
    assert resumed.skipped == 1 and not resumed.failures
    assert sorted(e["persona_id"] for e in resumed.episodes) == ["mini-billing", "mini-inflexible"]


def test_an_existing_run_needs_resume_and_the_same_config(tmp_path, pool) -> None:
    cfg = config(tmp_path, "ref:empathetic")
    run(cfg, pool)
    with pytest.raises(DeescError, match="already holds a run; pass --resume"):
        run(cfg, pool)
    with pytest.raises(DeescError, match="cannot resume: 'seed' differs"):
        run(replace(cfg, seed=99), pool, resume=True)
    again = run(replace(cfg, concurrency=3), pool, resume=True)  # concurrency may change
    assert again.skipped == 2 and len(again.episodes) == 2


def test_resume_refuses_a_rubric_or_persona_whose_content_changed(tmp_path, pool) -> None:
    """Same paths, other content: a resumed run would mix two rubrics or two customers."""
    personas, rubric = tmp_path / "personas", tmp_path / "rubric.yaml"
    personas.mkdir()
    for file in MINI.glob("*.yaml"):
        (personas / file.name).write_text(file.read_text())
    rubric.write_text(RUBRIC.read_text())
    cfg = config(tmp_path, "ref:empathetic", personas=(str(personas),), rubric=str(rubric))
    run(cfg, pool)
    rubric.write_text(rubric.read_text().replace("pass_mark: 70", "pass_mark: 71"))
    with pytest.raises(DeescError, match="cannot resume: the rubric file changed"):
        run(cfg, pool, resume=True)
    rubric.write_text(rubric.read_text().replace("pass_mark: 71", "pass_mark: 70"))
    persona = personas / "mini-billing.yaml"
    persona.write_text(persona.read_text().replace("max_turns: 5", "max_turns: 4"))
    with pytest.raises(DeescError, match="cannot resume: the persona files changed"):
        run(cfg, pool, resume=True)


def test_a_torn_last_line_is_cut_and_earlier_lines_kept_byte_for_byte(tmp_path, pool) -> None:
    cfg = config(tmp_path, "ref:empathetic", "ref:dismissive")
    run(cfg, pool)
    path = tmp_path / "run" / "episodes.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    kept = b"".join(lines[:2])
    path.write_bytes(kept + lines[2][:40])  # a crash in the middle of writing line 3
    assert len(RunStore(tmp_path / "run").read_episodes()) == 2
    result = run(cfg, pool, resume=True)
    assert result.skipped == 2 and len(result.episodes) == 4
    data = path.read_bytes()
    assert data.startswith(kept) and len({e["id"] for e in result.episodes}) == 4


def test_resume_after_the_process_is_killed(tmp_path) -> None:
    out = tmp_path / "killed"
    args = [
        sys.executable, "-m", "harness.cli", "run", "--personas", str(MINI),
        "--agent", "python:helpers:slow_agent", "--agent", "ref:dismissive",
        "--customer-model", "scripted:tests/data/golden/customer-script.yaml", "--appraisal", "lexicon",
        "--repeats", "4", "--concurrency", "2", "--out", str(out), "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    episodes = out / "episodes.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if episodes.exists() and episodes.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = episodes.read_bytes()
    finished_before = before.count(b"\n")
    assert 3 <= finished_before < 16, proc.stderr.read().decode()

    done = subprocess.run([*args, "--resume"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    after = episodes.read_bytes()
    assert after.startswith(before[: before.rfind(b"\n") + 1])  # nothing finished was lost
    ids = [json.loads(line)["id"] for line in after.splitlines()]
    assert len(ids) == len(set(ids)) == 16  # nothing redone, nothing missing
    assert json.loads((out / "manifest.json").read_text())["finished"] is not None
