"""The packaged all-MiniLM-L6-v2 encoder, frozen: what every learned head of the project reads
(the behaviour classifier, the offer matcher, the customer critic).

A text becomes the mean-pooled hidden states of layers 2, 4 and 6, each of unit length, side by
side: the last layer alone summarises a sentence's topic and smooths over the wording that tells
sarcasm from sympathy or blame from explanation (measured on held-out phrasings: macro F1 0.815
with the last layer, 0.905 with the three). The matcher also reads the last layer's token
vectors, with each token's character span, from the same pass.
"""

from __future__ import annotations

from functools import cache
from typing import Any

ENCODER = "all-minilm-l6-v2"
LAYERS = (2, 4, 6)  # hidden states pooled into a text's features (0 is the embeddings)


class Encoder:
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

    def _batches(self, texts: list[str], offsets: bool) -> Any:
        """(positions in `texts`, batch, hidden states, mask) per batch, shortest texts first
        (sorting by length keeps padding, and so wasted work, small)."""
        torch = self.torch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self.tokenizer(
                    [texts[i] or " " for i in idx], padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt", return_offsets_mapping=offsets,
                )  # fmt: skip
                spans = batch.pop("offset_mapping") if offsets else None
                states = self.model(**batch, output_hidden_states=True).hidden_states
                mask = batch.attention_mask.unsqueeze(-1).float()
                pooled = torch.cat([
                    torch.nn.functional.normalize((states[k] * mask).sum(1) / mask.sum(1).clamp(min=1), dim=-1)
                    for k in LAYERS
                ], dim=-1)  # fmt: skip
                yield idx, pooled, states[-1], spans

    def encode(self, texts: list[str]) -> Any:
        """[texts, width]: each text's pooled vector."""
        out = self.torch.zeros((len(texts), self.width))
        for idx, pooled, _, _ in self._batches(texts, offsets=False):
            out[idx] = pooled
        return out

    def encode_tokens(self, texts: list[str]) -> dict[str, tuple[Any, Any, list[tuple[int, int]]]]:
        """text -> (pooled vector, last-layer unit token vectors, their character spans)."""
        unique = sorted(set(texts))
        out: dict[str, tuple[Any, Any, list[tuple[int, int]]]] = {}
        for idx, pooled, last, spans in self._batches(unique, offsets=True):
            tokens = self.torch.nn.functional.normalize(last, dim=-1)
            for row, i in enumerate(idx):
                pairs = [tuple(s) for s in spans[row].tolist()]
                keep = [j for j, (a, b) in enumerate(pairs) if b > a]  # no [CLS], [SEP], padding
                out[unique[i]] = (pooled[row], tokens[row, keep], [pairs[j] for j in keep])
        return out


@cache
def shared_encoder() -> Encoder:
    """One encoder per process, whichever head asks first."""
    return Encoder()
