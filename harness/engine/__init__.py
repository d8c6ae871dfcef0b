"""One interface for every model call; backends registered by scheme."""

import os

# OpenMP threads that spin while they wait made a decode step 10-16x slower on 2 cores busy
# with other work; waiting passively costs little on an idle machine (bench/RESULTS.md). The
# runtime reads this once, when torch loads it: every model goes through this package, and
# torch is imported only when a model opens, so it is set here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from harness.engine.base import (
    BatchingEngine,
    Completion,
    Engine,
    EngineStats,
    Request,
    Sampling,
)
from harness.engine.registry import DEFAULT_MODEL, EnginePool, ModelOptions, open_engine

__all__ = [
    "DEFAULT_MODEL",
    "BatchingEngine",
    "Completion",
    "Engine",
    "EnginePool",
    "EngineStats",
    "ModelOptions",
    "Request",
    "Sampling",
    "open_engine",
]
