"""The built package carries every data file the code reads at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_the_wheel_ships_schemas_personas_data_and_the_corpus(tmp_path) -> None:
    # a clean copy: setuptools would reuse the files of an earlier build in ./build
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(
        ".venv", ".git", "build", "eval_runs", "*.egg-info", "__pycache__", ".*cache"
    )
    shutil.copytree(ROOT, source, ignore=skip)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    # every data file of the package (schemas, archetypes, prompts, the corpus, templates,
    # migrations, the exam pages), not a hand-kept list that forgets the next one
    data = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "harness").rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert "harness/personas/archetypes.yaml" in data and len(data) > 20
    missing = [name for name in data if name not in names]
    assert not missing, missing
    # the trained heads ship, each beside the card whose fingerprint says what it was trained on
    weights = {n for n in names if n.endswith(".safetensors")}
    assert weights and all(
        n.rsplit("/", 1)[0] + "/"
        in {c.rsplit("/", 1)[0] + "/" for c in names if c.endswith(".json")}
        for n in weights
    )
