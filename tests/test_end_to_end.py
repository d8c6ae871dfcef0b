"""`deesc run` end to end on the real offline model: outputs, separation, determinism."""

from __future__ import annotations

import json

import pytest
from conftest import MINI

from harness.cli import main
from harness.schemas import validator

pytestmark = pytest.mark.slow


def read(path) -> list[dict]:
    return [json.loads(line) for line in (path / "episodes.jsonl").read_text().splitlines()]


def test_run_on_the_offline_model_with_reference_agents_and_a_model_bot(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    code = main([
        "run", "--personas", str(MINI / "mini-billing.yaml"), "--agent", "ref:empathetic",
        "--agent", "ref:dismissive", "--agent", "model:offline:smollm2-135m",
        "--max-turns", "3", "--seed", "0", "--out", str(out), "--no-progress",
    ])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    episodes = read(out)
    assert len(episodes) == 3
    for episode in episodes:
        assert not list(validator("episode").iter_errors(episode))
    by_agent = {e["agent"]: e for e in episodes}
    assert (
        by_agent["ref:empathetic"]["outcome"]["anger_end"]
        < by_agent["ref:dismissive"]["outcome"]["anger_end"]
    )
    bot_turns = [t for t in by_agent["model:offline:smollm2-135m"]["turns"] if t["role"] == "agent"]
    assert bot_turns and all(t["text"].strip() for t in bot_turns)
    customer_lines = [
        t["text"] for e in episodes for t in e["turns"][1:] if t["role"] == "customer"
    ]
    assert customer_lines and all(line.strip() for line in customer_lines)
    assert "1/1 personas separate them" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    model = manifest["models"]["offline:smollm2-135m"]
    assert model["backend"] == "transformers" and len(model["gguf"]["sha256"]) == 64


def test_the_same_command_gives_the_same_transcripts(tmp_path) -> None:
    def run(name: str) -> list[dict]:
        args = ["run", "--personas", str(MINI), "--agent", "ref:empathetic", "--agent", "ref:dismissive",
                "--max-turns", "2", "--seed", "3", "--out", str(tmp_path / name), "--no-progress"]  # fmt: skip
        assert main(args) == 0
        return sorted(read(tmp_path / name), key=lambda e: e["id"])

    first, second = run("a"), run("b")
    assert [e["turns"] for e in first] == [e["turns"] for e in second]
