"""`deesc appraisal train`: train the classifier head on the corpus and measure it.

Seeded end to end: the corpus, the validation slice (for per-behaviour thresholds), the head's
initialisation and batches. The test split (held-out phrasings) is used once, for the report,
together with the lexicon appraisal on the same examples as the baseline.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from harness.appraisal.base import Appraiser
from harness.appraisal.classifier import (
    CARD,
    ENCODER,
    LAYERS,
    LEARNED,
    WEIGHTS,
    Encoder,
    build_head,
    default_dir,
    features,
    fingerprint,
    is_current,
    sentences,
)
from harness.appraisal.corpus import Example, build_corpus
from harness.behaviours import NAMES
from harness.fileio import atomic_write_json

# confusions a trainer cares about: (gold behaviour, behaviour wrongly predicted instead)
CONFUSIONS = (
    ("apologise", "over_apologise"),
    ("over_apologise", "apologise"),
    ("set_boundary_respectfully", "dismiss"),
    ("dismiss", "acknowledge_feelings"),
    ("explain_policy_with_alternative", "refuse_without_alternative"),
    ("refuse_without_alternative", "explain_policy_with_alternative"),
    ("escalate_to_supervisor", "unnecessary_transfer_or_hold"),
    ("paraphrase", "acknowledge_feelings"),
)


def prf(gold: list[set[str]], pred: list[set[str]]) -> dict[str, Any]:
    """Per-behaviour precision, recall, F1 and support; micro and macro F1."""
    per: dict[str, dict[str, float]] = {}
    tp_all = fp_all = fn_all = 0
    for name in NAMES:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if name in g and name in p)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if name not in g and name in p)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if name in g and name not in p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per[name] = {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
                     "support": tp + fn}  # fmt: skip
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    micro = 2 * tp_all / (2 * tp_all + fp_all + fn_all) if tp_all else 0.0
    macro = sum(v["f1"] for v in per.values()) / len(per)
    return {"per_behaviour": per, "micro_f1": round(micro, 3), "macro_f1": round(macro, 3)}


def confusions(gold: list[set[str]], pred: list[set[str]]) -> dict[str, int]:
    return {
        f"{a} -> {b}": sum(
            1
            for g, p in zip(gold, pred, strict=True)
            if a in g and a not in p and b in p and b not in g
        )
        for a, b in CONFUSIONS
    }


def evaluate(appraiser: Appraiser, examples: list[Example]) -> dict[str, Any]:
    many = getattr(appraiser, "appraise_many", None)
    pairs = [(e.agent, e.customer) for e in examples]
    found = many(pairs) if many else [appraiser.appraise(a, c) for a, c in pairs]
    gold = [set(e.labels) for e in examples]
    pred = [set(a.behaviours) for a in found]
    return {**prf(gold, pred), "confusions": confusions(gold, pred)}


def _labels(torch: Any, examples: list[Example]) -> Any:
    y = torch.zeros((len(examples), len(LEARNED)))
    for i, e in enumerate(examples):
        for name in e.labels:
            if name in LEARNED:
                y[i, LEARNED.index(name)] = 1.0
    return y


def _best_thresholds(probs: Any, y: Any) -> dict[str, float]:
    thresholds = {}
    for j, name in enumerate(LEARNED):
        best, best_f1 = 0.5, -1.0
        for t in [x / 20 for x in range(4, 17)]:  # 0.20 .. 0.80
            pred = probs[:, j] >= t
            tp = float((pred & (y[:, j] > 0)).sum())
            fp = float((pred & (y[:, j] == 0)).sum())
            fn = float((~pred & (y[:, j] > 0)).sum())
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f1 > best_f1:
                best, best_f1 = t, f1
        thresholds[name] = best
    return thresholds


def train(
    seed: int = 0, out: Path | None = None, epochs: int = 15, log: Any = print
) -> dict[str, Any]:
    import torch
    from safetensors.torch import save_file

    from harness.appraisal.classifier import ClassifierAppraiser
    from harness.appraisal.lexicon import LexiconAppraiser

    started = time.perf_counter()
    torch.manual_seed(seed)
    corpus = build_corpus(seed)
    train_all = [e for e in corpus if e.split == "train"]
    test = [e for e in corpus if e.split == "test"]
    shuffled = train_all[:]
    random.Random(seed).shuffle(shuffled)
    cut = len(shuffled) // 8
    valid, fit = shuffled[:cut], shuffled[cut:]

    encoder = Encoder()
    split = {e.id: sentences(e.agent) for e in train_all}
    texts = sorted({t for parts in split.values() for t in parts} | {e.customer for e in train_all})
    log(
        f"embedding {len(texts)} distinct sentences of {len(train_all)} training turns with {ENCODER} ..."
    )
    vectors = dict(zip(texts, encoder.encode(texts), strict=True))
    longest = max(len(parts) for parts in split.values())

    def padded(examples: list[Example]) -> tuple[Any, Any]:
        """Sentence features [turns, longest, features] and which positions are real."""
        width = 3 * encoder.width
        x = torch.zeros((len(examples), longest, width))
        mask = torch.zeros((len(examples), longest), dtype=torch.bool)
        for i, e in enumerate(examples):
            parts = split[e.id]
            sent = torch.stack([vectors[t] for t in parts])
            x[i, : len(parts)] = features(torch, sent, vectors[e.customer].expand_as(sent))
            mask[i, : len(parts)] = True
        return x, mask

    def turn_logits(head: Any, x: Any, mask: Any) -> Any:
        # a turn shows a behaviour when one of its sentences does
        return head(x).masked_fill(~mask.unsqueeze(-1), -1e4).max(dim=1).values

    (x_fit, m_fit), y_fit = padded(fit), _labels(torch, fit)
    # each sentence of an over-apologising turn is an apology: the head must still find them
    # to count them, so a missing `apologise` label there is not a negative
    weight = torch.ones_like(y_fit)
    over = torch.tensor(["over_apologise" in e.labels for e in fit])
    weight[over, LEARNED.index("apologise")] = 0.0
    head = build_head(torch, encoder.width)
    optimiser = torch.optim.AdamW(head.parameters(), lr=2e-3, weight_decay=1e-4)
    loss_fn = torch.nn.functional.binary_cross_entropy_with_logits
    generator = torch.Generator().manual_seed(seed)
    head.train()
    for epoch in range(epochs):
        order = torch.randperm(len(fit), generator=generator)
        total = 0.0
        for start in range(0, len(fit), 128):
            idx = order[start : start + 128]
            optimiser.zero_grad()
            logits = turn_logits(head, x_fit[idx], m_fit[idx])
            loss = loss_fn(logits, y_fit[idx], weight=weight[idx])
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
        if epoch % 10 == 9:
            log(f"epoch {epoch + 1}: loss {total / len(fit):.4f}")
    head.eval()
    with torch.inference_mode():
        valid_probs = torch.sigmoid(turn_logits(head, *padded(valid)))
    thresholds = _best_thresholds(valid_probs, _labels(torch, valid))

    folder = out or default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, folder / WEIGHTS)
    card: dict[str, Any] = {
        "encoder": ENCODER, "layers": list(LAYERS), "width": encoder.width,
        "labels": list(LEARNED),
        "thresholds": thresholds, "seed": seed, "epochs": epochs,
        "corpus": {"train": len(fit), "validation": len(valid), "test": len(test)},
    }  # fmt: skip
    (folder / CARD).write_text(json.dumps(card, indent=2) + "\n")
    log(f"evaluating on {len(test)} held-out turns ...")
    tic = time.perf_counter()
    card["test"] = evaluate(ClassifierAppraiser(folder, encoder), test)  # no second MiniLM load
    card["turns_per_second"] = round(len(test) / (time.perf_counter() - tic), 1)
    card["lexicon_test"] = evaluate(LexiconAppraiser(), test)
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    # the fingerprint marks the head complete, so the card is replaced in one step
    card["fingerprint"] = fingerprint(seed, epochs)
    atomic_write_json(folder / CARD, card)
    return card


def report(card: dict[str, Any]) -> str:
    """The per-behaviour table of a training card, classifier against the lexicon baseline."""
    test, lex = card["test"], card["lexicon_test"]
    lines = [f"{'behaviour':<34}{'P':>7}{'R':>7}{'F1':>7}{'lexicon F1':>12}{'n':>6}"]
    for name in NAMES:
        row = test["per_behaviour"][name]
        lines.append(f"{name:<34}{row['precision']:>7.3f}{row['recall']:>7.3f}{row['f1']:>7.3f}"
                     f"{lex['per_behaviour'][name]['f1']:>12.3f}{row['support']:>6}")  # fmt: skip
    lines.append(f"{'micro F1':<34}{'':>14}{test['micro_f1']:>7.3f}{lex['micro_f1']:>12.3f}")
    lines.append(f"{'macro F1':<34}{'':>14}{test['macro_f1']:>7.3f}{lex['macro_f1']:>12.3f}")
    lines.append(
        "confusions (gold -> predicted instead): "
        + ", ".join(f"{k}: {v}" for k, v in test["confusions"].items())
    )
    return "\n".join(lines)


def ensure_trained(folder: Path | None = None) -> Path:
    """The folder of a current head, training one first (under a minute) when there is none."""
    folder = folder or default_dir()
    if not is_current(folder):
        print(f"training the behaviour classifier into {folder} (once) ...", file=sys.stderr)
        train(out=folder, log=lambda m: print(m, file=sys.stderr))
    return folder
