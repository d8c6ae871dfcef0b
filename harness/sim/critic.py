"""The customer critic: of several candidate lines sampled for one customer turn, which one
sounds like this customer now?

Learned (small heads over the packaged MiniLM's embeddings, trained on customer lines written
and labelled for the project, `data/critic/`): how angry a line sounds (0-10), whether it is
the customer's line at all (not the agent's words, a narrator's, an agent-like apology), and
whether it answers what the agent just said. Checked by rule, not learned: a complete sentence,
no apology from an angry customer, no phrase said three times, no line said before, no run of
the agent's words repeated. The best candidate wins; when none passes the rules and the role
head, the persona's own voice line for the mood stands in (`CustomerSimulator`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from harness.appraisal.encoder import ENCODER, LAYERS, shared_encoder
from harness.errors import DeescError
from harness.sentences import words

WEIGHTS = "critic.safetensors"
CARD = "critic.json"
HIDDEN = 128
APOLOGY = re.compile(r"\b(sorry|apologi[sz]e|apologies|my bad)\b", re.IGNORECASE)
# ends like a sentence, not mid-clause ("...and the", "so if you could")
_DANGLING = re.compile(
    r"\b(and|or|but|so|the|a|an|to|of|for|with|if|that|my|your|is|are|was|i|i'm|just)\s*$",
    re.IGNORECASE,
)
ANGRY = 6.0  # at or above this, a customer does not apologise


def complete(line: str) -> bool:
    """A finished sentence: ends with . ! ? (or a closing quote after one), has a verb's worth of
    words, and does not stop on a word that needs another after it."""
    text = line.strip().rstrip("\"')")
    if len(words(text)) < 2 or not text or text[-1] not in ".!?":
        return False
    return not _DANGLING.search(text.rstrip(".!? "))


def loops(line: str, earlier: Sequence[str] = ()) -> bool:
    """Says the same phrase three times, or says a line said before."""
    said = words(line)
    grams = [" ".join(said[i : i + 3]) for i in range(len(said) - 2)]
    if any(grams.count(g) >= 3 for g in set(grams)):
        return True
    text = " ".join(said)
    return bool(text) and text in {" ".join(words(e)) for e in earlier}


def shipped_dir() -> Path:
    return Path(str(resources.files("harness.sim").joinpath("trained")))


def data_files() -> list[Any]:
    folder = resources.files("harness.sim").joinpath("data/critic")
    return sorted((folder.joinpath(p.name) for p in folder.iterdir() if p.name.endswith(".jsonl")),
                  key=lambda f: f.name)  # fmt: skip


def fingerprint(seed: int = 0, epochs: int = 0) -> str:
    import hashlib

    digest = hashlib.sha256(repr((ENCODER, LAYERS, HIDDEN, seed, epochs)).encode())
    for file in data_files():
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:16]


def is_current(folder: Path) -> bool:
    try:
        card = json.loads((folder / CARD).read_text())
    except (OSError, ValueError):
        return False
    return (folder / WEIGHTS).exists() and card.get("fingerprint") == fingerprint(
        card.get("seed", 0), card.get("epochs", 0)
    )


def build_heads(torch: Any, width: int) -> Any:
    """anger (regression, on the line), role and answers (on line, agent turn, their product)."""

    def mlp(inputs: int) -> Any:
        return torch.nn.Sequential(torch.nn.Linear(inputs, HIDDEN), torch.nn.ReLU(),
                                   torch.nn.Dropout(0.3), torch.nn.Linear(HIDDEN, 1))  # fmt: skip

    return torch.nn.ModuleDict(
        {"anger": mlp(width), "role": mlp(3 * width), "answers": mlp(3 * width)}
    )


@dataclass(frozen=True)
class Reading:
    """What the critic makes of one candidate line."""

    line: str
    anger: float  # how angry it sounds, 0-10
    in_role: float  # probability it is the customer's own line
    answers: float  # probability it answers the agent's last turn
    complete: bool
    apologises: bool
    loops: bool

    def passes(self, target: float) -> bool:
        """The rules every chosen line keeps, and the role head."""
        return (self.complete and not self.loops and self.in_role >= 0.5
                and not (self.apologises and target >= ANGRY))  # fmt: skip

    def score(self, target: float) -> float:
        """Higher is better: in role, answering, in the mood the state asks for."""
        mood = abs(self.anger - target) / 5
        penalty = (not self.complete) + self.loops + (self.apologises and target >= ANGRY)
        return self.in_role + self.answers - mood - 2.0 * penalty


class Critic:
    def __init__(self, folder: Path | None = None, encoder: Any | None = None) -> None:
        import torch
        from safetensors.torch import load_file

        folder = folder or shipped_dir()
        if not (folder / WEIGHTS).exists():
            raise DeescError(
                f"{folder / WEIGHTS}: no trained customer critic; run deesc appraisal train"
            )
        card = json.loads((folder / CARD).read_text())
        self.torch = torch
        self.encoder = encoder or shared_encoder()
        self.heads = build_heads(torch, card["width"])
        self.heads.load_state_dict({k: v.float() for k, v in load_file(folder / WEIGHTS).items()})
        self.heads.eval()

    def read(
        self, lines: Sequence[str], agent_text: str, earlier: Sequence[str] = ()
    ) -> list[Reading]:
        torch = self.torch
        texts = sorted({*lines, agent_text or " "})
        vectors = dict(zip(texts, self.encoder.encode(texts), strict=True))
        line = torch.stack([vectors[t] for t in lines])
        agent = vectors[agent_text or " "].expand_as(line)
        pair = torch.cat([line, agent, line * agent], dim=-1)
        with torch.inference_mode():
            anger = self.heads["anger"](line).squeeze(-1).clamp(0, 10)
            role = torch.sigmoid(self.heads["role"](pair)).squeeze(-1)
            answers = torch.sigmoid(self.heads["answers"](pair)).squeeze(-1)
        return [
            Reading(text, round(float(a), 2), round(float(r), 3), round(float(s), 3),
                    complete(text), bool(APOLOGY.search(text)), loops(text, earlier))
            for text, a, r, s in zip(lines, anger.tolist(), role.tolist(), answers.tolist(), strict=True)
        ]  # fmt: skip

    def anger(self, lines: Sequence[str]) -> list[float]:
        """How angry each line sounds, 0-10, read in one batch (the judge's reading of a real
        customer's mood, `judge/mood.py`)."""
        if not lines:
            return []
        texts = sorted(set(lines))
        with self.torch.inference_mode():
            read = self.heads["anger"](self.encoder.encode(texts)).squeeze(-1).clamp(0, 10)
        by_text = dict(zip(texts, read.tolist(), strict=True))
        return [round(by_text[t], 2) for t in lines]

    def choose(
        self, lines: Sequence[str], agent_text: str, target: float, earlier: Sequence[str] = ()
    ) -> tuple[Reading | None, list[Reading]]:
        """The best candidate that passes (None when none does), and every reading."""
        readings = self.read(lines, agent_text, earlier)
        passing = [r for r in readings if r.passes(target)]
        best = max(passing, key=lambda r: r.score(target), default=None)
        return best, readings
