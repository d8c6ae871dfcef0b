from __future__ import annotations

import os
from pathlib import Path

# `make test` runs the suite on two workers (pytest-xdist): one core each, set before torch is
# imported, so the workers' kernels do not fight over the same cores
if (worker := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    cores = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cores[int(worker[2:]) % len(cores)]})

import pytest

from harness.engine.registry import EnginePool, ModelOptions
from harness.engine.scripted import ScriptedBackend, scripted_engine
from harness.personas.loading import load_personas

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
MINI = DATA / "personas"
CORE = ROOT / "personas" / "core"
RUBRIC = ROOT / "rubrics" / "deescalation.yaml"
CUSTOMER = ModelOptions(spec="scripted:customer", temperature=0.0)


@pytest.fixture(autouse=True)
def _run_in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # specs in test data are relative to the repository root
    monkeypatch.chdir(ROOT)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def mini_personas():
    return load_personas([MINI])


@pytest.fixture
def customer_backend() -> ScriptedBackend:
    return scripted_customer()


def scripted_customer() -> ScriptedBackend:
    """A deterministic customer: its line depends on the mood the prompt describes."""
    return ScriptedBackend(
        rules=[
            (r"is now (furious|angry)", "This is useless. Just fix it."),
            (r"is now (calm|a little annoyed)", "Okay, that helps. What next?"),
        ],
        default="I still need this sorted out.",
    )


@pytest.fixture
def pool(customer_backend: ScriptedBackend) -> EnginePool:
    return scripted_pool(customer_backend)


def scripted_pool(backend: ScriptedBackend) -> EnginePool:
    """An engine pool whose customer model (CUSTOMER) is `backend`."""
    pool = EnginePool()
    pool.register(CUSTOMER, scripted_engine(backend, CUSTOMER.spec))
    return pool
