"""50 candidates at once against one exam server on 127.0.0.1 (the customer scripted, so the
server is what is loaded): no errors, and every attempt is judged and recorded. The page times
are measured by bench/exam_load.py and recorded in bench/RESULTS.md, not asserted here."""

from __future__ import annotations

import asyncio
import csv
import io
import sys

import pytest
from conftest import ROOT
from webserver import SCRIPTED_CUSTOMER, Server, new_codes, sqlite_url, trainer

sys.path.insert(0, str(ROOT / "bench"))
from exam_load import load


@pytest.mark.slow
def test_fifty_candidates_at_once_finish_without_an_error(tmp_path) -> None:
    server = Server(sqlite_url(tmp_path / "exams.sqlite"), "tests/data/exams", "--customer-model",
                    SCRIPTED_CUSTOMER, "--appraisal", "lexicon").start()  # fmt: skip
    try:
        teacher = trainer(server.url)
        codes = new_codes(teacher, "mini", 50, "load")
        assert len(set(codes)) == 50
        timings, _ = asyncio.run(load(server.url, codes))
        assert timings.errors == []
        assert len(timings.by_kind["finish"]) == 100
        rows = list(
            csv.DictReader(io.StringIO(teacher.get("/trainer/exams/mini/results.csv").text))
        )
        assert len(rows) == 100 and len({r["candidate"] for r in rows}) == 50
        assert all(r["composite"] and r["attempt_composite"] for r in rows)  # every one judged
    finally:
        server.kill()
