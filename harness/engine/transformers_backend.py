"""Local models through transformers: hub ids, local folders, GGUF files, packaged defaults.

Generation is a batched decode loop of its own rather than `model.generate`, because every
request in a batch carries its own seed, temperature, top-p, token budget and stop strings:
each row samples from its own random generator, so a reply does not depend on which other
requests shared its batch. Finished rows leave the batch (and the KV cache) at once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.engine.base import BatchingEngine, Completion, Request, apply_stop
from harness.engine.offline import packaged, packaged_path, prepare_gguf, prepared_dir, source_info
from harness.engine.prefix_cache import (
    PrefixCache,
    batch_prefill_inputs,
    rows_kv,
    supports_prefix_reuse,
)
from harness.engine.registry import ModelOptions
from harness.errors import DeescError

log = logging.getLogger(__name__)


def _resolve_device_dtype(device: str, dtype: str) -> tuple[str, Any]:
    import torch

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "auto":
        # bf16 matmuls are slow on most CPUs; float32 there, bf16 on accelerators
        dtype = "float32" if device == "cpu" else "bfloat16"
    return device, getattr(torch, dtype)


class TransformersBackend:
    def __init__(
        self,
        model_path: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        max_batch_size: int = 64,
        prefix_cache_tokens: int = 32768,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device, self.dtype = _resolve_device_dtype(device, dtype)
        self.max_batch_size = max_batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=self.dtype)
        self.model.to(self.device).eval()
        self.eos_ids = self._eos_ids()
        self._torch = torch
        reuse = prefix_cache_tokens > 0 and supports_prefix_reuse(self.model.config)
        self.prefix = PrefixCache(prefix_cache_tokens) if reuse else None
        self._provenance = {
            "backend": "transformers",
            "model": model_path,
            "device": self.device,
            "dtype": str(self.dtype).removeprefix("torch."),
            "commit": getattr(self.model.config, "_commit_hash", None),
            **(provenance or {}),
        }

    def _eos_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id}
        configured = getattr(self.model.generation_config, "eos_token_id", None)
        if isinstance(configured, int):
            ids.add(configured)
        elif configured:
            ids.update(configured)
        return {i for i in ids if i is not None}

    def describe(self) -> dict[str, Any]:
        return dict(self._provenance)

    def supports_chat(self) -> bool:
        return bool(self.tokenizer.chat_template)

    def render(self, request: Request) -> str:
        if request.prompt is not None:
            return request.prompt
        if not self.supports_chat():
            raise DeescError(f"{self._provenance['model']} has no chat template; send a prompt")
        return self.tokenizer.apply_chat_template(
            list(request.messages or ()), add_generation_prompt=True, tokenize=False
        )

    def generate_batch(self, requests: Sequence[Request]) -> list[Completion]:
        with self._torch.inference_mode():
            return self._generate(list(requests))

    # nucleus sampling looks only at the most likely tokens (as transformers' default top_k=50
    # does); sorting all 49k vocabulary entries per row per step cost 8% of decode time
    TOP_K = 64

    def _sample(self, logits: Any, request: Request, generator: Any) -> int:
        torch = self._torch
        s = request.sampling
        if s.temperature <= 0:
            return int(torch.argmax(logits))
        top_logits, top_ids = torch.topk(logits.float(), self.TOP_K)
        probs = torch.softmax(top_logits / s.temperature, dim=-1)
        if s.top_p < 1.0:
            # keep the smallest prefix whose mass reaches top_p (always at least one token)
            probs[probs.cumsum(-1) - probs >= s.top_p] = 0.0
        return int(top_ids[torch.multinomial(probs, 1, generator=generator)])

    def _next_logits(self, input_ids: Any, attention: Any, positions: Any, cache: Any) -> Any:
        """Run the model over new tokens; the logits of each row's last position."""
        return self.model(
            input_ids=input_ids,
            attention_mask=attention,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,  # the vocabulary projection of every prompt position is wasted work
        ).logits[:, -1, :]

    def _generate(self, requests: list[Request]) -> list[Completion]:
        from transformers import DynamicCache

        torch = self._torch
        prompts = [self.render(r) for r in requests]
        ids = [self.tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
        choice_tokens: dict[int, dict[str, int]] = {}
        for idx, req in enumerate(requests):
            if req.choices:
                ids[idx], choice_tokens[idx] = self._choice_tokens(ids[idx], prompts[idx], req)
        rows = [(x, *self.prefix.lookup(x)) if self.prefix else (x, 0, None) for x in ids]
        input_ids, positions, attention, past = batch_prefill_inputs(
            torch, rows, self.tokenizer.pad_token_id, self.device
        )
        prompt_tokens = [len(x) for x in ids]
        generators = [
            torch.Generator(device=self.device).manual_seed(r.sampling.seed) for r in requests
        ]
        tokens: list[list[int]] = [[] for _ in requests]
        finish: list[str | None] = [None] * len(requests)
        active = list(range(len(requests)))  # request index of each row still in the batch
        cache = DynamicCache(ddp_cache_data=past) if past else DynamicCache()
        logits = self._next_logits(input_ids, attention, positions, cache)
        if self.prefix is not None:
            for x, kv in zip(ids, rows_kv(cache.layers, attention), strict=True):
                self.prefix.store(x, kv)
        choice_probs: dict[int, dict[str, float]] = {}
        for row, tokens_of in choice_tokens.items():  # read from the prompt's own logits
            probs = torch.softmax(logits[row].float(), dim=-1)
            choice_probs[row] = {c: float(probs[t]) for c, t in tokens_of.items()}
            finish[row] = "stop"
        active = [idx for idx in active if idx not in choice_probs]
        if len(active) < len(requests) and active:
            index = torch.tensor(active, device=self.device)
            cache.batch_select_indices(index)
            attention, positions, logits = attention[index], positions[index], logits[index]
        while active:
            next_ids: list[int] = []
            keep_rows: list[int] = []
            for row, idx in enumerate(active):
                req = requests[idx]
                token = self._sample(logits[row], req, generators[idx])
                if token in self.eos_ids and not req.sampling.ignore_eos:
                    finish[idx] = "stop"
                    continue
                tokens[idx].append(token)
                if req.sampling.stop:
                    text = self.tokenizer.decode(tokens[idx], skip_special_tokens=True)
                    if apply_stop(text, req.sampling.stop)[1]:
                        finish[idx] = "stop"
                        continue
                if len(tokens[idx]) >= req.sampling.max_new_tokens:
                    finish[idx] = "length"
                    continue
                keep_rows.append(row)
                next_ids.append(token)
            if not keep_rows:
                break
            if len(keep_rows) < len(active):
                index = torch.tensor(keep_rows, device=self.device)
                cache.batch_select_indices(index)
                attention = attention[index]
                positions = positions[index]
                active = [active[r] for r in keep_rows]
            attention = torch.cat([attention, attention.new_ones((len(active), 1))], dim=-1)
            positions = positions[:, -1:] + 1
            step_ids = torch.tensor(next_ids, device=self.device).unsqueeze(-1)
            logits = self._next_logits(step_ids, attention, positions, cache)
        results = []
        for idx, req in enumerate(requests):
            text = self.tokenizer.decode(tokens[idx], skip_special_tokens=True)
            text, _ = apply_stop(text, req.sampling.stop)
            results.append(
                Completion(
                    text,
                    finish[idx] or "length",
                    prompt_tokens[idx],
                    len(tokens[idx]),
                    cached_tokens=rows[idx][1],
                    choice_probs=choice_probs.get(idx),
                )
            )
        return results

    def _choice_tokens(
        self, prompt_ids: list[int], prompt: str, request: Request
    ) -> tuple[list[int], dict[str, int]]:
        """The prompt's ids to run, and the token that tells each choice apart.

        Each choice is tokenised after the prompt (" 3" after "Score:" is the token the model
        would write). Tokens all choices share (a tokenizer that writes " 3" as " " and "3")
        are appended to the prompt, as given, and the next token tells the choices apart."""
        tails = []
        for choice in request.choices:
            joined = self.tokenizer(prompt + choice, add_special_tokens=False).input_ids
            if joined[: len(prompt_ids)] == prompt_ids and len(joined) > len(prompt_ids):
                tails.append(joined[len(prompt_ids) :])
            else:
                tails.append(self.tokenizer(choice, add_special_tokens=False).input_ids)
        shared = 0
        while all(len(t) > shared + 1 for t in tails) and len({t[shared] for t in tails}) == 1:
            shared += 1
        return prompt_ids + tails[0][:shared], {
            c: t[shared] for c, t in zip(request.choices, tails, strict=True)
        }


def _engine(
    name: str, path: str, options: ModelOptions, provenance: dict[str, Any]
) -> BatchingEngine:
    backend = TransformersBackend(
        path,
        device=options.device,
        dtype=options.dtype,
        max_batch_size=options.max_batch_size,
        prefix_cache_tokens=options.prefix_cache_tokens,
        provenance=provenance,
    )
    return BatchingEngine(name, backend)


def _gguf_folder(gguf: Path) -> Path:
    folder = prepared_dir(gguf)
    if folder is None:
        log.warning("converting %s once into the local cache (deesc models prepare)", gguf)
        folder = prepare_gguf(gguf)
    return folder


def build_hf_backend(target: str, options: ModelOptions) -> BatchingEngine:
    """`hf:<hub id or local folder>`: loads from the hub only if the user has one configured."""
    return _engine(options.spec, target, options, {})


def build_gguf_backend(target: str, options: ModelOptions) -> BatchingEngine:
    gguf = Path(target).expanduser()
    if not gguf.is_file():
        raise DeescError(f"gguf: no such file {gguf}")
    folder = _gguf_folder(gguf)
    info = source_info(folder)
    return _engine(options.spec, str(folder), options, {"gguf": info})


def build_offline_backend(target: str, options: ModelOptions) -> BatchingEngine:
    """`offline:<name>`: a model shipped in a PyPI package (see `deesc models list`)."""
    if (model := packaged(target)).kind != "causal-lm":
        raise DeescError(f"offline:{target} is an {model.kind} model, not a language model")
    folder = _gguf_folder(packaged_path(target))
    return _engine(
        options.spec, str(folder), options, {"packaged": target, "gguf": source_info(folder)}
    )
