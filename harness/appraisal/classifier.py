"""A learned behaviour classifier: the packaged all-MiniLM-L6-v2 encoder, frozen, and a small
trained head over each sentence of the agent turn, with the customer turn before it.

A sentence is embedded as the mean-pooled hidden states of layers 2, 4 and 6, each of unit
length, side by side. The last layer alone summarises a sentence's topic and smooths over the
wording that tells sarcasm from sympathy or blame from explanation (measured on held-out
phrasings: macro F1 0.815 with the last layer, 0.905 with the three; fine-tuning the top two
layers instead was 0.78 after ten minutes of training on the 2-core CPU).

One turn often shows several behaviours, one per sentence, and a whole-turn embedding blurs
them (measured: macro F1 0.55 on held-out phrasings, below the lexicon). So each sentence is
scored, with features [sentence, customer, sentence * customer] of mean-pooled, normalised
embeddings (the customer turn lets the head see a problem being restated), and a turn shows a
behaviour when one of its sentences does (trained that way: max over sentences). Two
behaviours are properties of the whole turn and follow their definitions, as in every
appraisal (`behaviours.with_turn_rules`): `ignore_question` (the customer asked, and nothing
answers) and `over_apologise` (three or more apologies in the turn).

The head (`classifier.safetensors`, with thresholds and measured quality in `classifier.json`)
is built, not shipped: `deesc appraisal train` makes it from the corpus with a fixed seed in
under a minute, `make setup` runs it through `deesc models prepare`, and opening the classifier
builds it when it is missing or was trained on another corpus (the card keeps a fingerprint of
the corpus and the architecture). Shipping it would mean committing a binary that silently goes
stale whenever a phrase bank is edited.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from harness.appraisal.base import Appraisal
from harness.appraisal.corpus import TURN_RULES
from harness.behaviours import APOLOGY, NAMES, with_turn_rules
from harness.errors import DeescError
from harness.sentences import split_clauses

ENCODER = "all-minilm-l6-v2"
LAYERS = (2, 4, 6)  # hidden states pooled into a sentence's features (0 is the embeddings)
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

    @property
    def width(self) -> int:
        return len(LAYERS) * self.model.config.hidden_size

    def encode(self, texts: list[str]) -> Any:
        torch = self.torch
        out = torch.zeros((len(texts), self.width))
        # sorting by length keeps padding, and so wasted work, small
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self.tokenizer(
                    [texts[i] or " " for i in idx], padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt",
                )  # fmt: skip
                states = self.model(**batch, output_hidden_states=True).hidden_states
                mask = batch.attention_mask.unsqueeze(-1).float()
                pooled = [
                    torch.nn.functional.normalize(
                        (states[layer] * mask).sum(1) / mask.sum(1).clamp(min=1), dim=-1
                    )
                    for layer in LAYERS
                ]
                out[idx] = torch.cat(pooled, dim=-1)
        return out


# behaviours the head learns; the others follow from the turn rules
LEARNED = tuple(n for n in NAMES if n not in TURN_RULES)


def sentences(text: str) -> list[str]:
    """The pieces scored one by one: sentences, cut at the joints of independent clauses."""
    return split_clauses(text) or [text]


def features(torch: Any, sentence: Any, customer: Any) -> Any:
    return torch.cat([sentence, customer, sentence * customer], dim=-1)


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


def fingerprint(seed: int = 0, epochs: int = 0) -> str:
    """What a trained head depends on: the corpus files, the taxonomy and the architecture."""
    digest = hashlib.sha256(repr((ENCODER, LAYERS, HIDDEN, LEARNED, seed, epochs)).encode())
    data = resources.files("harness.appraisal").joinpath("data")
    for name in sorted(p.name for p in data.iterdir() if p.name.endswith(".yaml")):
        digest.update(name.encode() + data.joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


def is_current(folder: Path) -> bool:
    """A head trained on this corpus with this architecture (with the default seed and epochs,
    or whatever the card records) lies in `folder`."""
    try:
        card = json.loads((folder / CARD).read_text())
    except (OSError, ValueError):
        return False
    expected = fingerprint(card.get("seed", 0), card.get("epochs", 0))
    return (folder / WEIGHTS).exists() and card.get("fingerprint") == expected


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

    def sentence_probabilities(self, pairs: list[tuple[str, str]]) -> list[tuple[list[str], Any]]:
        """Per pair of (agent turn, preceding customer turn): its pieces, and their
        probabilities [pieces, LEARNED]."""
        torch = self.torch
        split = [sentences(agent) for agent, _ in pairs]
        unique = sorted({s for parts in split for s in parts} | {c for _, c in pairs})
        vectors = dict(zip(unique, self.encoder.encode(unique), strict=True))
        out = []
        with torch.inference_mode():
            for parts, (_, customer) in zip(split, pairs, strict=True):
                sent = torch.stack([vectors[s] for s in parts])
                cust = vectors[customer].expand_as(sent)
                out.append((parts, torch.sigmoid(self.head(features(torch, sent, cust)))))
        return out

    def appraise_many(self, pairs: list[tuple[str, str]]) -> list[Appraisal]:
        out = []
        for (agent, customer), (parts, probs) in zip(
            pairs, self.sentence_probabilities(pairs), strict=True
        ):
            if not agent.strip():  # silence shows nothing, but leaves a question unanswered
                found: set[str] = with_turn_rules(set(), agent, customer)
                out.append(Appraisal(tuple(sorted(found)), {n: 1.0 for n in found}))
                continue
            turn = probs.max(dim=0).values
            found = {
                n
                for n, p, t in zip(LEARNED, turn.tolist(), self.thresholds.tolist(), strict=True)
                if p >= t
            }
            found = with_turn_rules(found, agent, customer)
            scores = {n: round(float(p), 4) for n, p in zip(LEARNED, turn.tolist(), strict=True)}
            strongest = probs.argmax(dim=0).tolist()
            evidence = {n: parts[strongest[LEARNED.index(n)]] for n in found if n in LEARNED}
            if "over_apologise" in found:
                evidence["over_apologise"] = next((p for p in parts if APOLOGY.search(p)), agent)
            out.append(Appraisal(tuple(sorted(found)), scores, evidence))
        return out

    def appraise(self, agent_text: str, customer_text: str = "") -> Appraisal:
        return self.appraise_many([(agent_text, customer_text)])[0]
