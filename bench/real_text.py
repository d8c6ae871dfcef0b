"""The judge on real, human-rated conversations nobody here wrote, beside the reply-length
baseline (issue 13). Reads each development corpus from a local folder in its published format
(harness/judge/corpora/); nothing is copied into the repository.

    .venv/bin/python bench/real_text.py --corpora /data/corpora [--limit 1000] [--judge behaviour]

`--corpora` holds one folder per corpus, named as in `deesc calibrate --corpus` (epitome,
politeness, uss). Prints one row per corpus and writes the figures as JSON with --out.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from pathlib import Path

from harness.behaviours import NEGATIVE
from harness.judge import BehaviourJudge, open_judge
from harness.judge.calibration import real_text_report
from harness.judge.corpora import CORPORA, load_corpus
from harness.judge.mood import read_moods
from harness.judge.records import conversation_from, judgement_record
from harness.personas.rubric import load_rubric


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpora", required=True, help="folder with one folder per corpus")
    parser.add_argument("--only", action="append", help="corpus names (default: every one found)")
    parser.add_argument(
        "--limit", type=int, default=1000, help="transcripts per corpus (seeded sample)"
    )
    parser.add_argument("--judge", default="behaviour")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the figures as JSON")
    args = parser.parse_args()
    judge, rubric = open_judge(args.judge), load_rubric("deescalation")
    results = {}
    for name, corpus in CORPORA.items():
        folder = Path(args.corpora) / name
        if (args.only and name not in args.only) or not folder.exists():
            continue
        records = load_corpus(name, folder)
        if args.limit and len(records) > args.limit:
            records = random.Random(args.seed).sample(records, args.limit)
        started = time.perf_counter()
        conversations = read_moods([conversation_from(r, {}) for r in records])
        judgements = judge.judge_all(conversations, rubric)
        judged = [
            judgement_record(c, j, rubric) for c, j in zip(conversations, judgements, strict=True)
        ]
        negative = None
        if isinstance(judge, BehaviourJudge):  # its judgements carry the appraisals they read
            negative = [
                any(NEGATIVE & set(a.behaviours) for _, a in j.extra["appraisals"])
                for j in judgements
            ]
        report = real_text_report(records, judged, corpus.numeric, corpus.binary, negative)
        report["seconds"] = round(time.perf_counter() - started, 1)
        results[name] = report
        j, b = report["judge"], report["reply_length"]
        print(f"{name:<11} n={report['n']:<5} spearman {j['spearman']['value']:+.3f} (length "
              f"{b['spearman']['value']:+.3f})  auroc {j['auroc']['value']:.3f} (length "
              f"{b['auroc']['value']:.3f})  critical on good {report['critical_failures_on_good']:.1%}"
              f"  negative turns on good {report.get('negative_turns_on_good') or 0:.1%}", flush=True)  # fmt: skip
    meta = {"judge": args.judge, "limit": args.limit, "seed": args.seed,
            "machine": f"{platform.machine()}, {platform.system()}, python {sys.version.split()[0]}"}  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps({**meta, "corpora": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
