"""The learned behaviour classifier and `deesc appraise`."""

from __future__ import annotations

import json

import pytest
from conftest import DATA

from harness.cli import main
from harness.errors import DeescError


def test_appraise_prints_behaviours_per_agent_turn(capsys) -> None:
    assert main(["appraise", "--input", str(DATA / "golden" / "transcripts.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "== real-001" in out and "turn 2: apologise 1.00, ask_clarifying_question 1.00" in out
    assert "== real-002" in out and "turn 2: dismiss 1.00" in out


def test_appraise_reports_bad_lines_by_number_and_goes_on(tmp_path, capsys) -> None:
    path = tmp_path / "t.jsonl"
    good = {
        "id": "ok",
        "turns": [{"role": "customer", "text": "Hi?"}, {"role": "agent", "text": "Calm down."}],
    }
    path.write_text('{"id": "x", "turns": []}\nnot json\n' + json.dumps(good) + "\n")
    assert main(["appraise", "--input", str(path)]) == 2
    out, err = capsys.readouterr()
    assert f"{path}:1: at /turns:" in err and f"{path}:2: invalid JSON" in err
    assert "== ok" in out and "dismiss" in out and "ignore_question" in out


def test_the_classifier_needs_training_first(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DEESC_CACHE", str(tmp_path))
    with pytest.raises(DeescError, match="run deesc appraisal train"):
        from harness.appraisal import open_appraiser

        open_appraiser("classifier")


@pytest.mark.slow
def test_training_reproduces_the_measured_quality(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DEESC_CACHE", str(tmp_path))
    assert main(["appraisal", "train", "--seed", "0"]) == 0
    card = json.loads((tmp_path / "appraisal" / "classifier.json").read_text())
    test, lexicon = card["test"], card["lexicon_test"]
    # measured 0.797 on this corpus (README); the target of 0.85 is not reached yet
    assert test["macro_f1"] >= 0.75
    assert test["macro_f1"] >= lexicon["macro_f1"] + 0.10  # well above the phrase-pattern baseline
    assert card["turns_per_second"] >= 100  # in batches, on the CPU
    assert test["confusions"]["apologise -> over_apologise"] <= 5
    capsys.readouterr()

    assert (
        main(
            [
                "appraise",
                "--appraisal",
                "classifier",
                "--input",
                str(DATA / "golden" / "transcripts.jsonl"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ask_clarifying_question" in out and "dismiss" in out
