"""The learned behaviour classifier and `deesc appraise`."""

from __future__ import annotations

import json
import re

import pytest
from conftest import DATA

from harness.cli import main
from harness.errors import DeescError


def test_appraise_prints_behaviours_per_agent_turn(capsys) -> None:
    assert main(["appraise", "--input", str(DATA / "golden" / "transcripts.jsonl")]) == 0
    out = capsys.readouterr().out
    # the default appraisal is the classifier: behaviours with their probabilities
    found = re.findall(r"^== (\S+)\n  turn 2: (.*)$", out, re.M)
    read = {t: set(re.sub(r" [01]\.\d\d", "", b).split(", ")) for t, b in found}
    assert read["real-001"] == {"apologise", "ask_clarifying_question"}
    # "Calm down." to "You charged me twice.": dismissive, and read by some as rude too
    assert "dismiss" in read["real-002"] <= {"dismiss", "rude_or_sarcastic"}
    assert all(0.2 <= float(p) <= 1 for p in re.findall(r" ([01]\.\d\d)", out))


def test_appraise_reports_bad_lines_by_number_and_goes_on(tmp_path, capsys) -> None:
    path = tmp_path / "t.jsonl"
    good = {
        "id": "ok",
        "turns": [
            {"role": "customer", "text": "Where is my refund?"},
            {"role": "agent", "text": "Calm down."},
        ],
    }
    path.write_text('{"id": "x", "turns": []}\nnot json\n' + json.dumps(good) + "\n")
    assert main(["appraise", "--input", str(path)]) == 2
    out, err = capsys.readouterr()
    assert f"{path}:1: at /turns:" in err and f"{path}:2: invalid JSON" in err
    assert "== ok" in out and "dismiss" in out and "ignore_question" in out


def test_the_shipped_heads_are_current_and_a_stale_one_is_not(tmp_path) -> None:
    from harness.appraisal.classifier import CARD, WEIGHTS, is_current, shipped_dir

    trained = shipped_dir()
    # trained on the corpus as it is now: after a corpus edit, retrain with
    # `deesc appraisal train --out harness/appraisal/trained` (seeded) and commit the result
    assert is_current(trained)
    card = json.loads((trained / CARD).read_text())
    (tmp_path / WEIGHTS).write_bytes((trained / WEIGHTS).read_bytes())
    (tmp_path / CARD).write_text(json.dumps({**card, "fingerprint": "0" * 16}))
    assert not is_current(tmp_path)  # opening the default folder would retrain it
    (tmp_path / CARD).write_text(json.dumps(card))
    assert is_current(tmp_path)
    (tmp_path / WEIGHTS).unlink()
    assert not is_current(tmp_path)


def test_an_explicit_folder_without_a_head_is_an_error(tmp_path) -> None:
    from harness.appraisal.classifier import ClassifierAppraiser

    with pytest.raises(DeescError, match="run deesc appraisal train"):
        ClassifierAppraiser(tmp_path)


def test_the_shipped_card_meets_the_measured_quality() -> None:
    """The card the shipped heads were trained with (`deesc appraisal train --seed 0`): the
    composed split, the natural test turns (a separate writer's, never trained on), beside the
    lexicon on the same turns."""
    from harness.appraisal.classifier import CARD, shipped_dir

    card = json.loads((shipped_dir() / CARD).read_text())
    assert card["seed"] == 0 and card["fingerprint"] and card["layers"] == [2, 4, 6]
    test, lexicon, natural = card["test"], card["lexicon_test"], card["natural_test"]
    # the measured figures are in the README's tables (they move with corpus edits)
    # 0.846 with the sarcasm threshold floor of training.THRESHOLD_FLOORS (0.856 without)
    assert test["macro_f1"] >= 0.84 and test["macro_f1"] >= lexicon["macro_f1"] + 0.10
    assert natural["micro_f1"] >= 0.80 >= card["lexicon_natural_test"]["micro_f1"] + 0.2
    assert card["corpus"]["natural_test"] >= 300
    assert card["turns_per_second"] >= 100  # in batches, on the CPU
    assert test["confusions"]["apologise -> over_apologise"] <= 5
    assert test["confusions"]["set_boundary_respectfully -> dismiss"] <= 5


@pytest.mark.slow
def test_the_shipped_classifier_reads_the_natural_test_as_its_card_says(capsys) -> None:
    """Measured again here with the shipped heads, so the card cannot claim what they do not do."""
    from harness.appraisal.classifier import CARD, ClassifierAppraiser, shipped_dir
    from harness.appraisal.corpus import natural_test
    from harness.appraisal.training import evaluate

    card = json.loads((shipped_dir() / CARD).read_text())
    again = evaluate(ClassifierAppraiser(shipped_dir()), natural_test())
    assert again["micro_f1"] >= 0.80
    assert abs(again["micro_f1"] - card["natural_test"]["micro_f1"]) <= 0.01
    assert main(["appraise", "--input", str(DATA / "golden" / "transcripts.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "ask_clarifying_question" in out and "dismiss" in out
