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
    ANSWERS,
    ASKS,
    CARD,
    LEARNED,
    OUTPUTS,
    WEIGHTS,
    build_asks,
    build_head,
    default_dir,
    features,
    fingerprint,
    is_current,
    sentences,
    shipped_dir,
)
from harness.appraisal.corpus import Example, build_corpus, natural_corpus, natural_test
from harness.appraisal.encoder import ENCODER, LAYERS, Encoder
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


def _asks(example: Example) -> bool:
    """Whether the customer asked a real question: labelled for natural turns, by the "?" of
    the composed customer turns (their questions are all real ones)."""
    return example.asks if example.asks is not None else "?" in example.customer


def _targets(torch: Any, examples: list[Example]) -> tuple[Any, Any]:
    """Turn targets for OUTPUTS and their weights: `answers` counts only where the customer
    asked, and each sentence of an over-apologising turn is an apology the head must still
    find (to count them), so a missing `apologise` label there is not a negative."""
    y = torch.zeros((len(examples), len(OUTPUTS)))
    weight = torch.ones_like(y)
    answers, apologise = OUTPUTS.index(ANSWERS), OUTPUTS.index("apologise")
    for i, e in enumerate(examples):
        for name in e.labels:
            if name in LEARNED:
                y[i, OUTPUTS.index(name)] = 1.0
        y[i, answers] = 0.0 if "ignore_question" in e.labels else 1.0
        weight[i, answers] = 1.0 if _asks(e) else 0.0
        if "over_apologise" in e.labels:
            weight[i, apologise] = 0.0
    return y, weight


# thresholds chosen on the development corpora, over the F1-best one on the validation slice:
# at 0.2 sarcasm was read in 40% of polite requests (Stanford politeness, rated polite) and 11% of
# satisfying task dialogues; at 0.4, 19% and 5%, for natural-test F1 0.70 instead of 0.74
THRESHOLD_FLOORS = {"rude_or_sarcastic": 0.4}


def _best_thresholds(probs: Any, y: Any, weight: Any) -> dict[str, float]:
    """Per output, the threshold with the best F1 on the validation slice. (F0.5 for the
    negative behaviours was tried: 0.008 lower natural micro F1 and 0.02 lower composed macro
    F1; false alarms that would fail a conversation are kept rare by the judge's critical
    certainty instead, chosen on rated-good real conversations: bench/critical_certainty.py.)"""
    thresholds = {}
    for j, name in enumerate(OUTPUTS):
        keep = weight[:, j] > 0
        p, truth = probs[keep, j], y[keep, j] > 0
        best, best_f = 0.5, -1.0
        for t in [x / 20 for x in range(4, 17)]:  # 0.20 .. 0.80
            pred = p >= t
            tp = float((pred & truth).sum())
            fp = float((pred & ~truth).sum())
            fn = float((~pred & truth).sum())
            f = 2 * tp / (2 * tp + fn + fp) if tp else 0.0
            if f > best_f:
                best, best_f = t, f
        thresholds[name] = max(best, THRESHOLD_FLOORS.get(name, 0.0))
    return thresholds


def train(
    seed: int = 0,
    out: Path | None = None,
    epochs: int = 15,
    log: Any = print,
    embeddings: Path | None = None,
) -> dict[str, Any]:
    """Train the heads on the composed corpus and the natural turns; measure them on the
    composed test split and on the natural test set (both held out), beside the lexicon.
    `embeddings` keeps the encoder's vectors between trainings (a development convenience)."""
    import torch
    from safetensors.torch import save_file

    from harness.appraisal.classifier import ClassifierAppraiser
    from harness.appraisal.lexicon import LexiconAppraiser

    started = time.perf_counter()
    torch.manual_seed(seed)
    corpus = build_corpus(seed)
    train_all = [e for e in corpus if e.split == "train"] + list(natural_corpus())
    test = [e for e in corpus if e.split == "test"]
    held_out = natural_test()
    shuffled = train_all[:]
    random.Random(seed).shuffle(shuffled)
    cut = len(shuffled) // 8
    valid, fit = shuffled[:cut], shuffled[cut:]

    encoder = Encoder()
    split = {e.id: sentences(e.agent) for e in train_all}
    texts = sorted({t for parts in split.values() for t in parts} | {e.customer for e in train_all})
    log(
        f"embedding {len(texts)} distinct pieces of {len(train_all)} training turns with {ENCODER} ..."
    )
    vectors = _embed(torch, encoder, texts, embeddings)
    longest = max(len(parts) for parts in split.values())

    def padded(examples: list[Example]) -> tuple[Any, Any]:
        """Piece features [turns, longest, features] and which positions are real."""
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
        # a turn shows a behaviour (or answers the question) when one of its pieces does
        return head(x).masked_fill(~mask.unsqueeze(-1), -1e4).max(dim=1).values

    (x_fit, m_fit), (y_fit, w_fit) = padded(fit), _targets(torch, fit)
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
            loss = loss_fn(logits, y_fit[idx], weight=w_fit[idx])
            loss.backward()
            optimiser.step()
            total += loss.item() * len(idx)
        if epoch % 5 == 4:
            log(f"epoch {epoch + 1}: loss {total / len(fit):.4f}")
    head.eval()
    with torch.inference_mode():
        valid_probs = torch.sigmoid(turn_logits(head, *padded(valid)))
    thresholds = _best_thresholds(valid_probs, *_targets(torch, valid))
    asks = _train_asks(torch, encoder.width, fit, vectors, seed)

    folder = out or default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    # half precision: the shipped heads stay small, and a head this size reads the same in fp16
    save_file({k: v.half().contiguous() for k, v in head.state_dict().items()}, folder / WEIGHTS)
    save_file({k: v.half().contiguous() for k, v in asks.state_dict().items()}, folder / ASKS)
    card: dict[str, Any] = {
        "encoder": ENCODER, "layers": list(LAYERS), "width": encoder.width,
        "labels": list(OUTPUTS), "thresholds": thresholds, "asks_threshold": 0.5,
        "seed": seed, "epochs": epochs,
        "corpus": {"train": len(fit), "validation": len(valid), "test": len(test),
                   "natural_train_turns": sum(1 for e in fit if e.hard_case and "." not in e.id),
                   "natural_test": len(held_out)},
    }  # fmt: skip
    (folder / CARD).write_text(json.dumps(card, indent=2) + "\n")
    log(f"evaluating on {len(test)} held-out composed turns and {len(held_out)} natural turns ...")
    classifier = ClassifierAppraiser(folder, encoder)  # no second MiniLM load
    tic = time.perf_counter()
    card["test"] = evaluate(classifier, test)
    card["turns_per_second"] = round(len(test) / (time.perf_counter() - tic), 1)
    card["natural_test"] = evaluate(classifier, held_out)
    card["lexicon_test"] = evaluate(LexiconAppraiser(), test)
    card["lexicon_natural_test"] = evaluate(LexiconAppraiser(), held_out)
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    # the fingerprint marks the head complete, so the card is replaced in one step
    card["fingerprint"] = fingerprint(seed, epochs)
    atomic_write_json(folder / CARD, card)
    return card


def _train_asks(torch: Any, width: int, fit: list[Example], vectors: Any, seed: int) -> Any:
    """The customer head: does this customer turn ask a real question?"""
    labelled: dict[str, bool] = {}
    for e in fit:
        if e.customer.strip() and "." not in e.id:  # turns, not their sentence examples
            labelled[e.customer] = labelled.get(e.customer, False) or _asks(e)
    texts = sorted(labelled)
    x = torch.stack([vectors[t] for t in texts])
    y = torch.tensor([[1.0 if labelled[t] else 0.0] for t in texts])
    torch.manual_seed(seed)
    asks = build_asks(torch, width)
    optimiser = torch.optim.AdamW(asks.parameters(), lr=5e-3, weight_decay=1e-3)
    asks.train()
    for _ in range(60):
        optimiser.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(asks(x), y).backward()
        optimiser.step()
    return asks.eval()


def _embed(torch: Any, encoder: Encoder, texts: list[str], cache: Path | None) -> dict[str, Any]:
    known: dict[str, Any] = torch.load(cache) if cache and cache.exists() else {}
    missing = [t for t in texts if t not in known]
    if missing:
        known.update(zip(missing, encoder.encode(missing), strict=True))
        if cache:
            cache.parent.mkdir(parents=True, exist_ok=True)
            torch.save(known, cache)
    return {t: known[t] for t in texts}


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
    """The folder of current heads: the shipped ones, else the cache's, training them into the
    cache first (a few minutes) when the corpus was edited since they were trained."""
    if folder is None and is_current(shipped_dir()):
        return shipped_dir()
    folder = folder or default_dir()
    if not is_current(folder):
        print(f"training the behaviour classifier into {folder} (once) ...", file=sys.stderr)
        train(out=folder, log=lambda m: print(m, file=sys.stderr))
    return folder
