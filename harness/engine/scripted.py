"""A deterministic scripted model for orchestration tests and offline dry runs.

It answers by rules (the first regular expression that matches the prompt, or the last chat
message) or from a queue of replies; nothing random stands in for a model. It goes through the
same `BatchingEngine` as real models, so tests of batching exercise the real path.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from harness.engine.base import BatchingEngine, Completion, Request, apply_stop, with_samples
from harness.engine.registry import ModelOptions
from harness.errors import SpecError
from harness.sourcefile import read_document

Responder = Callable[[Request], str]


def request_text(request: Request) -> str:
    """The text a rule is matched against: the prompt, or the last chat message."""
    if request.prompt is not None:
        return request.prompt
    return (request.messages or ({"content": ""},))[-1]["content"]


class ScriptedBackend:
    def __init__(
        self,
        rules: Sequence[tuple[str, str]] = (),
        default: str = "Okay.",
        responder: Responder | None = None,
        max_batch_size: int = 64,
    ) -> None:
        self.rules = [(re.compile(pattern, re.I | re.S), reply) for pattern, reply in rules]
        self.default = default
        self.responder = responder
        self.max_batch_size = max_batch_size
        self.queued: deque[str] = deque()
        self.seen: list[Request] = []
        self.batch_sizes: list[int] = []

    def enqueue(self, *replies: str) -> None:
        """Replies returned, in order, before any rule is consulted."""
        self.queued.extend(replies)

    def describe(self) -> dict[str, Any]:
        return {"backend": "scripted", "rules": len(self.rules)}

    def supports_chat(self) -> bool:
        return True

    def _reply(self, request: Request) -> str:
        if self.queued:
            return self.queued.popleft()
        if self.responder is not None:
            return self.responder(request)
        text = request_text(request)
        for pattern, reply in self.rules:
            if pattern.search(text):
                return reply
        return self.default

    def generate_batch(self, requests: Sequence[Request]) -> list[Completion]:
        self.batch_sizes.append(len(requests))
        out = []
        for request in requests:
            if request.n > 1:  # each sample as the request of its own that it stands for
                samples = self.generate_batch([request.one_sample(k) for k in range(request.n)])
                self.batch_sizes.pop()
                out.append(with_samples(samples))
                continue
            self.seen.append(request)
            try:
                reply = self._reply(request)
            except Exception as exc:  # a scripted failure fails its own request only
                out.append(Completion("", "error", error=f"{type(exc).__name__}: {exc}"))
                continue
            text, stopped = apply_stop(reply, request.sampling.stop)
            words = text.split()
            budget = request.sampling.max_new_tokens
            finish = "stop" if stopped or len(words) <= budget else "length"
            out.append(
                Completion(
                    " ".join(words[:budget]) if finish == "length" else text,
                    finish,
                    len(request_text(request).split()),
                    min(len(words), budget),
                )
            )
        return out


def scripted_engine(backend: ScriptedBackend, name: str = "scripted:test") -> BatchingEngine:
    return BatchingEngine(name, backend)


def build_scripted_backend(target: str, options: ModelOptions) -> BatchingEngine:
    """`scripted:<file.yaml>` with `rules: [{match: REGEX, reply: TEXT}]` and `default: TEXT`."""
    doc = read_document(target)
    data = doc.data
    if not isinstance(data, dict) or set(data) - {"rules", "default"}:
        raise SpecError(target, "a script has only 'rules' (a list) and 'default' (a string)")
    rules = []
    for i, rule in enumerate(data.get("rules", [])):
        if not isinstance(rule, dict) or set(rule) != {"match", "reply"}:
            raise doc.error("each rule has exactly 'match' and 'reply'", ["rules", i])
        try:
            re.compile(rule["match"])
        except re.error as exc:
            raise doc.error(f"bad regular expression: {exc}", ["rules", i, "match"]) from None
        rules.append((str(rule["match"]), str(rule["reply"])))
    backend = ScriptedBackend(
        rules, str(data.get("default", "Okay.")), max_batch_size=options.max_batch_size
    )
    return BatchingEngine(options.spec, backend)


__all__ = ["ScriptedBackend", "build_scripted_backend", "request_text", "scripted_engine"]
