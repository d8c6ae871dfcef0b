"""A learned behaviour classifier: the packaged all-MiniLM-L6-v2 encoder, frozen, and a small
trained head over each piece of the agent turn, with the customer turn before it.

A piece (a sentence, cut at the joints of independent clauses) is embedded as the mean-pooled
hidden states of layers 2, 4 and 6, each of unit length, side by side: the last layer alone
summarises a sentence's topic and smooths over the wording that tells sarcasm from sympathy
(measured on held-out phrasings: macro F1 0.815 with the last layer, 0.905 with the three).
The head scores [piece, customer, piece * customer]; a turn shows a behaviour when one of its
pieces does (trained that way: max over pieces).

`ignore_question` is learned from context: a second small head reads the customer turn and
says whether it asked a real question (not "are you kidding me?"), and the main head's
`answers` output says whether a piece addresses it, in any words, plain information included.
The turn ignores the question when the customer asked one and no piece answers it.
`over_apologise` follows its definition in every appraisal (three or more apologies).

The trained heads ship with the package (`trained/`), with a card that records what they were
trained on (a fingerprint of the corpus files and the architecture) and how they measure. When
the corpus is edited the fingerprint no longer matches: a test says so, `deesc appraisal train
--out harness/appraisal/trained` rebuilds them (seeded), and a user who edits the corpus of an
installed copy gets a head trained into the cache on first use instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from harness.appraisal.base import Appraisal
from harness.appraisal.corpus import TURN_RULES
from harness.appraisal.encoder import ENCODER, LAYERS, Encoder, shared_encoder
from harness.appraisal.offers import read_offers
from harness.behaviours import APOLOGY, NAMES, with_apology_rule
from harness.errors import DeescError
from harness.personas.persona import Persona
from harness.sentences import split_clauses

HIDDEN = 192
WEIGHTS = "classifier.safetensors"
CARD = "classifier.json"


def default_dir() -> Path:
    """Where heads are trained when the shipped ones are stale (the corpus was edited)."""
    from harness.engine.offline import cache_root

    return cache_root() / "appraisal"


# behaviours the head learns; over-apologising follows its definition, and ignoring a question
# is read from the `answers` output and the customer head
LEARNED = tuple(n for n in NAMES if n not in TURN_RULES)
ANSWERS = "answers"  # a piece addresses the question the customer asked
OUTPUTS = (*LEARNED, ANSWERS)
ASKS = "asks.safetensors"  # customer turn -> it asks a real question


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
        torch.nn.Linear(HIDDEN, len(OUTPUTS)),
    )


def build_asks(torch: Any, width: int) -> Any:
    return torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Linear(width, 1))


def data_files() -> list[Any]:
    """Every corpus file a head depends on: the phrase banks and the natural turns."""
    data = resources.files("harness.appraisal").joinpath("data")
    files = [data.joinpath(p.name) for p in data.iterdir() if p.name.endswith(".yaml")]
    natural = data.joinpath("natural")
    files += [natural.joinpath(p.name) for p in natural.iterdir() if p.name.endswith(".jsonl")]
    return sorted(files, key=lambda f: f.name)


def fingerprint(seed: int = 0, epochs: int = 0) -> str:
    """What a trained head depends on: the corpus files, the taxonomy and the architecture."""
    digest = hashlib.sha256(repr((ENCODER, LAYERS, HIDDEN, OUTPUTS, seed, epochs)).encode())
    for file in data_files():
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:16]


def shipped_dir() -> Path:
    """The heads trained for this release, inside the package."""
    return Path(str(resources.files("harness.appraisal").joinpath("trained")))


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

        folder = folder or shipped_dir()
        if not (folder / WEIGHTS).exists():
            raise DeescError(
                f"{folder / WEIGHTS}: no trained classifier; run deesc appraisal train"
            )
        card = json.loads((folder / CARD).read_text())
        if card["labels"] != list(OUTPUTS):
            raise DeescError(f"{folder / CARD}: trained for another behaviour taxonomy; retrain it")
        self.torch = torch
        self.encoder = encoder or shared_encoder()
        self.head = build_head(torch, card["width"])
        self.head.load_state_dict({k: v.float() for k, v in load_file(folder / WEIGHTS).items()})
        self.head.eval()
        self.asks = build_asks(torch, card["width"])
        self.asks.load_state_dict({k: v.float() for k, v in load_file(folder / ASKS).items()})
        self.asks.eval()
        self.thresholds = torch.tensor([card["thresholds"][n] for n in OUTPUTS])
        self.asks_threshold = float(card["asks_threshold"])
        self.folder = folder
        self._matcher: Any = None

    def sentence_probabilities(
        self, pairs: list[tuple[str, str]]
    ) -> list[tuple[list[str], Any, float, Any]]:
        """Per pair of (agent turn, preceding customer turn): its pieces, their probabilities
        [pieces, OUTPUTS], the probability that the customer asked a real question, and each
        piece's fit with the customer turn (cosine of their last-layer embeddings)."""
        torch = self.torch
        split = [sentences(agent) for agent, _ in pairs]
        unique = sorted({s for parts in split for s in parts} | {c for _, c in pairs})
        vectors = dict(zip(unique, self.encoder.encode(unique), strict=True))
        out = []
        with torch.inference_mode():
            for parts, (_, customer) in zip(split, pairs, strict=True):
                sent = torch.stack([vectors[s] for s in parts])
                cust = vectors[customer].expand_as(sent)
                asks = (
                    float(torch.sigmoid(self.asks(vectors[customer]))) if customer.strip() else 0.0
                )
                width = sent.shape[1] // len(LAYERS)
                fit = sent[:, -width:] @ vectors[customer][-width:] if customer.strip() else None
                probs = torch.sigmoid(self.head(features(torch, sent, cust)))
                out.append((parts, probs, asks, fit))
        return out

    def appraise_many(self, pairs: list[tuple[str, str]]) -> list[Appraisal]:
        out = []
        answers = OUTPUTS.index(ANSWERS)
        for (agent, _), (parts, probs, asks, fit) in zip(
            pairs, self.sentence_probabilities(pairs), strict=True
        ):
            asked = asks >= self.asks_threshold
            if not agent.strip():  # silence shows nothing, but leaves a question unanswered
                found: set[str] = {"ignore_question"} if asked else set()
                out.append(Appraisal(tuple(sorted(found)), {n: 1.0 for n in found}))
                continue
            turn = probs.max(dim=0).values.tolist()
            thresholds = self.thresholds.tolist()
            found = {n for n, p, t in zip(LEARNED, turn, thresholds, strict=False) if p >= t}
            unanswered = 1.0 - turn[answers]
            if asked and turn[answers] < thresholds[answers]:
                found.add("ignore_question")
            found = with_apology_rule(found, agent)
            scores = {n: round(float(p), 4) for n, p in zip(LEARNED, turn, strict=False)}
            scores["ignore_question"] = round(asks * unanswered, 4)
            strongest = probs.argmax(dim=0).tolist()
            evidence = {n: parts[strongest[LEARNED.index(n)]] for n in found if n in LEARNED}
            fits = {} if fit is None else {
                n: round(float(fit[strongest[LEARNED.index(n)]]), 4) for n in found if n in LEARNED
            }  # fmt: skip
            if "over_apologise" in found:
                evidence["over_apologise"] = next((p for p in parts if APOLOGY.search(p)), agent)
            out.append(Appraisal(tuple(sorted(found)), scores, evidence, fits))
        return out

    def appraise(
        self,
        agent_text: str,
        customer_text: str = "",
        persona: Persona | None = None,
        revealed: Collection[str] = (),
    ) -> Appraisal:
        found = self.appraise_many([(agent_text, customer_text)])[0]
        if persona is None:
            return found
        return replace(found, offers=read_offers(self.matcher, agent_text, persona, revealed))

    @property
    def matcher(self) -> Any:
        """The learned offer and fact matcher, opened on first use (shares the encoder)."""
        if self._matcher is None:
            from harness.appraisal.matching import Matcher

            self._matcher = Matcher(self.folder)
        return self._matcher
