"""One interface for every model call; backends registered by scheme."""

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
