"""Any OpenAI-compatible server: vLLM, SGLang, Ollama, llama.cpp server, `transformers serve`,
hosted APIs. Spec: `openai:<base url>#<model>`, e.g. `openai:http://127.0.0.1:8000/v1#qwen`.

The server does the batching; this client bounds how many requests it has in flight, times
them out, and retries connection errors, 429 and 5xx answers with exponential backoff.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from typing import Any

import httpx

from harness.engine.base import (
    Completion,
    EngineError,
    EngineStats,
    Request,
    apply_stop,
    with_samples,
)
from harness.engine.registry import ModelOptions
from harness.errors import DeescError

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
MAX_STOP_SEQUENCES = 4  # the OpenAI API's limit; the rest are applied here
TOP_LOGPROBS = 20  # the most the OpenAI API returns per position


class OpenAIEngine:
    def __init__(self, base_url: str, model: str, options: ModelOptions) -> None:
        self.name = options.spec
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.options = options
        self.stats = EngineStats()
        self._max_concurrency = options.max_concurrency
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.backoff_base_s = 0.5

    def describe(self) -> dict[str, Any]:
        return {"backend": "openai", "base_url": self.base_url, "model": self.model}

    def supports_chat(self) -> bool:
        return True

    def _limit(self) -> asyncio.Semaphore:
        """A semaphore of the running loop (asyncio primitives are bound to one loop)."""
        loop = asyncio.get_running_loop()
        if getattr(self, "_sem_loop", None) is not loop:
            self._semaphore = asyncio.Semaphore(self._max_concurrency)
            self._sem_loop = loop
        return self._semaphore

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.options.api_key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _client_for_loop(self) -> httpx.AsyncClient:
        # an httpx client belongs to the event loop it was made in; each asyncio.run gets its own
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._client_loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=self.options.timeout_s, headers=self._headers()
            )
            self._client_loop = loop
        return self._client

    def _payload(self, request: Request) -> tuple[str, dict[str, Any]]:
        s = request.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_new_tokens,
            "seed": s.seed,
        }
        if s.stop:
            body["stop"] = list(s.stop[:MAX_STOP_SEQUENCES])
        if s.ignore_eos:  # vLLM's and SGLang's extension; sent only when asked for
            body["ignore_eos"] = True
        if request.choices:  # one token, and the server's probabilities of the likeliest ones
            body.update(max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=TOP_LOGPROBS)
            if request.messages is None:
                body["logprobs"] = TOP_LOGPROBS  # the legacy completions API takes a count
                body.pop("top_logprobs")
        if request.messages is not None:
            return "/chat/completions", {**body, "messages": list(request.messages)}
        return "/completions", {**body, "prompt": request.prompt}

    async def generate(self, request: Request) -> Completion:
        if request.n > 1:
            # the API's own `n` gives its samples no seeds of their own; one call per sample
            # keeps each equal to the request with that seed
            samples = [self.generate(request.one_sample(k)) for k in range(request.n)]
            return with_samples(await asyncio.gather(*samples))
        path, body = self._payload(request)
        url = self.base_url + path
        last_error = ""
        async with self._limit():
            for attempt in range(self.options.max_retries + 1):
                if attempt:
                    await asyncio.sleep(self.backoff_base_s * 2 ** (attempt - 1))
                started = time.perf_counter()
                try:
                    response = await self._client_for_loop().post(url, json=body)
                except httpx.TimeoutException:
                    last_error = f"timed out after {self.options.timeout_s}s"
                    continue
                except httpx.TransportError as exc:
                    last_error = f"connection failed: {exc}"
                    continue
                finally:
                    self.stats.model_seconds += time.perf_counter() - started
                if response.status_code in RETRYABLE_STATUS:
                    last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                    continue
                if response.status_code != 200:
                    raise EngineError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
                return self._parse(url, response, request)
        raise EngineError(f"{url}: {last_error} ({self.options.max_retries} retries)")

    def _parse(self, url: str, response: httpx.Response, request: Request) -> Completion:
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"]["content"] if "message" in choice else choice["text"]
            if not isinstance(text, str):
                raise TypeError("content is not a string")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise EngineError(f"{url}: not an OpenAI-style completion ({exc})") from None
        text, stopped = apply_stop(text, request.sampling.stop)
        choice_probs = _choice_probs(choice, request.choices) if request.choices else None
        usage = data.get("usage") or {}
        finish = "stop" if stopped or choice.get("finish_reason") == "stop" else "length"
        # servers with prefix caching (vLLM, SGLang) report the reused part of the prompt
        cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        result = Completion(
            text,
            finish,
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            cached_tokens=cached,
            choice_probs=choice_probs,
        )
        self.stats.requests += 1
        self.stats.prompt_tokens += result.prompt_tokens
        self.stats.cached_prompt_tokens += cached
        self.stats.completion_tokens += result.completion_tokens
        return result

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _choice_probs(choice: dict[str, Any], wanted: tuple[str, ...]) -> dict[str, float] | None:
    """Probabilities of the wanted choices from a response's logprobs (chat: `content[0].
    top_logprobs`; legacy completions: `top_logprobs[0]`), or None when the server sent none
    (e.g. `transformers serve`): then the caller falls back to asking for text."""
    logprobs = choice.get("logprobs") or {}
    top: dict[str, float] = {}
    try:
        if logprobs.get("content"):
            for entry in logprobs["content"][0].get("top_logprobs") or []:
                top[entry["token"]] = float(entry["logprob"])
        elif logprobs.get("top_logprobs"):
            top = {k: float(v) for k, v in logprobs["top_logprobs"][0].items()}
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None
    if not top:
        return None
    out = dict.fromkeys(wanted, 0.0)
    for token, logprob in top.items():
        for option in wanted:
            if token.strip() and token.strip() == option.strip():
                out[option] += math.exp(logprob)
    return out


def build_openai_backend(target: str, options: ModelOptions) -> OpenAIEngine:
    base_url, sep, model = target.partition("#")
    if not sep or not model or not base_url.startswith(("http://", "https://")):
        raise DeescError(
            f"openai spec {options.spec!r} must be openai:<http(s) base url>#<model>, "
            "e.g. openai:http://127.0.0.1:8000/v1#Qwen/Qwen2.5-7B-Instruct"
        )
    return OpenAIEngine(base_url, model, options)
