"""Model specs (`hf:`, `gguf:`, `openai:`, `offline:`, `scripted:`) and the engines they open.

Backends register under their scheme in the `deesc.engines` entry-point group (pyproject.toml),
so another package adds one without touching this one; the heavy import happens only when a
spec of that scheme is opened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from importlib.metadata import entry_points
from typing import Any, Protocol

from harness.engine.base import Engine, Sampling
from harness.errors import DeescError

ENGINE_GROUP = "deesc.engines"
DEFAULT_MODEL = "offline:smollm2-135m"


@dataclass(frozen=True)
class ModelOptions:
    """A model spec with its structured options (never packed into the spec string)."""

    spec: str = DEFAULT_MODEL
    dtype: str = "auto"
    device: str = "auto"
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 64
    max_batch_size: int = 64
    prefix_cache_tokens: int = 32768
    # CPU speed (transformers backends): float16 weights on the CPU by default; 0 threads is
    # every core
    quantize: str = "auto"
    threads: int = 0
    timeout_s: float = 60.0
    max_retries: int = 3
    max_concurrency: int = 16
    api_key_env: str = "OPENAI_API_KEY"

    @classmethod
    def from_config(cls, value: str | dict[str, Any] | None, **defaults: Any) -> ModelOptions:
        """From a run file's `model` value: a bare spec string or a mapping of options."""
        if value is None:
            return cls(**defaults)
        if isinstance(value, str):
            return cls(**{**defaults, "spec": value})
        known = {f.name for f in fields(cls)}
        return cls(**{**defaults, **{k: v for k, v in value.items() if k in known}})

    def sampling(
        self, *, seed: int, stop: tuple[str, ...] = (), max_new_tokens: int | None = None
    ) -> Sampling:
        return Sampling(
            temperature=self.temperature,
            top_p=self.top_p,
            max_new_tokens=max_new_tokens or self.max_new_tokens,
            seed=seed,
            stop=stop,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def load_key(self) -> tuple[Any, ...]:
        """Options that change what is loaded; requests differing only in sampling share it."""
        return (
            self.spec,
            self.dtype,
            self.device,
            self.max_batch_size,
            self.prefix_cache_tokens,
            self.quantize,
            self.threads,
            self.timeout_s,
            self.max_retries,
            self.max_concurrency,
            self.api_key_env,
        )


class EngineFactory(Protocol):
    def __call__(self, target: str, options: ModelOptions) -> Engine: ...


def split_spec(spec: str) -> tuple[str, str]:
    scheme, sep, target = spec.partition(":")
    if not sep or not target:
        raise DeescError(
            f"model spec {spec!r} must look like SCHEME:TARGET, e.g. hf:HuggingFaceTB/"
            f"SmolLM2-135M-Instruct, gguf:model.gguf, openai:http://127.0.0.1:8000/v1#MODEL, "
            f"{DEFAULT_MODEL}"
        )
    return scheme, target


def engine_factories() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENGINE_GROUP)}


def open_engine(options: ModelOptions) -> Engine:
    scheme, target = split_spec(options.spec)
    factories = engine_factories()
    if scheme not in factories:
        raise DeescError(
            f"unknown model scheme {scheme!r} in {options.spec!r}; known: {', '.join(sorted(factories))}"
        )
    factory: EngineFactory = factories[scheme].load()
    return factory(target, options)


class EnginePool:
    """One engine per loaded model in a process: customer, bot and judge share a model that
    they name the same way, and their requests are batched together."""

    def __init__(self) -> None:
        self._engines: dict[tuple[Any, ...], Engine] = {}

    def get(self, options: ModelOptions) -> Engine:
        key = options.load_key()
        if key not in self._engines:
            self._engines[key] = open_engine(options)
        return self._engines[key]

    def register(self, options: ModelOptions, engine: Engine) -> None:
        """Put a ready engine in the pool (tests, embedding programs)."""
        self._engines[options.load_key()] = engine

    def engines(self) -> dict[str, Engine]:
        return {key[0]: engine for key, engine in self._engines.items()}
