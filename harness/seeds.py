"""Seeds derived from a run seed by hashing, so they are stable across processes and Python
versions (unlike hash()) and independent of the order in which episodes run."""

from __future__ import annotations

import hashlib


def derive_seed(*parts: object) -> int:
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF
