"""Whether an agent's words make one of a persona's offers, concede one of its demands, or ask
for one of its hidden facts, in any wording.

Agents never see the persona file, so its `cues` and `asked_by` phrases are only hints: a
learned matcher compares each piece of the agent turn (a sentence, two neighbouring sentences,
the whole turn) with the offer's `description` or the fact's `fact`. It reads:

- the meaning of both, from the packaged MiniLM encoder (mean-pooled layers 2, 4 and 6, the
  pieces the behaviour classifier embeds anyway);
- how much of the description the piece covers, word by word (each description word's best
  match among the piece's contextual token vectors, overall and for each part of a two-part
  description: a refund *and* a fee covered), which is what tells a partial offer from a whole
  one;
- what a sentence embedding smooths over: amounts (words or digits, a sum of the described
  amounts counts: "$114.99" for "$89.99 and the $25 fee"), a time that is later than the
  described one, negation, conditions, deferral ("I'll see whether..."), question form.

Two small heads are trained on pairs written for the project (data/matcher/, with its own
guide): offers (offer, partial, no) and fact requests (ask, no). Measured on the held-out
personas (the core pack and the test personas, whose paraphrases and near-misses a separate
pass wrote): see `deesc appraisal train` and the README.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from harness.appraisal.encoder import Encoder, shared_encoder
from harness.errors import DeescError
from harness.sentences import split_sentences

Label = Literal["offer", "partial", "ask", "no"]
OFFER_LABELS: tuple[Label, ...] = ("offer", "partial", "no")
FACT_LABELS: tuple[Label, ...] = ("ask", "no")
WEIGHTS = "matcher.safetensors"
CARD = "matcher.json"

_UNITS = {
    w: i
    for i, w in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
    )
}  # fmt: skip
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate(("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"))
}  # fmt: skip
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, "hundred", "thousand"])
_NUMBER_PHRASE = re.compile(
    rf"\b(?:{_NUMBER_WORD})(?:[\s-]+(?:and[\s-]+)?(?:{_NUMBER_WORD}))*\b", re.IGNORECASE
)
_MONEY = re.compile(
    r"[$£€]\s?(\d[\d,]*(?:\.\d+)?)|\b(\d[\d,]*(?:\.\d+)?)\s?(?:dollars|pounds|euros?|quid|bucks)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_NEGATION = re.compile(
    r"\b(not|no|never|cannot|can't|won't|don't|doesn't|isn't|aren't|unable|nothing|neither|nor)\b"
    r"|n't\b",
    re.IGNORECASE,
)
_CONDITION = re.compile(
    r"\b(if|once|provided|as long as|unless|only when|on condition|in exchange|subject to)\b",
    re.IGNORECASE,
)
_DEFERRAL = re.compile(
    r"\b(see if|see whether|check if|check whether|might|may|possibly|look into|find out|"
    r"hopefully|try to|would need|need to check|ask my|ask the|request)\b",
    re.IGNORECASE,
)
_SOON = re.compile(
    r"\b(today|tonight|now|right away|immediately|this (morning|afternoon|evening)|"
    r"straight away|within the hour|same day)\b",
    re.IGNORECASE,
)
_LATER = re.compile(
    r"\b(tomorrow|next (week|month|billing|bill|cycle)|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday|in (\d+|a few|two|three|four|five) (days|weeks)|later|end of)\b",
    re.IGNORECASE,
)
_COMMIT = re.compile(
    r"\b(i've|i have|i'll|i will|i can|we've|we'll|we can|let me|i'm going to|we're going to|"
    r"gone ahead|i'd be happy|i'm (arranging|booking|sending|refunding|crediting))\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"^(could|can|would|will|what|which|when|where|how|who|is|are|do|does|did|have|may)\b|"
    r"\b(please (send|share|give|tell|confirm|provide|read|check)|tell me|send me|give me|"
    r"let me know|confirm (your|the))\b",
    re.IGNORECASE,
)
_PART = re.compile(r",\s*(?:and\s+)?|\s+and\s+|;\s*|\s+plus\s+")
_WORD = re.compile(r"[a-z]{3,}")
STOPWORDS = frozenset((
    "the", "and", "for", "you", "your", "our", "with", "this", "that", "from", "will", "can",
    "are", "was", "were", "have", "has", "had", "its", "it's", "his", "her", "she", "him",
    "they", "them", "their", "who", "what", "when", "which", "where", "how", "all", "any",
    "per", "into", "onto",
))  # fmt: skip


def _numbers_in_words(text: str) -> str:
    """Number words as digits ("forty-nine" -> "49", "a hundred and forty" -> "140")."""

    def value(match: re.Match[str]) -> str:
        total = current = 0
        for word in re.split(r"[\s-]+", match.group(0).lower()):
            if word in _UNITS:
                current += _UNITS[word]
            elif word in _TENS:
                current += _TENS[word]
            elif word == "hundred":
                current = max(current, 1) * 100
            elif word == "thousand":
                total, current = total + max(current, 1) * 1000, 0
        return str(total + current)

    text = re.sub(r"\ba hundred\b", "one hundred", text, flags=re.IGNORECASE)
    return _NUMBER_PHRASE.sub(value, text)


def amounts(text: str) -> set[float]:
    found = set()
    for match in _MONEY.finditer(_numbers_in_words(text)):
        try:
            found.add(round(float((match.group(1) or match.group(2)).replace(",", "")), 2))
        except ValueError:
            continue
    return found


def _with_sums(values: set[float]) -> set[float]:
    """Amounts an agent may name for a described set: each one, and the sum of any two."""
    ordered = sorted(values)
    return set(ordered) | {round(a + b, 2) for i, a in enumerate(ordered) for b in ordered[i + 1 :]}


def description_parts(description: str) -> list[str]:
    """The parts of a description an offer must make all of ("refund X and cover Y")."""
    parts = [p.strip() for p in _PART.split(description.rstrip(".")) if len(p.split()) >= 2]
    return parts or [description]


def cue_features(piece: str, description: str) -> list[float]:
    """What a sentence embedding smooths over: amounts, times, negation, conditions."""
    said, described = amounts(piece), amounts(description)
    allowed = _with_sums(described)
    said_numbers = {float(x) for x in _NUMBER.findall(_numbers_in_words(piece).replace(",", ""))}
    described_numbers = {
        float(x) for x in _NUMBER.findall(_numbers_in_words(description).replace(",", ""))
    }
    words, described_words = (
        set(_WORD.findall(piece.lower())),
        set(_WORD.findall(description.lower())),
    )
    soon_described = bool(_SOON.search(description))
    return [
        float(bool(said)),
        float(bool(described)),
        float(bool(said) and said <= allowed),
        float(bool(said) and bool(described) and not said & allowed),
        len(said & allowed) / max(1, len(described)),
        float(
            bool(said_numbers) and bool(described_numbers) and not said_numbers & described_numbers
        ),
        len(said_numbers & described_numbers) / max(1, len(described_numbers)),
        float(bool(_NEGATION.search(piece))),
        float(bool(_CONDITION.search(piece))),
        float(bool(_DEFERRAL.search(piece))),
        float("?" in piece),
        float(bool(_REQUEST.search(piece.strip()))),
        float(bool(_COMMIT.search(piece))),
        float(soon_described),
        float(bool(_SOON.search(piece))),
        float(soon_described and bool(_LATER.search(piece)) and not _SOON.search(piece)),
        min(len(description_parts(description)), 3) / 3,
        len(words & described_words) / max(1, len(described_words)),
        min(len(piece.split()), 60) / 60,
    ]


N_CUES = len(cue_features("x", "y"))


def pieces(text: str) -> list[str]:
    """What one offer or question may be spread over: each sentence, two neighbouring sentences,
    and (when it is short) the whole turn."""
    sentences = split_sentences(text) or [text]
    out = list(sentences)
    out += [f"{a} {b}" for a, b in pairwise(sentences)]
    if 2 < len(sentences) <= 4:
        out.append(" ".join(sentences))
    return list(dict.fromkeys(p for p in out if p.strip()))


def _content(text: str, spans: list[tuple[int, int]]) -> list[int]:
    """Token positions of content words: whole-word pieces that are not stopwords."""
    out = []
    for j, (a, b) in enumerate(spans):
        word = re.match(r"[\w'$£€.,-]+", text[a:])
        token = (word.group(0) if word else text[a:b]).lower().strip(".,")
        if token and token not in STOPWORDS and (len(token) > 2 or token[:1].isdigit()):
            out.append(j)
    return out or list(range(len(spans)))


def coverage_features(
    torch: Any, piece: Any, description: Any, text: str, desc: str
) -> list[float]:
    """How much of the description the piece says, word by word: each content token of the
    description takes its best cosine among the piece's tokens; overall and per part."""
    _, p_tokens, _ = piece
    _, d_tokens, d_spans = description
    content = _content(desc, d_spans)
    best = (d_tokens[content] @ p_tokens.T).max(dim=1).values
    parts, start, by_part = description_parts(desc), 0, []
    for part in parts:
        at = desc.find(part, start)
        if at < 0:
            continue
        start = at + len(part)
        inside = [k for k, j in enumerate(content) if at <= d_spans[j][0] < at + len(part)]
        if inside:
            by_part.append(float(best[inside].mean()))
    by_part = by_part or [float(best.mean())]
    back = (p_tokens @ d_tokens[content].T).max(dim=1).values
    return [
        float(best.mean()),
        float(best.min()),
        float(best.quantile(0.25)),
        min(by_part),
        max(by_part),
        float(back.mean()),
        float((best > 0.6).float().mean()),
    ]


N_COVERAGE = 7
# where, in a pair's features, the coverage of the description's least-said part lies
LEAST_PART = -(N_COVERAGE + 1) + 3


def pair_features(torch: Any, vectors: dict[str, Any], piece: str, description: str) -> Any:
    p, d = vectors[piece][0], vectors[description][0]
    extra = torch.tensor(
        cue_features(piece, description)
        + coverage_features(torch, vectors[piece], vectors[description], piece, description)
        + [float(p[-384:] @ d[-384:])]
    )
    return torch.cat([p, d, p * d, (p - d).abs(), extra])


def feature_width(pooled: int) -> int:
    return 4 * pooled + N_CUES + N_COVERAGE + 1


def build_head(torch: Any, width: int, classes: int, hidden: int = 256) -> Any:
    return torch.nn.Sequential(
        torch.nn.Linear(width, hidden),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.3),
        torch.nn.Linear(hidden, classes),
    )


@dataclass(frozen=True)
class Match:
    """The strongest reading of one offer or fact in a turn: its label, the probability of it,
    and the words that carry it."""

    id: str
    label: Label
    probability: float
    piece: str


def shipped_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("harness.appraisal").joinpath("trained")))


class Matcher:
    """Reads which of a persona's offers, demands and facts an agent turn makes or asks for."""

    def __init__(self, folder: Path | None = None, encoder: Encoder | None = None) -> None:
        import torch
        from safetensors.torch import load_file

        folder = folder or shipped_dir()
        if not (folder / WEIGHTS).exists():
            raise DeescError(f"{folder / WEIGHTS}: no trained matcher; run deesc appraisal train")
        card = json.loads((folder / CARD).read_text())
        self.torch = torch
        self.encoder = encoder or shared_encoder()
        weights = {k: v.float() for k, v in load_file(folder / WEIGHTS).items()}
        self.heads = {}
        for kind, labels in (("offer", OFFER_LABELS), ("fact", FACT_LABELS)):
            head = build_head(torch, card["width"], len(labels))
            prefix = f"{kind}."
            head.load_state_dict(
                {k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)}
            )
            self.heads[kind] = head.eval()
        self.thresholds = card["thresholds"]

    def features(self, pairs: list[tuple[str, str]]) -> Any:
        """[pairs, features] for (piece, description) pairs."""
        torch = self.torch
        vectors = self.encoder.encode_tokens([t for pair in pairs for t in pair])
        return torch.stack([pair_features(torch, vectors, p, d) for p, d in pairs])

    def probabilities(self, kind: str, x: Any) -> Any:
        """[pairs, labels] from the features of pairs of one kind ("offer" or "fact")."""
        with self.torch.inference_mode():
            return self.torch.softmax(self.heads[kind](x), dim=-1)

    def read(self, text: str, items: list[tuple[str, str]], kind: str) -> dict[str, Match]:
        """For each (id, description) item: the strongest label over the turn's pieces."""
        if not text.strip() or not items:
            return {}
        labels = OFFER_LABELS if kind == "offer" else FACT_LABELS
        found = pieces(text)
        x = self.features([(p, d) for _, d in items for p in found])
        probs = self.probabilities(kind, x).reshape(len(items), len(found), len(labels))
        least_part = x[:, LEAST_PART].reshape(len(items), len(found))
        # an offer must say every part of the resolution in some words; the head alone lets a
        # pasted sentence that shares one part (a refund, a number of days) through
        floor = self.thresholds.get("least_part") if kind == "offer" else None
        out = {}
        for (item_id, _), rows, covered in zip(items, probs, least_part, strict=True):
            whole = rows[:, 0] if floor is None else rows[:, 0] * (covered >= floor)
            best = whole.argmax()
            positive = float(whole[best])
            if positive >= self.thresholds[kind]:
                out[item_id] = Match(item_id, labels[0], positive, found[int(best)])
            elif kind == "offer":
                some = rows[:, 0] + rows[:, 1]
                part = some.argmax()
                if float(some[part]) >= self.thresholds["partial"]:
                    out[item_id] = Match(item_id, "partial", float(some[part]), found[int(part)])
        return out
