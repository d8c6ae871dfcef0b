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
    for needed in (
        "harness/schemas/persona.schema.json",
        "harness/data/archetypes.yaml",
        "harness/agents/prompts/support_bot.txt",
        "harness/appraisal/data/phrases_positive.yaml",
        "harness/appraisal/data/phrases_negative.yaml",
        "harness/appraisal/data/context.yaml",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.endswith(".safetensors")]  # trained weights live in the cache
