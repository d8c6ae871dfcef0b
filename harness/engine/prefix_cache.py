"""Reuse of the KV cache of earlier prompts that share a prefix with a new one.

A conversation's next prompt repeats its last one up to the newest turns, and every episode of
a persona starts with the same persona text, so most of a prompt was already computed. The
cache keeps the keys and values of recent prompts (token ids -> per-layer tensors of one row),
bounded by a token budget and evicted least recently used. A batch of requests with different
reused lengths is laid out as [pad][reused prefix][pad][new suffix] per row, with an attention
mask that hides the pads and position ids that skip them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

KV = list[tuple[Any, Any]]  # per layer: keys, values of shape [heads, tokens, head_dim]


def common_prefix_length(a: tuple[int, ...], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class PrefixCache:
    def __init__(self, max_tokens: int = 65536) -> None:
        self.max_tokens = max_tokens
        self._entries: OrderedDict[tuple[int, ...], KV] = OrderedDict()
        self._tokens = 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, ids: list[int]) -> tuple[int, KV | None]:
        """The longest cached prefix of `ids` (always leaving one token to compute)."""
        best_key, best = None, 0
        for key in self._entries:
            n = common_prefix_length(key, ids)
            if n > best:
                best_key, best = key, n
        best = min(best, len(ids) - 1)
        if best_key is None or best <= 0:
            return 0, None
        self._entries.move_to_end(best_key)
        return best, self._entries[best_key]

    def store(self, ids: list[int], kv: KV) -> None:
        key = tuple(ids)
        if key in self._entries or len(key) > self.max_tokens:
            return
        self._entries[key] = kv
        self._tokens += len(key)
        while self._tokens > self.max_tokens:
            old, _ = self._entries.popitem(last=False)
            self._tokens -= len(old)


def supports_prefix_reuse(config: Any) -> bool:
    """Only models whose every layer attends to the whole past (no sliding windows)."""
    layer_types = getattr(config, "layer_types", None)
    if layer_types and any(t != "full_attention" for t in layer_types):
        return False
    return not getattr(config, "sliding_window", None) or not getattr(
        config, "use_sliding_window", True
    )


def batch_prefill_inputs(
    torch: Any, rows: list[tuple[list[int], int, KV | None]], pad_id: int, device: str
) -> tuple[Any, Any, Any, KV | None]:
    """Inputs of one prefill over rows of (token ids, reused length, reused KV).

    Returns input ids and positions of the new suffixes, the attention mask over reused and new
    positions, and the batch's reused KV (None when no row reuses anything).
    """
    reused = max(r for _, r, _ in rows)
    suffix = max(len(ids) - r for ids, r, _ in rows)
    batch = len(rows)
    input_ids = torch.full((batch, suffix), pad_id, dtype=torch.long)
    mask = torch.zeros((batch, reused + suffix), dtype=torch.long)
    positions = torch.zeros((batch, suffix), dtype=torch.long)
    for i, (ids, r, _) in enumerate(rows):
        new = ids[r:]
        input_ids[i, suffix - len(new) :] = torch.tensor(new)
        mask[i, reused - r : reused] = 1
        mask[i, reused + suffix - len(new) :] = 1
        positions[i, suffix - len(new) :] = torch.arange(r, r + len(new))
    past: KV | None = None
    if reused:
        template = next(kv for _, r, kv in rows if kv is not None)
        past = []
        for layer, (k0, _) in enumerate(template):
            heads, _, dim = k0.shape
            keys = k0.new_zeros((batch, heads, reused, dim))
            values = k0.new_zeros((batch, heads, reused, dim))
            for i, (_, r, kv) in enumerate(rows):
                if r:
                    keys[i, :, reused - r :] = kv[layer][0][:, :r]
                    values[i, :, reused - r :] = kv[layer][1][:, :r]
            past.append((keys, values))
    return input_ids.to(device), positions.to(device), mask.to(device), past


def rows_kv(cache_layers: Any, mask: Any) -> list[KV]:
    """Split a batch's KV cache into per-row KV of the real (unmasked) positions."""
    out: list[KV] = []
    for i in range(mask.shape[0]):
        keep = mask[i].bool()
        out.append(
            [
                (layer.keys[i][:, keep].clone(), layer.values[i][:, keep].clone())
                for layer in cache_layers
            ]
        )
    return out
