"""The labelled corpus of agent turns that a behaviour classifier learns from.

Agent turns are composed from the project's own phrase banks (`data/phrases_*.yaml`, one list
per behaviour of the taxonomy, and `data/context.yaml` for hard cases, fillers, per-domain slot
vocabulary and customer turns): one to three behaviours per turn, sometimes a neutral filler,
closing behaviours last, slots filled from one support domain. The preceding customer turn is
part of each example, so `ignore_question` (the customer asked, the agent answered nothing) is
labelled from context. Phrases are split by position: every 4th phrase of every list is held
out, and test examples are built from held-out phrases only, so the test split measures how
well a classifier handles wordings it never saw. The same seed gives the same corpus.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from harness.behaviours import NAMES, with_unanswered

Split = Literal["train", "test", "natural_test"]
CONTEXT_ONLY = "ignore_question"  # labelled from the customer's turn, never from a phrase
# behaviours that `behaviours.with_turn_rules` decides for every appraisal; over-apologising
# still has phrases, so that the rule is measured on them
TURN_RULES = (CONTEXT_ONLY, "over_apologise")
# pairs one turn never shows together
EXCLUSIVE = (
    {"offer_solution", "refuse_without_alternative"},
    {"offer_choices", "refuse_without_alternative"},
    {"explain_policy_with_alternative", "refuse_without_alternative"},
    {"apologise", "over_apologise"},
    {"set_boundary_respectfully", "rude_or_sarcastic"},
    {"escalate_to_supervisor", "unnecessary_transfer_or_hold"},
)
CLOSING = ("confirm_resolution", "thank_customer")
HELD_OUT_EVERY = 4
JOIN_SHARE = 0.3
JOINERS = (", and ", "; ", ", so ", " and ", " - ")


@dataclass(frozen=True)
class Example:
    id: str
    split: Split
    domain: str
    customer: str
    agent: str
    labels: tuple[str, ...]
    hard_case: str | None = None  # composed hard cases; for natural turns, the register
    # whether the customer asked a real question (None: decided by the "?" of the turn before)
    asks: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "labels": list(self.labels)}


def _load(name: str) -> dict[str, Any]:
    text = resources.files("harness.appraisal").joinpath(f"data/{name}").read_text("utf-8")
    return yaml.safe_load(text)


@cache
def phrase_banks() -> dict[str, list[str]]:
    banks = {**_load("phrases_positive.yaml"), **_load("phrases_negative.yaml")}
    expected = set(NAMES) - {CONTEXT_ONLY}
    if set(banks) != expected:
        raise ValueError(f"phrase banks differ from the taxonomy: {sorted(set(banks) ^ expected)}")
    return banks


@cache
def context() -> dict[str, Any]:
    return _load("context.yaml")


def in_split(items: list[Any], split: Split) -> list[Any]:
    held = [x for i, x in enumerate(items) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    return held if split == "test" else [x for x in items if x not in held]


def _fill(text: str, slots: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: slots[m.group(1)], text)


def _slots(domain: str, rng: random.Random) -> dict[str, str]:
    ctx = context()
    vocab = {**ctx["domains"][domain], **ctx["slots"]}
    return {name: str(rng.choice(values)) for name, values in vocab.items()}


def _compatible(chosen: set[str], candidate: str) -> bool:
    return candidate not in chosen and not any(
        candidate in pair and chosen & (pair - {candidate}) for pair in EXCLUSIVE
    )


class _Composer:
    def __init__(self, split: Split, rng: random.Random) -> None:
        self.split, self.rng = split, rng
        self.banks = {b: in_split(p, split) for b, p in phrase_banks().items()}
        ctx = context()
        self.fillers = in_split(ctx["fillers"], split)
        self.questions = in_split(ctx["customer_turns"]["questions"], split)
        self.statements = in_split(ctx["customer_turns"]["statements"], split)
        self.domains = sorted(ctx["domains"])

    def customer(self, slots: dict[str, str]) -> str:
        asks = self.rng.random() < 0.5
        line = _fill(self.rng.choice(self.questions if asks else self.statements), slots)
        # slot vocabulary is worded for the agent ("your bill"); the customer says "my bill"
        return re.sub(r"\byour\b", "my", line)

    def turn(self, primary: str) -> tuple[str, str, str, set[str]]:
        rng = self.rng
        domain = rng.choice(self.domains)
        slots = _slots(domain, rng)
        chosen = {primary}
        for _ in range(rng.choices((0, 1, 2), weights=(4, 4, 2))[0]):
            options = [b for b in self.banks if _compatible(chosen, b)]
            chosen.add(rng.choice(options))
        # sorted first: a set's order changes with each process's string hashing
        body = sorted(b for b in chosen if b not in CLOSING)
        rng.shuffle(body)
        order = body + [b for b in CLOSING if b in chosen]
        parts = [rng.choice(self.banks[b]) for b in order]
        if rng.random() < 0.3:
            parts.insert(0, rng.choice(self.fillers))
        customer = self.customer(slots)
        agent = self.join([_fill(p, slots) for p in parts])
        return domain, customer, agent, with_unanswered(chosen, customer)

    def join(self, parts: list[str]) -> str:
        """Sentences in a row, but now and then two behaviours share one sentence ("I understand
        how frustrating this is, and I'm sorry."), as people write them."""
        text = parts[0]
        for part in parts[1:]:
            if text[-1] == "." and part[-1] in ".!" and self.rng.random() < JOIN_SHARE:
                glue = self.rng.choice(JOINERS)
                head = part if part.startswith(("I ", "I'")) else part[0].lower() + part[1:]
                text = text[:-1] + glue + head
            else:
                text += " " + part
        return text


def build_corpus(seed: int = 0, per_behaviour: int = 320) -> list[Example]:
    """`per_behaviour` turns led by each behaviour, split 3:1 into train and test, plus hard cases."""
    examples: list[Example] = []

    def add(
        split: Split,
        domain: str,
        customer: str,
        agent: str,
        labels: set[str],
        case: str | None = None,
    ) -> None:
        examples.append(Example(f"{split}-{len(examples):05d}", split, domain, customer, agent,
                                tuple(sorted(labels)), case))  # fmt: skip

    test_share = 1 / HELD_OUT_EVERY
    splits: tuple[tuple[Split, float], ...] = (("train", 1 - test_share), ("test", test_share))
    for split, share in splits:
        rng = random.Random(f"{seed}-{split}")
        composer = _Composer(split, rng)
        count = round(per_behaviour * share)
        for primary in sorted(composer.banks):
            for _ in range(count):
                add(split, *composer.turn(primary))
        for case, spec in sorted(context()["hard_cases"].items()):
            phrases = in_split(spec["phrases"], split)
            for _ in range(count // 3):
                domain = rng.choice(composer.domains)
                slots = _slots(domain, rng)
                customer = composer.customer(slots)
                agent = _fill(rng.choice(phrases), slots)
                add(
                    split,
                    domain,
                    customer,
                    agent,
                    with_unanswered(set(spec["labels"]), customer),
                    case,
                )
    return examples


NATURAL = "natural"
NATURAL_TEST = "test_t1.jsonl"  # written by a separate pass; never trained on
# the annotators' second pass over a sample, for the agreement figures only
SECOND_PASS = "second_pass.jsonl"


def _natural_rows(name: str) -> list[dict[str, Any]]:
    text = (
        resources.files("harness.appraisal").joinpath(f"data/{NATURAL}/{name}").read_text("utf-8")
    )
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def natural_files() -> list[str]:
    folder = resources.files("harness.appraisal").joinpath(f"data/{NATURAL}")
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("train_"))


def _natural_example(row: dict[str, Any], split: Split) -> Example:
    return Example(row["id"], split, row["domain"], row["customer"], row["agent"],
                   tuple(sorted(row["labels"])), row["register"],
                   asks=row["customer_question"] == "real")  # fmt: skip


@cache
def natural_corpus() -> tuple[Example, ...]:
    """Whole agent turns as real agents write them (chat, scripted, e-mail, calls, counselling,
    polite-but-unhelpful, negatives and their benign look-alikes), labelled per sentence and
    per turn to data/LABELLING.md: the training turns, and each of their sentences of two or
    more as an example of its own (its labels, the same customer turn before it)."""
    out: list[Example] = []
    for name in natural_files():
        for row in _natural_rows(name):
            out.append(_natural_example(row, "train"))
            if len(row["sentences"]) < 2:
                continue
            for i, sentence in enumerate(row["sentences"]):
                labels = set(sentence["labels"]) - {"ignore_question", "over_apologise"}
                out.append(Example(f"{row['id']}.{i}", "train", row["domain"], row["customer"],
                                   sentence["text"], tuple(sorted(labels)), row["register"],
                                   asks=False))  # fmt: skip
    return tuple(out)


def natural_test() -> list[Example]:
    """The held-out natural turns: a separate writer, other scenarios; only ever evaluated."""
    return [_natural_example(row, "natural_test") for row in _natural_rows(NATURAL_TEST)]
