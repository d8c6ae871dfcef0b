"""Loaders of the public human-rated corpora, each tested on small files written here in the
corpus's published format (nothing of the real corpora is in the repository)."""

from __future__ import annotations

import csv

import pytest

from harness.cli import main
from harness.errors import DeescError, SpecError
from harness.judge.corpora import CORPORA, load_corpus


def _epitome(folder, levels: dict[str, list[int]]) -> None:
    names = {"emotional_reactions": "emotional-reactions-reddit.csv",
             "interpretations": "interpretations-reddit.csv",
             "explorations": "explorations-reddit.csv"}  # fmt: skip
    for mechanism, values in levels.items():
        with (folder / names[mechanism]).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(
                ["sp_id", "rp_id", "seeker_post", "response_post", "level", "rationales"]
            )
            for i, level in enumerate(values):
                writer.writerow([f"s{i}", f"r{i}", f"I feel alone, post {i}.",
                                 f"That sounds so hard, what happened? ({i})", level, ""])  # fmt: skip


def test_epitome_joins_the_three_mechanisms_and_splits_good_from_poor(tmp_path) -> None:
    _epitome(tmp_path, {"emotional_reactions": [2, 0, 1], "interpretations": [1, 0, 1],
                        "explorations": [2, 0, 0]})  # fmt: skip
    records = load_corpus("epitome", tmp_path)
    labels = {r["id"]: r["meta"]["labels"] for r in records}
    assert labels["epitome-s0-r0"] == {"emotional_reactions": 2, "interpretations": 1,
                                       "explorations": 2, "empathy": 5, "empathic": 1}  # fmt: skip
    assert labels["epitome-s1-r1"]["empathic"] == 0  # no empathy at all
    assert "empathic" not in labels["epitome-s2-r2"]  # the middle is left out of the split
    first = records[0]["turns"]
    assert [t["role"] for t in first] == ["customer", "agent"] and "post 0" in first[0]["text"]


def test_epitome_errors_name_the_file_and_line(tmp_path) -> None:
    _epitome(tmp_path, {"emotional_reactions": [1], "interpretations": [1], "explorations": [1]})
    path = tmp_path / "explorations-reddit.csv"
    path.write_text(path.read_text().replace(",1,\n", ",high,\n"))
    with pytest.raises(SpecError, match="level 'high' is not 0, 1 or 2") as err:
        load_corpus("epitome", tmp_path)
    assert err.value.line == 2
    (tmp_path / "interpretations-reddit.csv").unlink()
    with pytest.raises(SpecError, match="file not found"):
        load_corpus("epitome", tmp_path)


def test_politeness_uses_each_communitys_quartiles(tmp_path) -> None:
    header = ["Community", "Id", "Request", "Score1", "Score2", "Score3", "Score4", "Score5",
              "TurkId1", "TurkId2", "TurkId3", "TurkId4", "TurkId5", "Normalized Score"]  # fmt: skip
    with (tmp_path / "wikipedia.annotated.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i, score in enumerate([-1.5, -0.5, 0.0, 0.4, 1.2, 1.9, -2.0, 0.9]):
            writer.writerow(
                ["Wikipedia", i, f"Could you look at edit {i}?", *[13] * 5, *["A"] * 5, score]
            )
    records = load_corpus("politeness", tmp_path)
    polite = {r["turns"][0]["text"]: r["meta"]["labels"].get("polite") for r in records}
    assert polite["Could you look at edit 5?"] == 1 and polite["Could you look at edit 6?"] == 0
    assert polite["Could you look at edit 2?"] is None
    assert all(r["turns"][0]["role"] == "agent" for r in records)


def test_uss_reads_dialogues_and_their_overall_rating(tmp_path) -> None:
    (tmp_path / "SGD.txt").write_text(
        "USER\tFind me a flight.\tINFORM_INTENT\t3,3,3\n"
        "SYSTEM\tWhere to?\tREQUEST\t\n"
        "USER\tTo Paris.\tINFORM\t4,4,4\n"
        "SYSTEM\tThere is one at 10 am for $243.\tOFFER\t\n"
        "USER\tOVERALL\t\t4,5,4\n\n"
        "USER\tPlay a song.\tINFORM_INTENT\t3,2,3\n"
        "SYSTEM\tSorry, I can't.\tNOTIFY_FAILURE\t\n"
        "USER\tOVERALL\t\t2,1,2\n"
    )
    records = load_corpus("uss", tmp_path)
    assert [r["meta"]["labels"]["satisfied"] for r in records] == [1, 0]
    assert records[0]["meta"]["labels"]["satisfaction"] == pytest.approx(4.333, abs=1e-3)
    assert [t["role"] for t in records[0]["turns"]] == ["customer", "agent", "customer", "agent"]
    (tmp_path / "SGD.txt").write_text("USER\tHello\tX\t3\nBOT\tHi\t\t\n")
    with pytest.raises(SpecError, match="ROLE USER or SYSTEM") as err:
        load_corpus("uss", tmp_path)
    assert err.value.line == 2


def test_every_corpus_records_its_source_and_licence_and_none_is_kept_aside() -> None:
    kept_aside = {"esconv", "failedesconv", "annomi", "pair", "maia", "maia-dqe"}
    assert not kept_aside & {name.lower() for name in CORPORA}
    for corpus in CORPORA.values():
        assert corpus.source and corpus.licence and corpus.about
    with pytest.raises(DeescError, match="unknown corpus"):
        load_corpus("esconv", "/nowhere")


def test_calibrate_reads_a_corpus_by_name_and_prints_the_baseline(tmp_path, capsys) -> None:
    _epitome(tmp_path, {"emotional_reactions": [2, 0, 2, 0], "interpretations": [1, 0, 2, 0],
                        "explorations": [2, 0, 1, 0]})  # fmt: skip
    code = main(["calibrate", "--corpus", "epitome", "--path", str(tmp_path), "--label", "empathic",
                 "--judge", "behaviour", "--out", str(tmp_path / "c.json")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "reply length" in out and "auroc" in out
