"""Reproducible installs: the environment is the locked one."""

from __future__ import annotations

import os
import re
from importlib.metadata import PackageNotFoundError, version

import pytest
from conftest import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
