"""Reproducible installs: the environment is the locked one, and runs made with other model
library versions are flagged when compared."""

from __future__ import annotations

import json
import os
import re
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from conftest import MINI, ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harness.cli import main
from harness.results.compare import compare_runs
from harness.results.store import load_run

LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def locked() -> dict[str, str]:
    pins = {}
    for n, line in enumerate(LOCK.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"{LOCK.name}:{n}: not an exact pin: {line!r}"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def test_the_lock_covers_every_dependency() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    names = {canonicalize_name(Requirement(r).name) for r in wanted} - {"deesc"}
    pins = locked()
    assert names - set(pins) == set()
    for requirement in map(Requirement, wanted):  # and each pin lies inside its range
        name = canonicalize_name(requirement.name)
        if name in pins:
            assert requirement.specifier.contains(pins[name], prereleases=True), requirement


@pytest.mark.skipif(
    bool(os.environ.get("DEESC_UNLOCKED")),
    reason="make test-latest installs the newest versions the ranges allow, not the lock",
)
def test_this_environment_has_the_locked_versions() -> None:
    differ = {}
    for name, want in locked().items():
        try:
            have = version(name)
        except PackageNotFoundError:
            have = None
        if have != want:
            differ[name] = f"locked {want}, installed {have}"
    assert not differ, f"not the locked environment (make setup installs it): {differ}"


def _run(out: Path) -> Path:
    args = ["run", "--personas", str(MINI), "--agent", "ref:empathetic", "--customer-model",
            "scripted:tests/data/golden/customer-script.yaml", "--appraisal", "lexicon",
            "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    return out


def test_compare_warns_when_torch_or_transformers_differ(tmp_path, capsys) -> None:
    a = _run(tmp_path / "a")
    manifest = json.loads((a / "manifest.json").read_text())
    assert manifest["packages"]["transformers"] == version("transformers")
    assert manifest["packages"]["torch"] == version("torch")
    same = compare_runs(load_run(a), load_run(a))
    assert same["version_warnings"] == []
    b = tmp_path / "b"
    shutil.copytree(a, b)
    manifest["packages"]["transformers"] = "5.99.0"
    (b / "manifest.json").write_text(json.dumps(manifest))
    result = compare_runs(load_run(a), load_run(b))
    assert result["version_warnings"] == [
        f"transformers {version('transformers')} in A, 5.99.0 in B"
    ]
    capsys.readouterr()
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "WARNING the runs used different library versions (transformers" in out
