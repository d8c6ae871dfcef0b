"""The one interface every language-model call goes through.

Episodes are asyncio tasks that `await engine.generate(request)`. A `BatchingEngine` gathers the
requests that arrive together and hands them to its backend as one batch, in a worker thread so
that the event loop keeps running. Backends that are servers (OpenAI-compatible) implement
`generate` directly and bound their own concurrency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from harness.errors import DeescError
from harness.seeds import derive_seed

FinishReason = Literal["stop", "length", "error"]


class EngineError(DeescError):
    """A model call failed (after any retries)."""


@dataclass(frozen=True)
class Sampling:
    """Per-request sampling settings. temperature 0 is greedy decoding."""

    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 64
    seed: int = 0
    stop: tuple[str, ...] = ()
    # decode exactly max_new_tokens (benchmarks: equal work per row whatever the model says)
    ignore_eos: bool = False


@dataclass(frozen=True)
class Request:
    """A raw-text continuation (`prompt`) or a chat (`messages`), never both.

    With `choices`, nothing is generated: the completion carries the probability the model
    gives each choice as the next token (`Completion.choice_probs`), where the backend can
    read token probabilities; a backend that cannot leaves `choice_probs` None.

    With `n` > 1 the prompt is sampled n times, each sample with its own seed
    (`sample_seeds()`), and the completion carries all of them (`Completion.samples`). A
    backend computes the prompt once for all n; each sample is the text that a request of
    its own with that seed would get."""

    sampling: Sampling
    prompt: str | None = None
    messages: tuple[dict[str, str], ...] | None = None
    choices: tuple[str, ...] = ()
    n: int = 1

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a Request has either a prompt or messages")
        if self.n < 1 or (self.n > 1 and self.choices):
            raise ValueError("a Request asks for n >= 1 samples, and for one when it has choices")

    def sample_seeds(self) -> tuple[int, ...]:
        """The seed of each sample: the first is the request's own, so n=1 is unchanged; the
        others are hashed from it, so they collide neither with it nor with seed + 1, which
        callers use for a retry."""
        seed = self.sampling.seed
        return (seed, *(derive_seed(seed, "sample", k) for k in range(1, self.n)))

    def one_sample(self, k: int) -> Request:
        """Sample k of this request as a request of its own."""
        sampling = replace(self.sampling, seed=self.sample_seeds()[k])
        return replace(self, sampling=sampling, n=1)


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: FinishReason
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None
    cached_tokens: int = 0  # prompt tokens whose KV cache was reused, not recomputed
    # for a request with choices: choice -> probability of it as the next token (not
    # renormalised: their sum says how much of the model's mass fell on valid choices)
    choice_probs: dict[str, float] | None = None
    # samples 2..n of a request with n > 1 (this completion is the first)
    more: tuple[Completion, ...] = ()

    @property
    def samples(self) -> tuple[Completion, ...]:
        """Every sample of the request, in the order of `Request.sample_seeds()`."""
        return (self, *self.more)


@dataclass
class EngineStats:
    """What the engine did, for run summaries and benchmarks."""

    requests: int = 0
    batches: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0
    batch_sizes: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        sizes = self.batch_sizes
        return {
            "requests": self.requests,
            "batches": self.batches,
            "mean_batch_size": round(sum(sizes) / len(sizes), 2) if sizes else 0.0,
            "max_batch_size": max(sizes, default=0),
            "prompt_tokens": self.prompt_tokens,
            "cached_prompt_tokens": self.cached_prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "model_seconds": round(self.model_seconds, 3),
        }


class Engine(Protocol):
    """What episodes, agents and the judge see of a model."""

    name: str
    stats: EngineStats

    async def generate(self, request: Request) -> Completion: ...

    def describe(self) -> dict[str, Any]:
        """Provenance for the run manifest: backend, model id, weight file hashes."""
        ...

    def supports_chat(self) -> bool: ...


class BatchBackend(Protocol):
    """A model that generates a batch of requests at once (blocking; run in a worker thread)."""

    max_batch_size: int

    def generate_batch(self, requests: Sequence[Request]) -> list[Completion]: ...

    def describe(self) -> dict[str, Any]: ...

    def supports_chat(self) -> bool: ...


@dataclass
class _Pending:
    request: Request
    future: asyncio.Future[Completion]


class BatchingEngine:
    """Collects concurrent requests into batches for a `BatchBackend`.

    A batch is dispatched once the event loop has settled: every episode that could run has run
    up to its next model call. Because episode code between model calls runs on the event loop,
    the batches (and so the results) do not depend on timing, and the same seeds give the same
    transcripts.
    """

    # yields to the loop before dispatching; a few are needed when an episode's step awaits
    # through nested tasks before its next request
    _SETTLE_YIELDS = 4

    def __init__(self, name: str, backend: BatchBackend) -> None:
        self.name = name
        self.backend = backend
        self.stats = EngineStats()
        self._queue: list[_Pending] = []
        self._worker: asyncio.Task[None] | None = None

    def describe(self) -> dict[str, Any]:
        return self.backend.describe()

    def supports_chat(self) -> bool:
        return self.backend.supports_chat()

    async def generate(self, request: Request) -> Completion:
        loop = asyncio.get_running_loop()
        pending = _Pending(request, loop.create_future())
        self._queue.append(pending)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await pending.future

    async def _settle(self) -> None:
        stable = 0
        seen = len(self._queue)
        while stable < self._SETTLE_YIELDS:
            await asyncio.sleep(0)
            stable = stable + 1 if len(self._queue) == seen else 0
            seen = len(self._queue)

    async def _drain(self) -> None:
        while self._queue:
            await self._settle()
            # the limit counts rows: a request with n samples decodes n of them
            limit, rows, take = max(1, self.backend.max_batch_size), 0, 0
            for pending in self._queue:
                if take and rows + pending.request.n > limit:
                    break
                rows, take = rows + pending.request.n, take + 1
            batch, self._queue = self._queue[:take], self._queue[take:]
            requests = [p.request for p in batch]
            started = time.perf_counter()
            try:
                results = await asyncio.to_thread(self.backend.generate_batch, requests)
            except Exception as exc:  # a failed batch fails its requests, not the engine
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(exc)
                continue
            self._record(requests, results, time.perf_counter() - started)
            for p, result in zip(batch, results, strict=True):
                if p.future.done():
                    continue
                if result.finish_reason == "error":  # this request failed, not its batch
                    p.future.set_exception(EngineError(result.error or "generation failed"))
                else:
                    p.future.set_result(result)

    def _record(self, requests: list[Request], results: list[Completion], seconds: float) -> None:
        self.stats.requests += len(requests)
        self.stats.batches += 1
        self.stats.batch_sizes.append(len(requests))
        self.stats.model_seconds += seconds
        self.stats.prompt_tokens += sum(r.prompt_tokens for r in results)
        self.stats.cached_prompt_tokens += sum(r.cached_tokens for r in results)
        self.stats.completion_tokens += sum(s.completion_tokens for r in results for s in r.samples)


def with_samples(samples: Sequence[Completion]) -> Completion:
    """One completion carrying every sample of a request (the first leads)."""
    return replace(samples[0], more=tuple(samples[1:]))


def apply_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` at the first stop string after any leading whitespace (a reply that opens
    with a newline has not ended); report whether one was found."""
    start = len(text) - len(text.lstrip())
    cut = min((i for s in stop if (i := text.find(s, start)) != -1), default=-1)
    if cut == -1:
        return text, False
    return text[:cut], True
