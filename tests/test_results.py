"""Comparable results: summary.json, `deesc compare`, the leaderboard and its index, export,
and versioned formats with golden files."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path
from statistics import mean

import pytest
from conftest import CORE, CUSTOMER, DATA, MINI

from harness.agents.base import AgentConfig
from harness.cli import main
from harness.errors import DeescError, SpecError
from harness.results.compare import compare_runs
from harness.results.index import RunIndex, latest_version, migrations
from harness.results.store import load_run
from harness.results.summary import build_summary, read_summary
from harness.run.runner import RunConfig, Runner
from harness.schemas import validator
from harness.stats import mean_interval, pass_hat_k

SCRIPTED_CUSTOMER = "scripted:tests/data/golden/customer-script.yaml"


def simulate(out: Path, pool, *agents: str, personas: Path = MINI, **kw) -> Path:
    config = RunConfig(
        personas=(str(personas),),
        agents=tuple(AgentConfig(spec=a) for a in agents),
        customer_model=CUSTOMER,
        appraisal="lexicon",  # these tests are about what happens after the episodes
        out=str(out),
    )
    result = Runner(replace(config, **kw), pool=pool, progress=False).run()
    assert not result.failures
    return out


def cli_run(
    out: Path, *agents: str, personas: Path = MINI, seed: int = 0, repeats: int = 3
) -> Path:
    args = ["run", "--personas", str(personas), "--customer-model", SCRIPTED_CUSTOMER,
            "--appraisal", "lexicon", "--seed", str(seed), "--repeats", str(repeats),
            "--out", str(out), "--no-progress"]  # fmt: skip
    for agent in agents:
        args += ["--agent", agent]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same personas, seed and repeats for a good and a bad agent, and both together."""
    root = tmp_path_factory.mktemp("runs")
    return {
        "good": cli_run(root / "good", "ref:empathetic"),
        "bad": cli_run(root / "bad", "ref:dismissive"),
        "both": cli_run(root / "both", "ref:empathetic", "ref:dismissive"),
    }


# --- summary.json ---------------------------------------------------------------------------


def test_a_run_ends_with_a_summary_whose_means_and_intervals_come_from_its_episodes(runs) -> None:
    summary = read_summary(runs["both"])
    episodes = load_run(runs["both"]).episodes
    assert not list(validator("summary").iter_errors(summary))
    assert summary["episodes"] == len(episodes) == 2 * 2 * 3
    for agent in ("ref:empathetic", "ref:dismissive"):
        mine = [e for e in episodes if e["agent"] == agent]
        overall = summary["agents"][agent]["overall"]
        composite = overall["composite"]
        assert composite["n"] == 6
        assert composite["mean"] == pytest.approx(mean(e["composite"] for e in mine), abs=1e-3)
        assert composite["low"] <= composite["mean"] <= composite["high"]
        assert overall["passed"]["mean"] == pytest.approx(mean(e["passed"] for e in mine))
        assert overall["hung_up"]["mean"] == pytest.approx(
            mean(e["outcome"]["hung_up"] for e in mine)
        )
        drop = mean(e["outcome"]["anger_start"] - e["outcome"]["anger_end"] for e in mine)
        assert overall["anger_drop"]["mean"] == pytest.approx(drop, abs=1e-3)
        for criterion, stat in overall["criteria"].items():
            values = [
                e["scores"][criterion]["value"]
                for e in mine
                if e["scores"].get(criterion, {}).get("value") is not None
            ]  # applicable
            assert stat["n"] == len(values) and stat["mean"] == pytest.approx(
                mean(values), abs=1e-3
            )
        for persona, group in summary["agents"][agent]["personas"].items():
            assert group["n"] == 3 == sum(1 for e in mine if e["persona_id"] == persona)
        assert set(summary["agents"][agent]["pass_hat_k"]) == {"1", "2", "3"}
    good, bad = summary["agents"]["ref:empathetic"], summary["agents"]["ref:dismissive"]
    assert good["overall"]["composite"]["low"] > bad["overall"]["composite"]["high"]
    assert good["pass_hat_k"]["3"] == 1.0 and bad["pass_hat_k"]["1"] == 0.0


def test_pass_hat_k_is_the_chance_that_k_tries_all_pass() -> None:
    # a task passed 2 of 4 times: two tries both pass with chance C(2,2)/C(4,2) = 1/6
    assert pass_hat_k([(4, 2)], 2) == pytest.approx(1 / 6, abs=1e-4)
    assert pass_hat_k([(4, 2), (4, 4)], 1) == pytest.approx(0.75)  # pass^1 is the pass rate
    assert pass_hat_k([(4, 2), (4, 4)], 4) == pytest.approx(0.5)
    assert pass_hat_k([(1, 1), (3, 3)], 2) == 1.0  # a task with one try cannot say
    assert pass_hat_k([(1, 1)], 2) is None


def test_an_interval_is_none_for_one_value_and_a_point_for_equal_values() -> None:
    assert mean_interval([3.0]) == {"mean": 3.0, "low": None, "high": None, "n": 1}
    assert mean_interval([2.0, 2.0, 2.0]) == {"mean": 2.0, "low": 2.0, "high": 2.0, "n": 3}
    wide = mean_interval([0, 10, 0, 10, 5, 5])
    assert wide["low"] < 5 < wide["high"]


def test_deesc_report_rebuilds_the_same_summary(runs, tmp_path, capsys) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(runs["both"], copy)
    written_by_run = (copy / "summary.json").read_bytes()
    (copy / "summary.json").unlink()
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    assert (copy / "summary.json").read_bytes() == written_by_run
    assert (copy / "report.html").stat().st_size > 0


# --- deesc compare --------------------------------------------------------------------------


def test_compare_finds_the_known_better_agent(runs, capsys) -> None:
    result = compare_runs(load_run(runs["bad"]), load_run(runs["good"]), fail_if_worse=5)
    assert not list(validator("compare").iter_errors(result))
    assert result["pairs"] == 6 and result["same_seeds"] == 6
    diff = result["composite"]["difference"]
    assert diff["low"] > 0 and diff["p_value"] < 0.05
    assert result["verdict"] == {**result["verdict"], "label": "B better", "regression": False}
    assert all(p["difference"]["mean"] > 0 for p in result["personas"].values())
    assert result["criteria"]["empathy_validation"]["difference"]["mean"] > 0
    assert main(["compare", str(runs["bad"]), str(runs["good"]), "--fail-if-worse", "5"]) == 0
    out = capsys.readouterr().out
    assert "verdict: B better" in out and "regression beyond margin 5.0: no" in out


def test_fail_if_worse_exits_non_zero_on_a_real_regression(runs, tmp_path, capsys) -> None:
    out = tmp_path / "cmp.json"
    code = main(["compare", str(runs["good"]), str(runs["bad"]), "--fail-if-worse", "5",
                 "--out", str(out)])  # fmt: skip
    assert code == 1
    assert "regression beyond margin 5.0: YES" in capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert saved["verdict"]["regression"] and saved["composite"]["difference"]["high"] < -5
    # the same runs, agents chosen by name from a run of two
    code = main(["compare", str(runs["both"]), str(runs["both"]), "--agent-a", "ref:empathetic",
                 "--agent-b", "ref:dismissive", "--fail-if-worse", "5"])  # fmt: skip
    assert code == 1


def test_fail_if_worse_exits_zero_on_noise(tmp_path, capsys) -> None:
    # one agent of random quality, twice, with different customer seeds: no version is worse
    a = cli_run(tmp_path / "a", "python:helpers:coin_agent", personas=CORE, seed=1, repeats=2)
    b = cli_run(tmp_path / "b", "python:helpers:coin_agent", personas=CORE, seed=2, repeats=2)
    result = compare_runs(load_run(a), load_run(b), fail_if_worse=5)
    pairs = [(x["composite"], y["composite"]) for x, y in zip(*(
        sorted(load_run(r).episodes, key=lambda e: (e["persona_id"], e["repeat"])) for r in (a, b)
    ), strict=True)]  # fmt: skip
    assert sum(1 for x, y in pairs if x != y) >= 5  # there is real noise to be fooled by
    assert result["pairs"] == 20 and not result["verdict"]["regression"]
    assert main(["compare", str(a), str(b), "--fail-if-worse", "5"]) == 0


def test_compare_refuses_runs_of_other_personas_or_rubrics_unless_forced(
    runs, tmp_path, pool
) -> None:
    personas = tmp_path / "personas"
    shutil.copytree(MINI, personas)
    edited = personas / "mini-billing.yaml"
    edited.write_text(edited.read_text().replace("You billed me twice.", "Billed twice!"))
    other = simulate(tmp_path / "other", pool, "ref:empathetic", personas=personas, repeats=3)
    with pytest.raises(DeescError, match=r"persona sets differ.*--force"):
        compare_runs(load_run(runs["good"]), load_run(other))
    assert main(["compare", str(runs["good"]), str(other)]) == 2
    forced = compare_runs(load_run(runs["good"]), load_run(other), force=True)
    assert forced["forced_despite"] == ["the persona sets differ (personas_hash in the manifests)"]

    rubric = tmp_path / "rubric.yaml"
    rubric.write_text(
        Path("rubrics/deescalation.yaml").read_text().replace("pass_mark: 70", "pass_mark: 60")
    )
    strict = simulate(
        tmp_path / "rubric-run", pool, "ref:empathetic", rubric=str(rubric), repeats=3
    )
    with pytest.raises(DeescError, match="rubrics differ"):
        compare_runs(load_run(runs["good"]), load_run(strict))


def test_compare_names_the_agents_to_choose_from(runs) -> None:
    with pytest.raises(
        DeescError, match="ref:dismissive, ref:empathetic; choose one with --agent-a"
    ):
        compare_runs(load_run(runs["both"]), load_run(runs["both"]))
    with pytest.raises(DeescError, match="no agent 'nobody'"):
        compare_runs(load_run(runs["good"]), load_run(runs["both"]), agent_b="nobody")


# --- leaderboard and its index --------------------------------------------------------------


def test_leaderboard_lists_every_agent_sorted_as_table_json_and_csv(runs, tmp_path, capsys) -> None:
    folder = tmp_path / "runs"
    for name, path in runs.items():
        shutil.copytree(path, folder / "team" / name)
    assert main(["leaderboard", str(folder)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[2].split()[:2] == ["1", "ref:empathetic"] and "ref:dismissive" in table[3]

    assert main(["leaderboard", str(folder), "--format", "json", "--sort", "hung_up"]) == 0
    board = json.loads(capsys.readouterr().out)
    assert not list(validator("leaderboard").iter_errors(board))
    rows = {r["agent"]: r for r in board["rows"]}
    assert rows["ref:empathetic"]["runs"] == 2 and rows["ref:empathetic"]["episodes"] == 12
    assert board["rows"][0]["hung_up"] <= board["rows"][-1]["hung_up"]
    pooled = [e["composite"] for name in ("good", "both") for e in load_run(runs[name]).episodes
              if e["agent"] == "ref:empathetic"]  # fmt: skip
    assert rows["ref:empathetic"]["composite"]["mean"] == pytest.approx(mean(pooled), abs=1e-3)

    out = tmp_path / "board.csv"
    assert main(["leaderboard", str(folder), "--format", "csv", "--out", str(out)]) == 0
    records = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["agent"] for r in records] == ["ref:empathetic", "ref:dismissive"]
    assert float(records[0]["composite"]) == pytest.approx(
        rows["ref:empathetic"]["composite"]["mean"]
    )


def test_the_index_rereads_only_runs_that_changed(runs, tmp_path) -> None:
    folder = tmp_path / "many"
    for i in range(120):
        shutil.copytree(runs["bad"], folder / f"run-{i:03d}")
    with RunIndex(folder) as index:
        assert index.refresh()["read"] == 120
        assert index.refresh() == {"read": 0, "unchanged": 120, "removed": 0, "unreadable": 0}
        episodes = folder / "run-007" / "episodes.jsonl"
        extra = {**json.loads(episodes.read_text().splitlines()[0]), "repeat": 9, "id": "extra"}
        with episodes.open("a") as fh:  # a resumed run finished one more episode
            fh.write(json.dumps(extra) + "\n")
        shutil.rmtree(folder / "run-008")
        (folder / "run-009" / "manifest.json").write_text("{")
        counts = index.refresh()
        assert counts == {"read": 1, "unchanged": 117, "removed": 1, "unreadable": 1}
        (n,) = index.conn.execute("SELECT COUNT(*) FROM runs").fetchone()
        assert n == 118


def test_index_migrations_are_numbered_and_upgrade_an_old_index(tmp_path) -> None:
    numbers = [number for number, _, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1)) and latest_version() == numbers[-1]
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old)
    conn.executescript(migrations()[0][2] + ";PRAGMA user_version = 1;")
    conn.close()
    (tmp_path / "runs").mkdir()
    with RunIndex(tmp_path / "runs", old) as index:
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()
        names = {r[0] for r in index.conn.execute("SELECT name FROM sqlite_master")}
        assert "episodes_by_agent" in names
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(DeescError, match="index schema version 99 is newer"):
        RunIndex(tmp_path / "runs", old)


# --- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "datasets"])
def test_export_round_trips_every_score(runs, tmp_path, fmt) -> None:
    out = tmp_path / f"episodes.{fmt}"
    assert main(["export", str(runs["both"]), "--format", fmt, "--out", str(out)]) == 0
    if fmt == "datasets":
        import datasets

        rows = datasets.load_from_disk(str(out)).to_list()
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(out).to_pylist()
    else:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    episodes = {e["id"]: e for e in load_run(runs["both"]).episodes}
    assert sorted(r["episode_id"] for r in rows) == sorted(episodes)
    for row in rows:
        episode = episodes[row["episode_id"]]
        assert json.loads(row["episode_json"]) == episode
        assert row["composite"] == episode["composite"] and row["passed"] == episode["passed"]
        assert row["hung_up"] == episode["outcome"]["hung_up"]
        for criterion in {k[len("score_") :] for k in row if k.startswith("score_")}:
            score = episode["scores"].get(criterion)
            assert row[f"score_{criterion}"] == (score["value"] if score else None)
            assert row[f"confidence_{criterion}"] == (score.get("confidence") if score else None)
        assert [t["text"] for t in row["transcript"]] == [t["text"] for t in episode["turns"]]


def test_persona_packs_can_be_parquet_files_or_datasets_folders(tmp_path) -> None:
    import datasets
    import pandas as pd
    import yaml

    from harness.personas.loading import load_personas

    documents = [
        yaml.safe_load(p.read_text()) for p in sorted(CORE.glob("*.yaml")) if p.name != "pack.yaml"
    ]
    datasets.Dataset.from_pandas(pd.DataFrame(documents)).save_to_disk(str(tmp_path / "pack"))
    datasets.Dataset.from_list([{"persona": json.dumps(d)} for d in documents]).to_parquet(
        str(tmp_path / "pack.parquet")
    )
    expected = {p.id: p.content_hash for p in load_personas([CORE])}
    for source in (tmp_path / "pack", tmp_path / "pack.parquet"):
        loaded = load_personas([source])
        assert {p.id: p.content_hash for p in loaded} == expected  # same content, same hash
        assert loaded[0].source == f"{source} row 1"

    documents[2]["temperament"]["patience"] = "a lot"
    datasets.Dataset.from_list([{"persona": json.dumps(d)} for d in documents]).to_parquet(
        str(tmp_path / "bad.parquet")
    )
    with pytest.raises(SpecError, match=r"bad.parquet row 3: at /temperament/patience"):
        load_personas([tmp_path / "bad.parquet"])


# --- versioned formats and golden files -----------------------------------------------------

GOLDEN_RUN = DATA / "golden" / "run"


def _close(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, abs_tol=1e-3)
    return a == b


def test_golden_run_files_validate_and_the_golden_summary_is_what_the_code_builds() -> None:
    run = load_run(GOLDEN_RUN)  # manifest and every episode checked against their schemas
    assert run.manifest["format_version"] == 2 and len(run.episodes) == 4
    golden = read_summary(GOLDEN_RUN)
    assert _close(build_summary(run), golden)


def test_runs_of_the_previous_format_are_still_read_and_summarised() -> None:
    run = load_run(DATA / "golden" / "run-v1")
    assert {e["format_version"] for e in run.episodes} == {1} and run.manifest[
        "format_version"
    ] == 1
    summary = build_summary(run)
    assert not list(validator("summary").iter_errors(summary))
    overall = summary["agents"]["ref:empathetic"]["overall"]
    assert overall["composite"]["n"] == 0 and overall["resolved"]["n"] == 2  # not judged then
    assert summary["agents"]["ref:empathetic"]["pass_hat_k"] == {}


def test_a_newer_format_fails_with_a_clear_message(tmp_path) -> None:
    shutil.copytree(GOLDEN_RUN, tmp_path / "run")
    shutil.copy(
        DATA / "invalid-run" / "episodes-future-version.jsonl", tmp_path / "run" / "episodes.jsonl"
    )
    with pytest.raises(SpecError) as error:
        load_run(tmp_path / "run")
    assert str(error.value) == (
        f"{tmp_path / 'run' / 'episodes.jsonl'}:2: at /format_version: episode format_version 4 "
        "cannot be read; this deesc reads 1, 2, 3 (written by a newer deesc: upgrade deesc)"
    )
    shutil.copy(
        DATA / "invalid-run" / "summary-missing-agents.json", tmp_path / "run" / "summary.json"
    )
    with pytest.raises(SpecError, match=r"summary\.json: 'agents' is a required property"):
        read_summary(tmp_path / "run")
    manifest = json.loads((GOLDEN_RUN / "manifest.json").read_text())
    (tmp_path / "run" / "manifest.json").write_text(json.dumps({**manifest, "format_version": 9}))
    assert main(["report", str(tmp_path / "run")]) == 2
