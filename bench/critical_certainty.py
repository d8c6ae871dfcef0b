"""Choose the certainty a critical failure needs (issue 13): on conversations people rated good,
at most 2% may get one. Reads the development corpora only (epitome, politeness, uss; never the
kept-aside ones) and prints, for each candidate certainty, the share of rated-good conversations
with a critical behaviour at or above it, for each critical behaviour on its own. The judge's
CRITICAL_CERTAINTY holds, per behaviour, the lowest value that keeps every corpus at or under
an equal share of the target (1% each for two behaviours, so that together they stay at 2%).

    .venv/bin/python bench/critical_certainty.py --corpora /data/corpora [--limit 600]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from harness.judge import BehaviourJudge
from harness.judge.corpora import CORPORA, load_corpus
from harness.judge.records import conversation_from
from harness.personas.rubric import load_rubric

TARGET = 0.02
GRID = [round(0.30 + 0.05 * i, 2) for i in range(14)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpora", required=True, help="folder with one folder per corpus")
    parser.add_argument("--limit", type=int, default=600, help="rated-good conversations each")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rubric = load_rubric("deescalation")
    critical = {b for f in rubric.critical_failures for b in f.behaviours}
    judge = BehaviourJudge()
    shares: dict[str, dict[str, list[float]]] = {b: {} for b in sorted(critical)}
    for name, corpus in CORPORA.items():
        folder = Path(args.corpora) / name
        if not folder.exists():
            continue
        good = [r for r in load_corpus(name, folder) if r["meta"]["labels"].get(corpus.binary) == 1]
        good = random.Random(args.seed).sample(good, min(args.limit, len(good)))
        appraised = judge.appraise([conversation_from(r, {}) for r in good])
        for b in sorted(critical):
            # the strongest reading of `b` the classifier itself reports, per conversation
            peaks = [
                max((a.scores[b] for _, a in turns if b in a.behaviours), default=0.0)
                for turns in appraised
            ]
            shares[b][name] = [sum(p >= c for p in peaks) / len(peaks) for c in GRID]
            print(f"{name:<11} {b:<18} n={len(peaks):<4} " + " ".join(
                f"{c:.2f}:{s:.1%}" for c, s in zip(GRID, shares[b][name], strict=True)), flush=True)  # fmt: skip
    each = TARGET / len(critical)
    for b, by_corpus in shares.items():
        ok = [c for i, c in enumerate(GRID) if all(s[i] <= each for s in by_corpus.values())]
        print(
            f"{b}: lowest certainty with <= {each:.0%} on every corpus: {ok[0] if ok else 'none'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
