"""The exam server on a real PostgreSQL (a throwaway cluster started for the test, as a team
would point `--db` at theirs): an exam taken, its results kept across a server restart."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_web import GOOD, GOOD_2, SERVER_ARGS, take_exam
from webserver import Server, candidate, free_port, new_codes, trainer


def _as_postgres(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                          capture_output=True, text=True)  # fmt: skip


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bindir = Path("/usr/lib/postgresql")
    versions = sorted(bindir.glob("*/bin/initdb"))
    if not versions or shutil.which("runuser") is None:
        pytest.fail("PostgreSQL is not installed: `make test` installs Debian's postgresql package")
    initdb, pg_ctl = versions[-1], versions[-1].parent / "pg_ctl"
    folder = Path(tempfile.mkdtemp(prefix="deesc-pg-"))
    shutil.chown(folder, "postgres")  # the server refuses to run as root
    data, port = folder / "data", free_port()
    _as_postgres(str(initdb), "-D", str(data), "-A", "trust", "-U", "deesc")
    _as_postgres(str(pg_ctl), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
                 f"-k {folder} -p {port} -h 127.0.0.1", "start")  # fmt: skip
    try:
        yield f"postgresql+psycopg://deesc@127.0.0.1:{port}/postgres"
    finally:
        _as_postgres(str(pg_ctl), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_an_exam_on_postgresql_survives_a_restart(postgres_url) -> None:
    server = Server(postgres_url, "tests/data/exams", *SERVER_ARGS).start()
    try:
        teacher = trainer(server.url)
        (code,) = new_codes(teacher, "mini", 1, "Pat")
        person = candidate(server.url, code)
        page = take_exam(person, [GOOD, GOOD_2])
        assert "Your score:" in page
        # PostgreSQL's integer columns end at 2^31 - 1: one past it is not found, not an error
        for huge in ("2147483647", "2147483648", "99999999999999999999999"):
            assert person.get(f"/conversations/{huge}").status_code == 404
            assert teacher.get(f"/trainer/candidates/{huge}").status_code == 404
    finally:
        server.kill()
    again = Server(postgres_url, "tests/data/exams", *SERVER_ARGS).start()
    try:
        rows = list(
            csv.DictReader(
                io.StringIO(trainer(again.url).get("/trainer/exams/mini/results.csv").text)
            )
        )
        assert [(r["candidate"], r["persona"]) for r in rows] == [
            ("Pat", "mini-billing"),
            ("Pat", "mini-inflexible"),
        ]
        assert all(r["composite"] for r in rows) and rows[0]["end_reason"] == "satisfied"
    finally:
        again.kill()
