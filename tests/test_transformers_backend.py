"""The transformers backend on the real packaged model (SmolLM2-135M, CPU)."""

from __future__ import annotations

import pytest

from harness.engine.base import Request, Sampling
from harness.engine.offline import packaged_path, prepare_gguf, prepared_dir, source_info
from harness.engine.transformers_backend import TransformersBackend

pytestmark = pytest.mark.slow

PROMPTS = [
    "Customer: My parcel never arrived and I want my money back.\nAgent:",
    "Customer: Hi.\nAgent:",
    "A support chat.\nCustomer: You billed me twice this month, and I am furious about it.\nAgent:",
]


@pytest.fixture(scope="module")
def backend() -> TransformersBackend:
    folder = prepare_gguf(packaged_path("smollm2-135m"))
    return TransformersBackend(str(folder), device="cpu", dtype="float32", max_batch_size=8)


def gen(backend, prompt: str, **sampling) -> str:
    [out] = backend.generate_batch([Request(Sampling(**sampling), prompt=prompt)])
    return out.text


def test_the_packaged_gguf_is_prepared_once_with_its_hash() -> None:
    gguf = packaged_path("smollm2-135m")
    folder = prepared_dir(gguf)
    assert folder is not None and (folder / "model.safetensors").exists()
    assert prepare_gguf(gguf) == folder  # already prepared: nothing redone
    assert len(source_info(folder)["sha256"]) == 64


def test_same_seed_same_text_and_seeds_matter(backend) -> None:
    kw = dict(temperature=1.0, top_p=0.95, max_new_tokens=12)
    first = gen(backend, PROMPTS[0], seed=1, **kw)
    assert first == gen(backend, PROMPTS[0], seed=1, **kw)
    others = {gen(backend, PROMPTS[0], seed=s, **kw) for s in (2, 3, 4)}
    assert others - {first}


def test_a_reply_does_not_depend_on_its_batch(backend) -> None:
    """Left padding, positions and per-request random generators keep rows independent."""
    for sampling in (dict(temperature=0.0), dict(temperature=0.8, seed=5)):
        alone = [gen(backend, p, max_new_tokens=10, **sampling) for p in PROMPTS]
        batch = backend.generate_batch(
            [Request(Sampling(max_new_tokens=10, **sampling), prompt=p) for p in PROMPTS]
        )
        assert [c.text for c in batch] == alone


def test_per_request_budgets_and_stop_strings(backend) -> None:
    requests = [
        Request(Sampling(temperature=0.0, max_new_tokens=3), prompt=PROMPTS[0]),
        Request(Sampling(temperature=0.0, max_new_tokens=40, stop=(" ",)), prompt=PROMPTS[1]),
        Request(Sampling(temperature=0.0, max_new_tokens=20), prompt=PROMPTS[2]),
    ]
    short, stopped, longer = backend.generate_batch(requests)
    assert short.completion_tokens == 3 and short.finish_reason == "length"
    assert stopped.finish_reason == "stop" and " " not in stopped.text.strip()
    assert longer.completion_tokens <= 20 and short.prompt_tokens > 0


def test_chat_requests_use_the_chat_template(backend) -> None:
    assert backend.supports_chat()
    messages = ({"role": "system", "content": "You are a support agent."},
                {"role": "user", "content": "My order is late."})  # fmt: skip
    rendered = backend.render(Request(Sampling(), messages=messages))
    assert "<|im_start|>assistant" in rendered
    [out] = backend.generate_batch(
        [Request(Sampling(temperature=0, max_new_tokens=16), messages=messages)]
    )
    assert out.text.strip()


def test_reusing_earlier_prompts_changes_no_reply_and_saves_prefill() -> None:
    """Turn after turn, prompts extend earlier ones; reusing their KV cache must not change
    what is generated, and must skip most of the prompt."""
    folder = prepare_gguf(packaged_path("smollm2-135m"))
    reuse = TransformersBackend(str(folder), device="cpu", dtype="float32")
    fresh = TransformersBackend(str(folder), device="cpu", dtype="float32", prefix_cache_tokens=0)
    assert reuse.prefix is not None and fresh.prefix is None
    histories = [PROMPTS[0], PROMPTS[2]]
    previous: list[int] = [0, 0]
    cached = prompted = 0
    for turn in range(3):
        requests = [
            Request(Sampling(temperature=0.7, seed=turn, max_new_tokens=8), prompt=h)
            for h in histories
        ]
        with_reuse = reuse.generate_batch(requests)
        without = fresh.generate_batch(requests)
        assert [c.text for c in with_reuse] == [c.text for c in without]
        assert all(c.cached_tokens == 0 for c in without)
        # the whole previous prompt comes from the cache; only the reply and the new line do not
        assert [c.cached_tokens for c in with_reuse] == previous
        previous = [c.prompt_tokens for c in with_reuse]
        cached += sum(c.cached_tokens for c in with_reuse)
        prompted += sum(c.prompt_tokens for c in with_reuse)
        # the next turn repeats this prompt, the reply, and a new agent line of differing length
        histories = [
            f"{h}{c.text}\nCustomer: {'Okay.' if i else 'I see, and then what happens?'}\nAgent:"
            for i, (h, c) in enumerate(zip(histories, with_reuse, strict=True))
        ]
    assert cached / prompted > 0.5  # over the three turns, most of the prompt was reused


def test_choice_probabilities_are_the_models_next_token_probabilities(backend) -> None:
    """A request with choices generates nothing and reads the prompt's own next-token
    distribution, also when it shares a batch with ordinary requests."""
    import torch

    prompt = "Rate the reply from 1 to 5.\nReply: I'm sorry, I'll refund you today.\nScore:"
    choices = (" 1", " 2", " 3", " 4", " 5")
    scored, plain = backend.generate_batch([
        Request(Sampling(temperature=0.0), prompt=prompt, choices=choices),
        Request(Sampling(temperature=0.0, max_new_tokens=6), prompt=PROMPTS[0]),
    ])  # fmt: skip
    assert scored.text == "" and scored.completion_tokens == 0
    assert plain.text == gen(backend, PROMPTS[0], temperature=0.0, max_new_tokens=6)
    # this tokenizer writes " 3" as " " and "3": the shared " " is part of the prompt
    ids = backend.tokenizer(prompt + " ", return_tensors="pt").input_ids
    with torch.inference_mode():
        probs = torch.softmax(backend.model(input_ids=ids).logits[0, -1].float(), dim=-1)
    for choice in choices:
        token = backend.tokenizer(choice.strip()).input_ids[0]
        assert scored.choice_probs[choice] == pytest.approx(float(probs[token]), rel=1e-3)
    assert len(set(scored.choice_probs.values())) == 5
    assert 0 < sum(scored.choice_probs.values()) <= 1


def test_the_model_judge_on_the_packaged_model_reads_probabilities() -> None:
    import asyncio

    from harness.engine.registry import EnginePool
    from harness.judge import open_judge
    from harness.judge.base import Conversation
    from harness.personas.rubric import load_rubric

    rubric = load_rubric("rubrics/deescalation.yaml")
    rubric = rubric.__class__(**{**rubric.__dict__, "criteria": rubric.criteria[:3]})
    turns = ({"role": "customer", "text": "My parcel is late."},
             {"role": "agent", "text": "I'm sorry. I'll send a new one today, arriving Friday."})  # fmt: skip
    c = Conversation("c", turns)
    judge = open_judge("model:offline:smollm2-135m", EnginePool())
    first = asyncio.run(judge.judge([c, c], rubric))
    again = asyncio.run(judge.judge([c], rubric))
    for score in first[0].scores.values():
        assert score.value is not None and 1 <= score.value <= 5
        assert score.confidence is not None and 0 <= score.confidence <= 1
        assert "expected score over the model's probabilities" in score.rationale
    # the same scores, alone or in a batch (up to float rounding of padded batches)
    for other in (first[1], again[0]):
        for key, score in first[0].scores.items():
            assert other.scores[key].value == pytest.approx(score.value, abs=1e-3)


def test_ignore_eos_decodes_exactly_the_budget(backend) -> None:
    """Benchmarks give every row the same work: with ignore_eos a row never stops early."""
    chat = ({"role": "user", "content": "Say only: OK"},)  # the model answers briefly and stops
    greedy = dict(temperature=0.0, max_new_tokens=40)
    [free] = backend.generate_batch([Request(Sampling(**greedy), messages=chat)])
    [fixed] = backend.generate_batch([Request(Sampling(**greedy, ignore_eos=True), messages=chat)])
    assert free.finish_reason == "stop" and free.completion_tokens < 40  # the model does stop
    assert fixed.completion_tokens == 40 and fixed.finish_reason == "length"
    assert fixed.text.startswith(free.text)  # the same greedy answer, then more


def _prefill_rows(backend) -> list[int]:
    """Rows of every multi-token forward pass the backend makes from now on (its prefills)."""
    seen: list[int] = []
    forward = backend.model.forward

    def spy(*args, **kwargs):
        ids = kwargs.get("input_ids")
        if ids is not None and ids.shape[1] > 1:
            seen.append(ids.shape[0])
        return forward(*args, **kwargs)

    backend.model.forward = spy
    return seen


def test_n_samples_share_one_prefill_and_equal_separate_requests() -> None:
    folder = prepare_gguf(packaged_path("smollm2-135m"))
    backend = TransformersBackend(str(folder), device="cpu", dtype="float32", prefix_cache_tokens=0)
    sampling = Sampling(temperature=1.0, top_p=0.95, max_new_tokens=10, seed=11, stop=("\n",))
    many = Request(sampling, prompt=PROMPTS[2], n=4)
    prefills = _prefill_rows(backend)
    [together] = backend.generate_batch([many])
    assert prefills == [1]  # the prompt was computed once for the four samples
    alone = [backend.generate_batch([many.one_sample(k)])[0] for k in range(4)]
    assert [c.text for c in together.samples] == [c.text for c in alone]
    assert len({c.text for c in together.samples}) > 1  # their own seeds, not one text 4 times
    # and beside other requests in a batch
    plain = Request(Sampling(temperature=0.0, max_new_tokens=6), prompt=PROMPTS[0])
    mixed, other = backend.generate_batch([many, plain])
    assert [c.text for c in mixed.samples] == [c.text for c in alone]
    assert other.text == gen(backend, PROMPTS[0], temperature=0.0, max_new_tokens=6)


def test_prompts_sharing_a_prefix_in_one_batch_compute_it_once() -> None:
    """Episodes of one persona open with the same text: within a batch it is computed once,
    and no reply changes."""
    folder = prepare_gguf(packaged_path("smollm2-135m"))
    shared = TransformersBackend(str(folder), device="cpu", dtype="float32")
    fresh = TransformersBackend(str(folder), device="cpu", dtype="float32", prefix_cache_tokens=0)
    head = PROMPTS[2].removesuffix("\nAgent:") + " I have been a customer for ten years."
    prompts = [f"{head}\nAgent: {line}\nCustomer:" for line in ("Sorry.", "Why?", "Hello.")]
    requests = [Request(Sampling(temperature=0.8, seed=3, max_new_tokens=8), prompt=p)
                for p in prompts]  # fmt: skip
    with_sharing = shared.generate_batch(requests)
    assert [c.text for c in with_sharing] == [c.text for c in fresh.generate_batch(requests)]
    head_tokens = len(shared.tokenizer(head).input_ids)
    assert all(c.cached_tokens >= head_tokens - 1 for c in with_sharing)


def test_fp16_weights_load_generate_and_stay_close_to_float32(backend) -> None:
    """The CPU default keeps the weights in float16: the next-token distribution stays that
    of the float32 model to within float16 rounding, and sampling stays seeded."""
    import torch

    folder = prepare_gguf(packaged_path("smollm2-135m"))
    half = TransformersBackend(str(folder), device="cpu", dtype="float32", quantize="fp16")
    assert half.describe()["quantize"] == "fp16" and backend.describe()["quantize"] == "none"
    assert not any(isinstance(m, torch.nn.Linear) for m in half.model.modules())
    ids = backend.tokenizer(PROMPTS[0], return_tensors="pt").input_ids
    with torch.inference_mode():
        p32 = torch.softmax(backend.model(input_ids=ids).logits[0, -1], -1)
        p16 = torch.softmax(half.model(input_ids=ids).logits[0, -1], -1)
    assert float((p32 - p16).abs().sum()) < 0.05  # total variation distance x 2
    kw = dict(temperature=0.9, seed=4, max_new_tokens=12)
    assert gen(half, PROMPTS[1], **kw) == gen(half, PROMPTS[1], **kw)
    assert gen(half, PROMPTS[1], **kw).strip()
