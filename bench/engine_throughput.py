"""Engine throughput against the model's own batched speed, in one run, on one machine.

    .venv/bin/python bench/engine_throughput.py [--model offline:smollm2-135m] [--concurrency 16]
        [--prompt-tokens 400] [--new-tokens 64] [--compiled]

The same N prompts (distinct, about P tokens each) and G new tokens each (EOS ignored, so every
row decodes exactly G tokens), through:
  (a) the harness engine with N requests at once (`BatchingEngine` over the transformers
      backend, prefix cache off so no prompt is reused);
  (b) the same requests one at a time through the engine;
  (c) plain batched `model.generate` of the same model over the same prompts;
  (d) with --compiled: `generate` with a static cache and torch.compile (slow to compile on CPU).
Prints generated tokens per second for each and the ratios a/b, a/c (and a/d).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time

import torch

from harness.engine.base import Request, Sampling
from harness.engine.registry import EnginePool, ModelOptions

FILLER = ("The customer wrote about a late delivery, a double charge and a router that will not "
          "connect; the agent listened, asked for the order number and offered a refund. ")  # fmt: skip


def prompts(tokenizer, n: int, length: int) -> list[str]:
    out = []
    for i in range(n):
        text = f"Conversation {i}. "
        while len(tokenizer(text).input_ids) < length:
            text += FILLER
        ids = tokenizer(text).input_ids[:length]
        out.append(tokenizer.decode(ids))
    return out


def requests(texts: list[str], new_tokens: int) -> list[Request]:
    return [
        Request(
            Sampling(temperature=0.0, max_new_tokens=new_tokens, seed=i, ignore_eos=True), prompt=t
        )
        for i, t in enumerate(texts)
    ]


async def through_engine(engine, batch: list[Request], at_once: bool) -> tuple[float, int]:
    start = time.perf_counter()
    if at_once:
        done = await asyncio.gather(*(engine.generate(r) for r in batch))
    else:
        done = [await engine.generate(r) for r in batch]
    return time.perf_counter() - start, sum(c.completion_tokens for c in done)


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
    parser.add_argument("--compiled", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    options = ModelOptions(spec=args.model, prefix_cache_tokens=0, max_batch_size=args.concurrency)
    engine = EnginePool().get(options)
    backend = engine.backend
    texts = prompts(backend.tokenizer, args.concurrency, args.prompt_tokens)
    batch = requests(texts, args.new_tokens)
    asyncio.run(through_engine(engine, batch[:2], True))  # warm up
    figures = {
        "a": asyncio.run(through_engine(engine, batch, True)),
        "b": asyncio.run(through_engine(engine, batch, False)),
        "c": plain_generate(backend, texts, args.new_tokens),
    }
    if args.compiled:
        figures["d"] = plain_generate(backend, texts, args.new_tokens, compiled=True)
    names = {"a": "harness engine, all at once", "b": "harness engine, one at a time",
             "c": "plain batched generate", "d": "static cache + torch.compile generate"}  # fmt: skip
    print(f"machine: {platform.machine()} {platform.processor() or ''}, torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}, device {backend.device}")  # fmt: skip
    print(f"model {args.model}; {args.concurrency} requests x {args.prompt_tokens} prompt tokens "
          f"x {args.new_tokens} new tokens (EOS ignored)")  # fmt: skip
    rate = {k: tokens / wall for k, (wall, tokens) in figures.items()}
    for key, (wall, tokens) in figures.items():
        print(
            f"({key}) {names[key]:<40} {tokens:>6} tokens {wall:8.2f} s {rate[key]:9.1f} tokens/s"
        )
    print(
        f"a/b {rate['a'] / rate['b']:.2f}x   a/c {rate['a'] / rate['c']:.2f}x"
        + (f"   a/d {rate['a'] / rate['d']:.2f}x" if "d" in rate else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
