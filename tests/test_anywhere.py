"""deesc installed from its wheel (not editable) and run from a folder outside the repository:
the shipped rubric, core pack and exam are found by name, and nothing reads the working
directory for them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest
from conftest import ROOT

SCRIPTED = str(ROOT / "tests" / "data" / "golden" / "customer-script.yaml")


def build_wheel(tmp: Path) -> Path:
    # a clean copy: setuptools would reuse the files of an earlier build in ./build
    source = tmp / "src"
    skip = shutil.ignore_patterns(
        ".venv*", ".git", "build", "eval_runs", "*.egg-info", "__pycache__", ".*cache"
    )
    shutil.copytree(ROOT, source, ignore=skip, symlinks=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp / "dist"), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = (tmp / "dist").glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with the wheel installed; the dependencies come from the test's own
    environment through a .pth line (its editable deesc is not on that path's import hook)."""
    tmp = tmp_path_factory.mktemp("anywhere")
    wheel = build_wheel(tmp)
    env = tmp / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    site = Path(
        subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; print("
                        "sysconfig.get_paths()['purelib'])"], check=True, capture_output=True,
                       text=True).stdout.strip()
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target",
         str(site), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    (site / "deesc-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env / "bin" / "python"


def deesc(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(python), "-m", "harness.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip


@pytest.mark.slow
def test_run_check_judge_and_serve_from_another_folder(installed: Path, tmp_path: Path) -> None:
    where = tmp_path / "elsewhere"
    where.mkdir()
    location = subprocess.run([str(installed), "-c", "import harness; print(harness.__file__)"],
                              cwd=where, capture_output=True, text=True, check=True)  # fmt: skip
    assert str(ROOT) not in location.stdout  # the wheel's copy, not the repository's

    # a run with every default shipped: rubric, pack by name, the offline customer model
    done = deesc(installed, where, "run", "--personas", "pack:core/billing-double-charge",
                 "--agent", "ref:empathetic", "--max-turns", "1", "--out", "run", "--no-progress")  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads((where / "run" / "manifest.json").read_text())
    assert manifest["rubric"]["id"] == "deescalation" and manifest["finished"]
    assert (where / "run" / "summary.json").exists() and (where / "run" / "report.html").exists()

    # a new persona, checked against the shipped rubric (scripted customer: the check is the point)
    assert deesc(installed, where, "persona", "new", "upset", "--out", "mine.yaml").returncode == 0
    checked = deesc(installed, where, "persona", "check", "mine.yaml", "--repeats", "1",
                    "--customer-model", f"scripted:{SCRIPTED}", "--no-progress")  # fmt: skip
    assert "mine" in checked.stdout and "personas pass" in checked.stdout, checked.stderr

    # transcripts judged with the default rubric and judge
    (where / "talks.jsonl").write_text(json.dumps({"id": "t1", "turns": [
        {"role": "customer", "text": "You charged me twice!"},
        {"role": "agent", "text": "I'm sorry. I've refunded the second charge today."}]}) + "\n")  # fmt: skip
    judged = deesc(installed, where, "judge", "--input", "talks.jsonl", "--out", "j.jsonl")
    assert judged.returncode == 0, judged.stderr
    assert json.loads((where / "j.jsonl").read_text())["rubric"]["id"] == "deescalation"

    # the exam server with the shipped exams
    port = 8765 + os.getpid() % 1000
    env = {**os.environ, "DEESC_TRAINER_TOKEN": "a-long-trainer-token-for-this-test-3141"}
    server = subprocess.Popen(
        [str(installed), "-m", "harness.cli", "serve", "--db", f"sqlite:///{where}/exams.sqlite",
         "--port", str(port), "--customer-model", f"scripted:{SCRIPTED}"],
        cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read()
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("deesc serve did not start")
        assert page.status_code == 200
        login = httpx.get(f"http://127.0.0.1:{port}/trainer/login", timeout=5)
        assert login.status_code == 200
    finally:
        server.kill()
        server.wait()
