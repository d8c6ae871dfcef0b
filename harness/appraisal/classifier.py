"""A learned behaviour classifier: the packaged all-MiniLM-L6-v2 encoder, frozen, and a small
trained head over each sentence of the agent turn, with the customer turn before it.

One turn often shows several behaviours, one per sentence, and a whole-turn embedding blurs
them (measured: macro F1 0.55 on held-out phrasings, below the lexicon). So each sentence is
scored, with features [sentence, customer, sentence * customer] of mean-pooled, normalised
embeddings (the customer turn lets the head see a problem being restated), and a turn shows a
behaviour when one of its sentences does (trained that way: max over sentences). Two
behaviours are properties of the whole turn and follow their definitions: `ignore_question`
(the customer asked, and no sentence answers) and `over_apologise` (also: three or more
apologising sentences). The head is small enough to ship inside the package
(`classifier.safetensors`, with thresholds and measured quality in `classifier.json`);
`deesc appraisal train` builds both from the corpus with a fixed seed, into the user's cache.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from harness.appraisal.base import Appraisal
from harness.appraisal.corpus import CONTEXT_ONLY
from harness.behaviours import NAMES, REPEATED_APOLOGIES, with_unanswered
from harness.errors import DeescError
from harness.sentences import split_sentences

ENCODER = "all-minilm-l6-v2"
HIDDEN = 192
WEIGHTS = "classifier.safetensors"
CARD = "classifier.json"


def default_dir() -> Path:
    """Where `deesc appraisal train` writes the head and `classifier` appraisal reads it."""
    from harness.engine.offline import cache_root

    return cache_root() / "appraisal"


class Encoder:
    """Sentence embeddings from the packaged MiniLM (mean pooling, unit length)."""

    def __init__(self, batch_size: int = 64, max_length: int = 128) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        from harness.engine.offline import packaged_path

        path = packaged_path(ENCODER)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.batch_size = batch_size
        self.max_length = max_length

    def encode(self, texts: list[str]) -> Any:
        torch = self.torch
        out = torch.zeros((len(texts), self.model.config.hidden_size))
        # sorting by length keeps padding, and so wasted work, small
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self.tokenizer(
                    [texts[i] or " " for i in idx], padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt",
                )  # fmt: skip
                hidden = self.model(**batch).last_hidden_state
                mask = batch.attention_mask.unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                out[idx] = torch.nn.functional.normalize(pooled, dim=-1)
        return out


# behaviours the head learns; the context-only one is derived from the others
LEARNED = tuple(n for n in NAMES if n != CONTEXT_ONLY)


def sentences(text: str) -> list[str]:
    return split_sentences(text) or [text]


def features(torch: Any, sentence: Any, customer: Any) -> Any:
    return torch.cat([sentence, customer, sentence * customer], dim=-1)


def derive(found: set[str], customer: str, apologising_sentences: int) -> set[str]:
    """The turn-level behaviours, from their definitions."""
    if apologising_sentences >= REPEATED_APOLOGIES:
        found = (found - {"apologise"}) | {"over_apologise"}
    return with_unanswered(found, customer)


def build_head(torch: Any, width: int) -> Any:
    return torch.nn.Sequential(
        torch.nn.Linear(3 * width, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.4),
        torch.nn.Linear(HIDDEN, len(LEARNED)),
    )


@cache
def _shared_encoder() -> Encoder:
    return Encoder()


class ClassifierAppraiser:
    name = "classifier"

    def __init__(self, folder: Path | None = None, encoder: Encoder | None = None) -> None:
        import torch
        from safetensors.torch import load_file

        folder = folder or default_dir()
        if not (folder / WEIGHTS).exists():
            raise DeescError(
                f"{folder / WEIGHTS}: no trained classifier; run deesc appraisal train"
            )
        card = json.loads((folder / CARD).read_text())
        if card["labels"] != list(LEARNED):
            raise DeescError(f"{folder / CARD}: trained for another behaviour taxonomy; retrain it")
        self.torch = torch
        self.encoder = encoder or _shared_encoder()
        self.head = build_head(torch, card["width"])
        self.head.load_state_dict(load_file(folder / WEIGHTS))
        self.head.eval()
        self.thresholds = torch.tensor([card["thresholds"][n] for n in LEARNED])

    def sentence_probabilities(self, pairs: list[tuple[str, str]]) -> list[Any]:
        """Per pair of (agent turn, preceding customer turn): probabilities [sentences, LEARNED]."""
        torch = self.torch
        split = [sentences(agent) for agent, _ in pairs]
        unique = sorted({s for parts in split for s in parts} | {c for _, c in pairs})
        vectors = dict(zip(unique, self.encoder.encode(unique), strict=True))
        out = []
        with torch.inference_mode():
            for parts, (_, customer) in zip(split, pairs, strict=True):
                sent = torch.stack([vectors[s] for s in parts])
                cust = vectors[customer].expand_as(sent)
                out.append(torch.sigmoid(self.head(features(torch, sent, cust))))
        return out

    def appraise_many(self, pairs: list[tuple[str, str]]) -> list[Appraisal]:
        apologise = LEARNED.index("apologise")
        out = []
        for (agent, customer), probs in zip(pairs, self.sentence_probabilities(pairs), strict=True):
            if not agent.strip():  # silence shows nothing, but leaves a question unanswered
                found: set[str] = derive(set(), customer, 0)
                out.append(Appraisal(tuple(sorted(found)), {n: 1.0 for n in found}))
                continue
            turn = probs.max(dim=0).values
            found = {
                n
                for n, p, t in zip(LEARNED, turn.tolist(), self.thresholds.tolist(), strict=True)
                if p >= t
            }
            apologies = int((probs[:, apologise] >= self.thresholds[apologise]).sum())
            found = derive(found, customer, apologies)
            scores = {n: round(float(p), 4) for n, p in zip(LEARNED, turn.tolist(), strict=True)}
            out.append(Appraisal(tuple(sorted(found)), scores))
        return out

    def appraise(self, agent_text: str, customer_text: str = "") -> Appraisal:
        return self.appraise_many([(agent_text, customer_text)])[0]
