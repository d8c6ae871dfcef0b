"""Training and measuring the customer critic (`deesc appraisal train` runs it last).

`data/critic/train.jsonl`: 1,600 customer lines written for the project as a small model might
sample them (good lines at every anger, mood mismatches, lines that ignore the agent, lines
out of role, loops and fragments), labelled to `data/critic/LABELLING.md`. `test.jsonl`: 500
lines of fresh situations by a separate pass, only ever measured.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

from harness.sim.critic import (
    CARD,
    WEIGHTS,
    Critic,
    build_heads,
    fingerprint,
    is_current,
    shipped_dir,
)


def critic_rows(name: str) -> list[dict[str, Any]]:
    text = resources.files("harness.sim").joinpath(f"data/critic/{name}").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def measure(critic: Critic, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Anger error, and accuracy and F1 of the role and answer heads, on labelled lines."""
    readings = []
    for row in rows:
        readings.append(critic.read([row["line"]], row["agent"])[0])

    def binary(key: str, value: str) -> dict[str, float]:
        pred = [getattr(r, value) >= 0.5 for r in readings]
        gold = [bool(row[key]) for row in rows]
        tp = sum(p and g for p, g in zip(pred, gold, strict=True))
        fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
        fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
        negatives = [not p for p, g in zip(pred, gold, strict=True) if not g]
        return {"accuracy": round(sum(p == g for p, g in zip(pred, gold, strict=True)) / len(rows), 3),
                "f1": round(2 * tp / (2 * tp + fp + fn), 3) if tp else 0.0,
                "caught": round(sum(negatives) / len(negatives), 3) if negatives else None}  # fmt: skip

    errors = [abs(r.anger - row["anger"]) for r, row in zip(readings, rows, strict=True)]
    complete_ok = sum(r.complete == row["complete"] for r, row in zip(readings, rows, strict=True))
    apology_ok = sum(
        r.apologises == row["apologises"] for r, row in zip(readings, rows, strict=True)
    )
    return {
        "n": len(rows),
        "anger_mae": round(sum(errors) / len(errors), 3),
        "anger_within_2": round(sum(e <= 2 for e in errors) / len(errors), 3),
        "in_role": binary("in_role", "in_role"),
        "answers": binary("responsive", "answers"),
        "complete_rule_accuracy": round(complete_ok / len(rows), 3),
        "apology_rule_accuracy": round(apology_ok / len(rows), 3),
    }


def train_critic(out: Path, seed: int = 0, epochs: int = 60, log: Any = print) -> dict[str, Any]:
    import torch
    from safetensors.torch import save_file

    from harness.appraisal.encoder import Encoder
    from harness.fileio import atomic_write_json

    started = time.perf_counter()
    rows, test = critic_rows("train.jsonl"), critic_rows("test.jsonl")
    encoder = Encoder()
    texts = sorted({t for r in rows for t in (r["line"], r["agent"] or " ")})
    log(f"embedding {len(texts)} customer lines and agent turns ...")
    vectors = dict(zip(texts, encoder.encode(texts), strict=True))
    line = torch.stack([vectors[r["line"]] for r in rows])
    agent = torch.stack([vectors[r["agent"] or " "] for r in rows])
    pair = torch.cat([line, agent, line * agent], dim=-1)
    anger = torch.tensor([float(r["anger"]) for r in rows])
    role = torch.tensor([float(r["in_role"]) for r in rows])
    answers = torch.tensor([float(r["responsive"]) for r in rows])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small heads: one thread is faster than two busy ones
    torch.manual_seed(seed)
    heads = build_heads(torch, encoder.width)
    optimiser = torch.optim.AdamW(heads.parameters(), lr=2e-3, weight_decay=1e-3)
    generator = torch.Generator().manual_seed(seed)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    heads.train()
    for _ in range(epochs):
        order = torch.randperm(len(rows), generator=generator)
        for start in range(0, len(rows), 64):
            idx = order[start : start + 64]
            optimiser.zero_grad()
            loss = (
                torch.nn.functional.smooth_l1_loss(
                    heads["anger"](line[idx]).squeeze(-1), anger[idx]
                )
                / 4
                + bce(heads["role"](pair[idx]).squeeze(-1), role[idx])
                + bce(heads["answers"](pair[idx]).squeeze(-1), answers[idx])
            )
            loss.backward()
            optimiser.step()
    heads.eval()
    torch.set_num_threads(threads)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half().contiguous() for k, v in heads.state_dict().items()}, out / WEIGHTS)
    card: dict[str, Any] = {"width": encoder.width, "seed": seed, "epochs": epochs,
                            "lines": {"train": len(rows), "test": len(test)}}  # fmt: skip
    (out / CARD).write_text(json.dumps(card, indent=2) + "\n")
    critic = Critic(out, encoder)
    card["test"] = measure(critic, test)
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    card["fingerprint"] = fingerprint(seed, epochs)
    atomic_write_json(out / CARD, card)
    log(f"customer critic on {len(test)} held-out lines: {card['test']}")
    return card


def open_critic(folder: Path | None = None) -> Critic:
    """The shipped critic; when its training lines were edited since, one trained into the
    cache first (about a minute), as the behaviour classifier does."""
    if folder is None and is_current(shipped_dir()):
        return Critic(shipped_dir())
    if folder is None:
        from harness.engine.offline import cache_root

        folder = cache_root() / "critic"
    if not is_current(folder):
        import sys

        print(f"training the customer critic into {folder} (once) ...", file=sys.stderr)
        train_critic(folder, log=lambda m: print(m, file=sys.stderr))
    return Critic(folder)
