"""The engine: batching of concurrent requests, stop strings, specs and options."""

from __future__ import annotations

import asyncio

import pytest

from harness.engine.base import BatchingEngine, EngineError, Request, Sampling, apply_stop
from harness.engine.registry import EnginePool, ModelOptions, open_engine, split_spec
from harness.engine.scripted import ScriptedBackend, build_scripted_backend, scripted_engine
from harness.errors import DeescError, SpecError


def req(text: str, seed: int = 0, **sampling) -> Request:
    return Request(Sampling(seed=seed, **sampling), prompt=text)


def test_requests_arriving_together_share_a_batch() -> None:
    backend = ScriptedBackend(responder=lambda r: r.prompt.upper())
    engine = scripted_engine(backend)

    async def episode(i: int) -> list[str]:
        out = []
        for turn in range(3):
            out.append((await engine.generate(req(f"e{i} t{turn}"))).text)
            await asyncio.sleep(0)  # episode work between model calls
        return out

    async def main():
        return await asyncio.gather(*(episode(i) for i in range(10)))

    results = asyncio.run(main())
    assert results[3] == ["E3 T0", "E3 T1", "E3 T2"]
    assert backend.batch_sizes == [10, 10, 10]
    assert engine.stats.requests == 30 and engine.stats.batches == 3


def test_batches_respect_the_size_limit() -> None:
    backend = ScriptedBackend(default="x", max_batch_size=4)
    engine = scripted_engine(backend)

    async def main():
        return await asyncio.gather(*(engine.generate(req(str(i))) for i in range(10)))

    asyncio.run(main())
    assert backend.batch_sizes == [4, 4, 2]


def test_a_failing_batch_fails_its_requests_and_the_engine_recovers() -> None:
    class FlakyBackend(ScriptedBackend):
        def generate_batch(self, requests):
            if not self.batch_sizes:
                self.batch_sizes.append(len(requests))
                raise RuntimeError("out of memory")
            return super().generate_batch(requests)

    engine = scripted_engine(FlakyBackend(default="fine"))

    async def main():
        with pytest.raises(RuntimeError, match="out of memory"):
            await engine.generate(req("a"))
        return await engine.generate(req("b"))

    assert asyncio.run(main()).text == "fine"


def test_a_failing_request_fails_alone_in_its_batch() -> None:
    def responder(request: Request) -> str:
        if request.prompt == "bad":
            raise ValueError("prompt too long")
        return "ok"

    backend = ScriptedBackend(responder=responder)
    engine = scripted_engine(backend)

    async def main():
        return await asyncio.gather(
            engine.generate(req("good")), engine.generate(req("bad")), return_exceptions=True
        )

    good, bad = asyncio.run(main())
    assert backend.batch_sizes == [2]
    assert good.text == "ok"
    assert isinstance(bad, EngineError) and "ValueError: prompt too long" in str(bad)


def test_stop_strings_and_token_budget() -> None:
    assert apply_stop("Hi there\nAgent: no", ["\nAgent", "zzz"]) == ("Hi there", True)
    assert apply_stop("plain", ["\n"]) == ("plain", False)
    assert apply_stop("\n\nHello.\nAgent: x", ["\n"]) == ("\n\nHello.", True)
    engine = scripted_engine(ScriptedBackend(default="one two three four\nAgent: x"))

    async def main():
        stopped = await engine.generate(req("p", stop=("\nAgent",)))
        cut = await engine.generate(req("p", max_new_tokens=2))
        return stopped, cut

    stopped, cut = asyncio.run(main())
    assert (stopped.text, stopped.finish_reason) == ("one two three four", "stop")
    assert (cut.text, cut.finish_reason) == ("one two", "length")


def test_a_request_has_a_prompt_or_messages() -> None:
    with pytest.raises(ValueError):
        Request(Sampling())
    with pytest.raises(ValueError):
        Request(Sampling(), prompt="a", messages=({"role": "user", "content": "b"},))


def test_model_specs() -> None:
    assert split_spec("openai:http://h:1/v1#m") == ("openai", "http://h:1/v1#m")
    with pytest.raises(DeescError, match="SCHEME:TARGET"):
        split_spec("smollm")
    with pytest.raises(DeescError, match="unknown model scheme 'vllm'"):
        open_engine(ModelOptions(spec="vllm:x"))
    with pytest.raises(DeescError, match="openai:<http"):
        open_engine(ModelOptions(spec="openai:localhost#m"))
    with pytest.raises(DeescError, match="no such file"):
        open_engine(ModelOptions(spec="gguf:/no/such/model.gguf"))
    with pytest.raises(DeescError, match="not a language model"):
        open_engine(ModelOptions(spec="offline:all-minilm-l6-v2"))


def test_model_options_from_a_run_file_value() -> None:
    assert ModelOptions.from_config("hf:x").spec == "hf:x"
    opts = ModelOptions.from_config({"spec": "hf:x", "temperature": 0.2}, max_new_tokens=9)
    assert (opts.temperature, opts.max_new_tokens) == (0.2, 9)
    s = opts.sampling(seed=3, stop=("\n",))
    assert (s.seed, s.temperature, s.stop, s.max_new_tokens) == (3, 0.2, ("\n",), 9)


def test_the_pool_shares_one_engine_per_loaded_model() -> None:
    pool = EnginePool()
    a = ModelOptions(spec="scripted:tests/data/golden/customer-script.yaml", temperature=0.1)
    b = ModelOptions(spec="scripted:tests/data/golden/customer-script.yaml", temperature=0.9)
    c = ModelOptions(spec="scripted:tests/data/golden/bot-script.yaml")
    assert pool.get(a) is pool.get(b)  # sampling options do not load another copy
    assert pool.get(a) is not pool.get(c)
    assert isinstance(pool.get(c), BatchingEngine)


def test_scripted_files_are_validated(tmp_path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("rules:\n  - match: '('\n    reply: x\n")
    with pytest.raises(SpecError, match="bad regular expression") as err:
        build_scripted_backend(str(bad), ModelOptions())
    assert err.value.pointer == "/rules/0/match" and err.value.line == 2


def test_n_samples_come_back_together_and_count_as_rows() -> None:
    backend = ScriptedBackend(responder=lambda r: f"seed {r.sampling.seed}", max_batch_size=4)
    engine = scripted_engine(backend)
    many = Request(Sampling(seed=7), prompt="p", n=3)

    async def main():
        return await asyncio.gather(engine.generate(many), engine.generate(req("q", seed=1)),
                                    engine.generate(req("r", seed=2)))  # fmt: skip

    together, single, last = asyncio.run(main())
    seeds = many.sample_seeds()
    assert seeds[0] == 7 and len(set(seeds)) == 3 and 8 not in seeds  # not a retry's seed + 1
    assert [c.text for c in together.samples] == [f"seed {s}" for s in seeds]
    assert together.text == "seed 7" and single.samples == (single,)
    assert backend.batch_sizes == [2, 1]  # 3 + 1 rows fill the limit of 4; the third waits
    assert engine.stats.requests == 3 and last.text == "seed 2"
    with pytest.raises(ValueError):
        Request(Sampling(), prompt="p", n=0)


def _reference_sample(logits, temperature: float, top_p: float, u: float, top_k: int) -> int:
    """The sampling rule one row at a time, as written before it was vectorised."""
    import torch

    if temperature <= 0:
        return int(torch.argmax(logits))
    top_logits, top_ids = torch.topk(logits.float(), top_k)
    probs = torch.softmax(top_logits / temperature, dim=-1)
    if top_p < 1.0:
        probs[probs.cumsum(-1) - probs >= top_p] = 0.0
    cdf = probs.cumsum(-1).tolist()
    target = u * cdf[-1]
    for i, c in enumerate(cdf):
        if c > target and probs[i] > 0:
            return int(top_ids[i])
    return int(top_ids[int((probs > 0).sum()) - 1])


def test_vectorised_sampling_equals_the_per_row_loop() -> None:
    import torch

    from harness.engine.transformers_backend import sample_tokens

    torch.manual_seed(0)
    rows, vocab, steps = 12, 500, 20
    settings = [(0.0, 0.95), (0.7, 0.95), (1.0, 1.0), (1.3, 0.5), (0.2, 0.9), (1.0, 0.99)] * 2
    temperature = torch.tensor([t for t, _ in settings])
    top_p = torch.tensor([p for _, p in settings])
    draws = torch.stack([torch.rand(steps, generator=torch.Generator().manual_seed(s))
                         for s in range(rows)])  # fmt: skip
    for step in range(steps):
        logits = torch.randn(rows, vocab) * 3
        together = sample_tokens(logits, temperature, top_p, draws[:, step], top_k=64).tolist()
        alone = [
            _reference_sample(logits[r], *settings[r], float(draws[r, step]), top_k=64)
            for r in range(rows)
        ]
        assert together == alone
        # a row's token does not depend on the other rows of its batch
        for r in (1, 7):
            one = sample_tokens(logits[r : r + 1], temperature[r : r + 1], top_p[r : r + 1],
                                draws[r : r + 1, step], top_k=64)  # fmt: skip
            assert one.tolist() == [together[r]]


def test_sampling_follows_the_models_distribution() -> None:
    import torch

    from harness.engine.transformers_backend import sample_tokens

    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(4000, 1)
    u = torch.rand(4000, generator=torch.Generator().manual_seed(1))
    ones = torch.ones(4000)
    counts = torch.bincount(sample_tokens(logits, ones, ones, u, top_k=4), minlength=4) / 4000
    assert counts.tolist() == pytest.approx([0.5, 0.3, 0.15, 0.05], abs=0.03)
    nucleus = sample_tokens(logits, ones, ones * 0.7, u, top_k=4)  # 0.5 + 0.3 reach 0.7
    assert set(nucleus.tolist()) == {0, 1}
