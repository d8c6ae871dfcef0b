"""Engine throughput against the model's own batched speed, and the CPU paths side by side, in
one run, on one machine.

    .venv/bin/python bench/engine_throughput.py [--model offline:smollm2-135m] [--concurrency 16]
        [--prompt-tokens 400] [--new-tokens 64] [--repeats 2] [--compiled]

The same N prompts (distinct, about P tokens each) and G new tokens each (EOS ignored, so every
row decodes exactly G tokens), greedy, prefix cache off, through:
  (a) the harness engine with N requests at once, for each CPU path: float32 weights or
      float16 weights (`quantize`), 1 or 2 threads; interleaved and repeated, since other work
      on the machine moves absolute figures;
  (b) the same requests one at a time through the engine (the default path);
  (c) plain batched `model.generate` of the float32 model over the same prompts;
  (d) with --compiled: `generate` with a static cache and torch.compile (slow to compile on CPU);
  (e) N/4 prompts with n=4 samples each (one prefill per prompt) against the same N/4 prompts
      sent 4 times as separate requests (every copy prefilled).
Prints generated tokens per second for each, the prefill and decode time of (a) and the ratios.
torch is imported before harness.engine sets OMP_WAIT_POLICY, so the shell's value is the one
measured: run it with OMP_WAIT_POLICY=PASSIVE (what deesc sets) and with ACTIVE.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time

import torch

from harness.engine.base import BatchingEngine, Request, Sampling
from harness.engine.registry import ModelOptions, open_engine

FILLER = ("The customer wrote about a late delivery, a double charge and a router that will not "
          "connect; the agent listened, asked for the order number and offered a refund. ")  # fmt: skip
# (quantize, threads): float32 on 2 threads is what the engine did before issue 19
PATHS = [("none", 2), ("none", 1), ("fp16", 2), ("fp16", 1)]


def prompts(tokenizer, n: int, length: int) -> list[str]:
    out = []
    for i in range(n):
        text = f"Conversation {i}. "
        while len(tokenizer(text).input_ids) < length:
            text += FILLER
        ids = tokenizer(text).input_ids[:length]
        out.append(tokenizer.decode(ids))
    return out


def requests(texts: list[str], new_tokens: int, n: int = 1) -> list[Request]:
    sampling = lambda i: Sampling(temperature=0.0, max_new_tokens=new_tokens, seed=i,  # noqa: E731
                                  ignore_eos=True)  # fmt: skip
    return [Request(sampling(i), prompt=t, n=n) for i, t in enumerate(texts)]


async def through_engine(engine, batch: list[Request], at_once: bool) -> tuple[float, int]:
    start = time.perf_counter()
    if at_once:
        done = await asyncio.gather(*(engine.generate(r) for r in batch))
    else:
        done = [await engine.generate(r) for r in batch]
    return time.perf_counter() - start, sum(s.completion_tokens for c in done for s in c.samples)


def prefill_seconds(engine: BatchingEngine, texts: list[str]) -> float:
    """One batched prefill and a single decode step: what (a) spends before decoding."""
    start = time.perf_counter()
    asyncio.run(through_engine(engine, requests(texts, 1), True))
    return time.perf_counter() - start


def plain_generate(
    backend, texts: list[str], new_tokens: int, compiled: bool = False
) -> tuple[float, int]:
    tok, model = backend.tokenizer, backend.model
    inputs = tok(texts, return_tensors="pt", padding=True).to(backend.device)
    kwargs = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                  pad_token_id=tok.pad_token_id)  # fmt: skip
    if compiled:
        kwargs["cache_implementation"] = "static"
        model.forward = torch.compile(model.forward, mode="reduce-overhead", fullgraph=True)
        with torch.inference_mode():
            model.generate(**inputs, **kwargs)  # compile and warm up
    with torch.inference_mode():
        start = time.perf_counter()
        out = model.generate(**inputs, **kwargs)
        wall = time.perf_counter() - start
    return wall, int((out.shape[1] - inputs.input_ids.shape[1]) * out.shape[0])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="offline:smollm2-135m")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--prompt-tokens", type=int, default=400)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--compiled", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    engines = {
        path: open_engine(ModelOptions(spec=args.model, prefix_cache_tokens=0, quantize=path[0],
                                       threads=path[1], max_batch_size=args.concurrency))
        for path in PATHS
    }  # fmt: skip
    default = engines[("fp16", len(os.sched_getaffinity(0)))]
    texts = prompts(default.backend.tokenizer, args.concurrency, args.prompt_tokens)
    batch = requests(texts, args.new_tokens)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.1f} at start, "
          f"torch {torch.__version__}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")  # fmt: skip
    print(f"model {args.model}; {args.concurrency} requests x {args.prompt_tokens} prompt tokens "
          f"x {args.new_tokens} new tokens (EOS ignored), greedy")  # fmt: skip
    rates: dict[str, list[float]] = {}
    for repeat in range(args.repeats):
        for (quantize, threads), engine in engines.items():
            torch.set_num_threads(threads)
            asyncio.run(through_engine(engine, batch[:2], True))  # warm up
            prefill = prefill_seconds(engine, texts)
            wall, tokens = asyncio.run(through_engine(engine, batch, True))
            name = f"(a) engine, {'float16' if quantize == 'fp16' else 'float32'} weights, " \
                   f"{threads} thread{'s' if threads > 1 else ''}"  # fmt: skip
            rates.setdefault(name, []).append(tokens / wall)
            step_ms = (wall - prefill) / max(1, args.new_tokens - 1) * 1000
            print(f"[{repeat}] {name:<40} {tokens:>6} tokens {wall:8.2f} s {tokens / wall:7.1f} "
                  f"tokens/s; prefill {prefill:6.2f} s, decode {step_ms:6.0f} ms/step "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    torch.set_num_threads(default.backend.describe()["threads"])
    wall, tokens = asyncio.run(through_engine(default, batch, False))
    print(f"(b) engine, default path, one at a time   {tokens:>6} tokens {wall:8.2f} s "
          f"{tokens / wall:7.1f} tokens/s")  # fmt: skip
    wall, tokens = plain_generate(engines[("none", 1)].backend, texts, args.new_tokens)
    print(f"(c) plain batched generate, float32, 1 thread {tokens:>6} tokens {wall:8.2f} s "
          f"{tokens / wall:7.1f} tokens/s")  # fmt: skip
    if args.compiled:
        wall, tokens = plain_generate(engines[("none", 1)].backend, texts, args.new_tokens, True)
        print(f"(d) static cache + torch.compile generate {tokens:>6} tokens {wall:8.2f} s "
              f"{tokens / wall:7.1f} tokens/s")  # fmt: skip
    quarter = texts[: max(1, args.concurrency // 4)]
    shared = asyncio.run(through_engine(default, requests(quarter, args.new_tokens, n=4), True))
    copies = asyncio.run(through_engine(default, requests(quarter * 4, args.new_tokens), True))
    print(f"(e) {len(quarter)} prompts x n=4 samples: {shared[0]:.2f} s; the same as "
          f"{4 * len(quarter)} separate requests: {copies[0]:.2f} s "
          f"({copies[0] / shared[0]:.2f}x)")  # fmt: skip
    base = sum(rates[next(iter(rates))]) / args.repeats
    for name, values in rates.items():
        print(f"mean {name:<40} {sum(values) / len(values):7.1f} tokens/s, "
              f"{sum(values) / len(values) / base:.2f}x float32 on 2 threads")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
