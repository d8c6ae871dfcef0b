"""The command line, in process: exit codes, messages, summaries."""

from __future__ import annotations

import json
from statistics import mean

import pytest
from conftest import CORE, DATA, MINI

from harness.cli import main


def test_run_needs_personas_and_agents(capsys) -> None:
    assert main(["run", "--personas", str(MINI)]) == 2
    assert "needs --personas and at least one --agent" in capsys.readouterr().err


def test_run_with_a_bad_persona_names_the_file_and_exits_2(tmp_path, capsys) -> None:
    code = main(["run", "--personas", str(DATA / "invalid" / "anger-out-of-range.yaml"),
                 "--agent", "ref:empathetic", "--out", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "anger-out-of-range.yaml:9: at /temperament/initial_anger" in err
    assert not (tmp_path / "r").exists()  # nothing started, nothing written


def test_run_with_an_unknown_agent_or_model(tmp_path, capsys) -> None:
    assert (
        main(["run", "--personas", str(MINI), "--agent", "bot:x", "--out", str(tmp_path / "a")])
        == 2
    )
    assert "must be one of" in capsys.readouterr().err
    code = main(["run", "--personas", str(MINI), "--agent", "ref:empathetic",
                 "--customer-model", "nope", "--out", str(tmp_path / "b")])  # fmt: skip
    assert code == 2 and "SCHEME:TARGET" in capsys.readouterr().err


def test_models_list_shows_the_packaged_models(capsys) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "offline:smollm2-135m" in out and "offline:all-minilm-l6-v2" in out
    assert "ready" in out


def test_every_core_persona_separates_the_reference_agents(tmp_path, capsys) -> None:
    """With a scripted customer voice, the dynamics alone must tell good from bad."""
    script = tmp_path / "customer.yaml"
    script.write_text("default: I still need this sorted out.\n")
    code = main(["run", "--personas", str(CORE), "--agent", "ref:empathetic", "--agent", "ref:dismissive",
                 "--customer-model", f"scripted:{script}", "--repeats", "2", "--out", str(tmp_path / "r"),
                 "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    episodes = [json.loads(x) for x in (tmp_path / "r" / "episodes.jsonl").read_text().splitlines()]
    personas = {e["persona_id"] for e in episodes}
    assert len(personas) >= 10 and f"{len(personas)}/{len(personas)} personas separate them" in out
    for e in episodes:
        expected = "satisfied" if e["agent"] == "ref:empathetic" else "hung_up"
        assert e["end_reason"] == expected, e["id"]
    revealed = {
        e["persona_id"]
        for e in episodes
        if e["agent"] == "ref:empathetic" and e["outcome"]["revealed_facts"]
    }
    assert revealed == personas  # the good agent asks, and every persona answers
    assert not any(
        e["outcome"]["revealed_facts"] for e in episodes if e["agent"] == "ref:dismissive"
    )
    assert_the_judge_separates_them(episodes)


def assert_the_judge_separates_them(episodes: list[dict]) -> None:
    """The judge issue's done-when: a higher composite for the good reference agent on every
    persona, and every criterion separating them where it applies."""
    by: dict[tuple[str, str], list[dict]] = {}
    for e in episodes:
        assert e["format_version"] == 3 and e["judge"] == "behaviour"
        by.setdefault((e["persona_id"], e["agent"]), []).append(e)
    for persona in {p for p, _ in by}:
        good, bad = by[(persona, "ref:empathetic")], by[(persona, "ref:dismissive")]
        assert mean(e["composite"] for e in good) > mean(e["composite"] for e in bad), persona
        assert all(e["passed"] for e in good) and not any(e["passed"] for e in bad), persona
        compared = 0
        for c in good[0]["scores"]:
            # a criterion the conversation gave no occasion for is unscored (not applicable)
            g = [e["scores"][c]["value"] for e in good if e["scores"][c]["value"] is not None]
            b = [
                e["scores"][c]["value"]
                for e in bad
                if e["scores"].get(c, {}).get("value") is not None
            ]
            if g and b:
                compared += 1
                assert mean(g) > mean(b), (persona, c, mean(g), mean(b))
        assert compared >= 8, (persona, compared)


@pytest.mark.slow
def test_the_done_when_command_on_the_offline_model(tmp_path, capsys) -> None:
    """The issue's acceptance command: lower final anger for the good agent on every persona."""
    # one repeat (the suite's time budget); the scripted test above runs two
    code = main(["run", "--personas", str(CORE), "--agent", "ref:empathetic", "--agent", "ref:dismissive",
                 "--seed", "0", "--out", str(tmp_path / "r"), "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "10/10 personas separate them" in out
    episodes = [json.loads(x) for x in (tmp_path / "r" / "episodes.jsonl").read_text().splitlines()]
    assert_the_judge_separates_them(episodes)
    # issue 8: every core persona passes `deesc persona check` on these offline-model episodes
    assert main(["persona", "check", str(CORE), "--from-run", str(tmp_path / "r")]) == 0
    assert "10 of 10 personas pass" in capsys.readouterr().out


def test_the_readme_run_file_example_runs(tmp_path, capsys) -> None:
    """`deesc run tests/data/golden/runfile.yaml` from the README, with scripted models."""
    out = tmp_path / "from-file"
    assert main(["run", "tests/data/golden/runfile.yaml", "--out", str(out), "--no-progress"]) == 0
    episodes = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(episodes) == 2 * 3 * 2  # personas x agents x repeats
    assert {e["agent"] for e in episodes} == {
        "ref:empathetic",
        "bad-bot",
        "model:scripted:tests/data/golden/bot-script.yaml",
    }
    assert all(e["outcome"]["turns"] <= 4 for e in episodes)  # the file's max_turns
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["config"]["seed"] == 7
        and manifest["config"]["customer_model"]["temperature"] == 0.8
    )
    assert "bad-bot" in capsys.readouterr().out
