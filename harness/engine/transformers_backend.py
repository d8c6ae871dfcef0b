"""Local models through transformers: hub ids, local folders, GGUF files, packaged defaults.

Generation is a batched decode loop of its own rather than `model.generate`, because every
request in a batch carries its own seed, temperature, top-p, token budget and stop strings:
each row samples from its own random generator, so a reply does not depend on which other
requests shared its batch. Finished rows leave the batch (and the KV cache) at once.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.engine.base import BatchingEngine, Completion, Request, apply_stop, with_samples
from harness.engine.offline import packaged, packaged_path, prepare_gguf, prepared_dir, source_info
from harness.engine.prefix_cache import (
    PrefixCache,
    batch_prefill_inputs,
    common_prefix_length,
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
        # bf16 matmuls are slow on CPUs without native bf16 (measured 1.7x slower per decode
        # step than float32 on this project's AVX2 machine); float32 there, bf16 on accelerators
        dtype = "float32" if device == "cpu" else "bfloat16"
    return device, getattr(torch, dtype)


def cpu_threads(requested: int) -> int:
    """Threads for the model's CPU kernels: all cores unless asked. With 2 cores busy with
    other work this is only safe because OpenMP waits passively (harness/engine/__init__.py)."""
    return requested if requested > 0 else len(os.sched_getaffinity(0))


def fp16_weights_available() -> bool:
    import torch

    return "fbgemm" in torch.backends.quantized.supported_engines


def pack_fp16_linears(model: Any) -> int:
    """Replace every nn.Linear of `model` by one whose weights FBGEMM keeps in float16 and
    multiplies in float32; returns how many were replaced.

    Decoding on a CPU streams every weight once per step, so halving their bytes is what
    speeds it up (see bench/RESULTS.md); activations and sums stay float32. The embedding
    stays float32 (a tied output layer is packed as a copy of it)."""
    import torch

    class Fp16Linear(torch.nn.Module):
        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            self.in_features, self.out_features = linear.in_features, linear.out_features
            bias = None if linear.bias is None else linear.bias.detach().float()
            self.packed = torch.ops.quantized.linear_prepack_fp16(
                linear.weight.detach().float(), bias
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.ops.quantized.linear_dynamic_fp16(x, self.packed)

    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(parent, name, Fp16Linear(child))
                count += 1
    return count


def _resolve_quantize(quantize: str, device: str, dtype: Any) -> str:
    import torch

    if quantize == "auto":
        cpu_fp32 = device == "cpu" and dtype == torch.float32
        return "fp16" if cpu_fp32 and fp16_weights_available() else "none"
    if quantize == "fp16" and (device != "cpu" or not fp16_weights_available()):
        raise DeescError("quantize: fp16 needs the CPU and PyTorch's FBGEMM (x86-64)")
    if quantize not in ("none", "fp16"):
        raise DeescError(f"quantize must be auto, none or fp16, not {quantize!r}")
    return quantize


# nucleus sampling looks only at the most likely tokens (as transformers' default top_k=50
# does); sorting all 49k vocabulary entries per row per step cost 8% of decode time
TOP_K = 64


def sample_tokens(
    logits: Any, temperature: Any, top_p: Any, uniforms: Any, top_k: int = TOP_K
) -> Any:
    """One next token per row, all rows at once: greedy where the temperature is 0, else
    top-k, then top-p (the smallest prefix whose mass reaches it), then the token whose
    cumulative probability first exceeds the row's own uniform draw.

    The draws come from each row's own seeded generator, so a row's token depends on its
    logits, settings and seed only, never on which other rows share the batch."""
    import torch

    greedy = logits.argmax(dim=-1)
    top_logits, top_ids = torch.topk(logits.float(), min(top_k, logits.shape[-1]), dim=-1)
    warm = temperature.clamp(min=1e-6).unsqueeze(-1)
    probs = torch.softmax(top_logits / warm, dim=-1)
    # top_p of 1 keeps everything, as if there were no nucleus at all
    mass = torch.where(top_p < 1.0, top_p, torch.full_like(top_p, float("inf"))).unsqueeze(-1)
    probs = probs.masked_fill(probs.cumsum(-1) - probs >= mass, 0.0)
    cdf = probs.cumsum(-1)
    target = (uniforms * cdf[:, -1]).unsqueeze(-1)
    pick = torch.searchsorted(cdf, target, right=True).squeeze(-1)
    pick = torch.minimum(pick, (probs > 0).sum(-1) - 1)  # never a token the nucleus cut off
    sampled = top_ids.gather(-1, pick.unsqueeze(-1)).squeeze(-1)
    return torch.where(temperature > 0, sampled, greedy)


class TransformersBackend:
    def __init__(
        self,
        model_path: str,
        *,
        device: str = "auto",
        dtype: str = "auto",
        max_batch_size: int = 64,
        prefix_cache_tokens: int = 32768,
        quantize: str = "none",
        threads: int = 0,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device, self.dtype = _resolve_device_dtype(device, dtype)
        self.quantize = _resolve_quantize(quantize, self.device, self.dtype)
        if self.device == "cpu":
            torch.set_num_threads(cpu_threads(threads))
        self.max_batch_size = max_batch_size
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=self.dtype)
        self.model.to(self.device).eval()
        if self.quantize == "fp16":
            pack_fp16_linears(self.model)
        self.eos_ids = self._eos_ids()
        self._torch = torch
        reuse = prefix_cache_tokens > 0 and supports_prefix_reuse(self.model.config)
        self.prefix = PrefixCache(prefix_cache_tokens) if reuse else None
        self._provenance = {
            "backend": "transformers",
            "model": model_path,
            "device": self.device,
            "dtype": str(self.dtype).removeprefix("torch."),
            "quantize": self.quantize,
            "threads": torch.get_num_threads() if self.device == "cpu" else None,
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

    def _next_logits(self, input_ids: Any, attention: Any, positions: Any, cache: Any) -> Any:
        """Run the model over new tokens; the logits of each row's last position."""
        return self.model(
            input_ids=input_ids,
            attention_mask=attention,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,  # the vocabulary projection of every prompt position is wasted work
        ).logits[:, -1, :]

    # a prefix two prompts of one batch share is computed once first when it is this long
    MIN_SHARED_PREFIX = 16

    def _prefill_shared_prefixes(self, ids: list[list[int]]) -> None:
        """Compute, once, the prefixes that prompts of this batch share beyond what the cache
        holds (every episode of a persona opens with the same persona text), so that the
        batch's prefill finds them in the cache like an earlier turn's prompt."""
        if self.prefix is None or len(ids) < 2:
            return
        from transformers import DynamicCache

        order = sorted(range(len(ids)), key=lambda i: ids[i])
        wanted: set[tuple[int, ...]] = set()
        for a, b in itertools.pairwise(order):
            n = common_prefix_length(tuple(ids[a]), ids[b])
            n = min(n, len(ids[a]) - 1, len(ids[b]) - 1)  # each prompt keeps a token to run
            if n >= self.MIN_SHARED_PREFIX:
                wanted.add(tuple(ids[a][:n]))
        # a prefix of a longer wanted one comes with it
        prefixes = [
            list(p) for p in wanted if not any(len(q) > len(p) and q[: len(p)] == p for q in wanted)
        ]
        rows = [(p, *self.prefix.lookup(p)) for p in prefixes]
        rows = [r for r in rows if len(r[0]) - r[1] >= self.MIN_SHARED_PREFIX]
        if not rows:
            return
        input_ids, positions, attention, past = batch_prefill_inputs(
            self._torch, rows, self.tokenizer.pad_token_id, self.device
        )
        cache = DynamicCache(ddp_cache_data=past) if past else DynamicCache()
        self._next_logits(input_ids, attention, positions, cache)
        for (x, _, _), kv in zip(rows, rows_kv(cache.layers, attention), strict=True):
            self.prefix.store(x, kv)

    def _generate(self, requests: list[Request]) -> list[Completion]:
        from transformers import DynamicCache

        torch = self._torch
        prompts = [self.render(r) for r in requests]
        ids = [self.tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
        choice_tokens: dict[int, dict[str, int]] = {}
        for idx, req in enumerate(requests):
            if req.choices:
                ids[idx], choice_tokens[idx] = self._choice_tokens(ids[idx], prompts[idx], req)
        self._prefill_shared_prefixes(ids)
        # one prefill row per request, however many samples it asks for
        rows = [(x, *self.prefix.lookup(x)) if self.prefix else (x, 0, None) for x in ids]
        input_ids, positions, attention, past = batch_prefill_inputs(
            torch, rows, self.tokenizer.pad_token_id, self.device
        )
        cache = DynamicCache(ddp_cache_data=past) if past else DynamicCache()
        logits = self._next_logits(input_ids, attention, positions, cache)
        if self.prefix is not None:
            for x, kv in zip(ids, rows_kv(cache.layers, attention), strict=True):
                self.prefix.store(x, kv)
        choice_probs: dict[int, dict[str, float]] = {}
        for idx, tokens_of in choice_tokens.items():  # read from the prompt's own logits
            probs = torch.softmax(logits[idx].float(), dim=-1)
            choice_probs[idx] = {c: float(probs[t]) for c, t in tokens_of.items()}
        # then one decode row per sample: (request, sample), the prompt's KV copied to each
        samples = [
            (idx, k, seed)
            for idx, req in enumerate(requests)
            if idx not in choice_probs
            for k, seed in enumerate(req.sample_seeds())
        ]
        tokens: dict[tuple[int, int], list[int]] = {(i, k): [] for i, k, _ in samples}
        finish: dict[tuple[int, int], str] = {}
        if samples:
            self._decode(requests, samples, tokens, finish, logits, attention, positions, cache)
        results = []
        for idx, req in enumerate(requests):
            if idx in choice_probs:
                results.append(
                    Completion(
                        "",
                        "stop",
                        len(ids[idx]),
                        cached_tokens=rows[idx][1],
                        choice_probs=choice_probs[idx],
                    )
                )
                continue
            done = []
            for k in range(req.n):
                text = self.tokenizer.decode(tokens[idx, k], skip_special_tokens=True)
                text, _ = apply_stop(text, req.sampling.stop)
                reason = finish.get((idx, k), "length")
                done.append(
                    Completion(
                        text,
                        reason,
                        len(ids[idx]),
                        len(tokens[idx, k]),
                        cached_tokens=rows[idx][1],
                    )
                )
            results.append(with_samples(done))
        return results

    def _decode(
        self,
        requests: list[Request],
        samples: list[tuple[int, int, int]],
        tokens: dict[tuple[int, int], list[int]],
        finish: dict[tuple[int, int], str],
        logits: Any,
        attention: Any,
        positions: Any,
        cache: Any,
    ) -> None:
        """The decode loop over (request, sample, seed) rows; fills `tokens` and `finish`.

        Per step the model runs once and the sampling, end-of-text and budget checks are
        tensor operations over all rows; only stop strings need each row's text."""
        torch = self._torch
        of_request = [i for i, _, _ in samples]
        if of_request != list(range(len(requests))):  # choices left, or samples copied
            index = torch.tensor(of_request, device=self.device)
            cache.batch_select_indices(index)
            attention, positions, logits = attention[index], positions[index], logits[index]
        settings = [requests[i].sampling for i, _, _ in samples]
        budget = [s.max_new_tokens for s in settings]
        # each row's uniforms for its whole budget, drawn up front from its own generator
        uniforms = torch.zeros((len(samples), max(budget)))
        for row, (_, _, seed) in enumerate(samples):
            generator = torch.Generator().manual_seed(seed)
            uniforms[row, : budget[row]] = torch.rand(budget[row], generator=generator)
        uniforms = uniforms.to(self.device)
        temperature = torch.tensor([s.temperature for s in settings], device=self.device)
        top_p = torch.tensor([s.top_p for s in settings], device=self.device)
        ends = torch.tensor(
            [not s.ignore_eos for s in settings], dtype=torch.bool, device=self.device
        )
        eos = torch.tensor(sorted(self.eos_ids), device=self.device)
        active = list(range(len(samples)))  # sample index of each row still in the batch
        step = 0
        while True:
            rows = torch.tensor(active, device=self.device)
            picked = sample_tokens(logits, temperature[rows], top_p[rows], uniforms[rows, step])
            at_eos = (torch.isin(picked, eos) & ends[rows]).tolist()
            picked_list = picked.tolist()
            step += 1
            keep: list[int] = []
            for row, sample in enumerate(active):
                key = samples[sample][:2]
                if at_eos[row]:
                    finish[key] = "stop"
                    continue
                tokens[key].append(picked_list[row])
                stop = settings[sample].stop
                if stop:
                    text = self.tokenizer.decode(tokens[key], skip_special_tokens=True)
                    if apply_stop(text, stop)[1]:
                        finish[key] = "stop"
                        continue
                if step >= budget[sample]:
                    finish[key] = "length"
                    continue
                keep.append(row)
            if not keep:
                return
            if len(keep) < len(active):
                kept = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(kept)
                attention, positions, picked = attention[kept], positions[kept], picked[kept]
                active = [active[r] for r in keep]
            attention = torch.cat([attention, attention.new_ones((len(active), 1))], dim=-1)
            positions = positions[:, -1:] + 1
            logits = self._next_logits(picked.unsqueeze(-1), attention, positions, cache)

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
        quantize=options.quantize,
        threads=options.threads,
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
