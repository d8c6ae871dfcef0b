"""How well the simulated customer's words carry the customer (issue 15), on a finished run.

    .venv/bin/python bench/customer_fidelity.py RUN [--baseline RUN] [--labels FILE]
    .venv/bin/python bench/customer_fidelity.py RUN --sample 120 --out FILE   # lines to label

Every customer line the model wrote (sampled, not a scripted opening or closing) is checked by
rules that are not the selection critic: in role (no agent phrases, narration or echo of the
agent), complete, an apology from a customer at anger 6 or more, a phrase said three times, a
line said twice; distinct-2 over all of them; and the persona's voice standing in. In mood and
responsive are measured by people's labels where a labelled sample is given (`--labels`, the
lines of `--sample` with `coherent`, `in_mood`, `responsive` filled in by hand; committed beside
this file as fidelity_labels.jsonl), and by a second automatic check: mood from anger words and
punctuation (a lexicon, not the critic's head), responsiveness from whether the line takes up
the agent's question (a number, a yes or no, the asked-for fact) or offer (its content words).
`--baseline` is the same run with one candidate per line: the added wall time per line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

from harness.results.store import load_run
from harness.sentences import words
from harness.sim.critic import ANGRY, APOLOGY, complete, loops
from harness.sim.customer import out_of_role_reason

_HOT = re.compile(r"\b(ridiculous|unacceptable|joke|useless|cancel\w*|fed up|sick of|furious|"
                  r"disgusting|pathetic|waste|never again|lawyer|complain\w*|now|seriously|how dare)\b|!",
                  re.IGNORECASE)  # fmt: skip
_COOL = re.compile(r"\b(thanks|thank you|okay|ok|great|fine|perfect|appreciate|sounds good|"
                   r"alright|that helps|cheers)\b", re.IGNORECASE)  # fmt: skip
_ANSWER = re.compile(r"\d|\b(yes|no|yeah|nope|it's|it is|my|the)\b", re.IGNORECASE)


def lexical_mood(line: str) -> float:
    """A rough anger from words and punctuation (0 calm .. 10 furious), independent of the
    critic: heat words and exclamation marks up, thanks and okays down, capitals up."""
    hot, cool = len(_HOT.findall(line)), len(_COOL.findall(line))
    caps = sum(1 for w in re.findall(r"\b[A-Z]{3,}\b", line))
    return max(0.0, min(10.0, 5 + 1.5 * hot + 1.5 * caps - 2.0 * cool))


def takes_up(line: str, agent: str) -> bool:
    """Whether a line takes up the agent's last turn: answers its question, or uses its words."""
    if "?" in agent and _ANSWER.search(line):
        return True
    mine, theirs = set(words(line)), {w for w in words(agent) if len(w) > 3}
    return bool(mine & theirs)


def model_lines(run) -> list[dict]:
    out = []
    for episode in run.episodes:
        turns = episode["turns"]
        for i, turn in enumerate(turns):
            if turn["role"] != "customer" or not turn.get("samples"):
                continue
            agent = turns[i - 1]["text"] if i else ""
            earlier = [t["text"] for t in turns[:i] if t["role"] == "customer"]
            out.append({"episode": episode["id"], "persona": episode["persona_id"], "turn": i + 1,
                        "anger": turn["state"]["anger"], "agent": agent, "line": turn["text"],
                        "earlier": earlier, "voiced": bool(turn.get("voiced")),
                        "fault": turn.get("fault")})  # fmt: skip
    return out


def distinct_2(lines: list[str]) -> float:
    grams = [tuple(w[i : i + 2]) for w in (words(x) for x in lines) for i in range(len(w) - 1)]
    return round(len(set(grams)) / len(grams), 3) if grams else 0.0


def _wall(run) -> float:
    started, finished = run.manifest["started"], run.manifest["finished"]
    return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()


def figures(lines: list[dict]) -> dict:
    n = len(lines)
    share = lambda xs: round(sum(xs) / n, 3) if n else None  # noqa: E731
    angry = [x for x in lines if x["anger"] >= ANGRY]
    return {
        "lines": n,
        "in_role_rule": share(out_of_role_reason(x["line"], x["agent"]) is None for x in lines),
        "complete": share(complete(x["line"]) for x in lines),
        "apology_at_anger_6_or_more": round(sum(bool(APOLOGY.search(x["line"])) for x in angry) / len(angry), 3) if angry else None,
        "phrase_three_times": sum(loops(x["line"]) for x in lines),
        "line_said_twice": sum(" ".join(words(x["line"])) in {" ".join(words(e)) for e in x["earlier"]} for x in lines),
        "voiced": share(x["voiced"] for x in lines),
        "distinct_2": distinct_2([x["line"] for x in lines]),
        "mood_lexicon_within_3": share(abs(lexical_mood(x["line"]) - x["anger"]) <= 3 for x in lines),
        "takes_up_agent": share(takes_up(x["line"], x["agent"]) for x in lines),
    }  # fmt: skip


def read_labels(path: str) -> list[dict]:
    return [json.loads(x) for x in Path(path).read_text().splitlines() if x.strip()]


def agreement(first: list[dict], second: list[dict]) -> dict:
    """Per field, the share of lines both passes labelled alike and Cohen's kappa."""
    from sklearn.metrics import cohen_kappa_score

    key = lambda r: (r["episode"], r["turn"])  # noqa: E731
    other = {key(r): r for r in second}
    pairs = [(r, other[key(r)]) for r in first if key(r) in other]
    out: dict = {"n": len(pairs)}
    for field in ("coherent", "in_mood", "responsive"):
        a, b = [bool(x[field]) for x, _ in pairs], [bool(y[field]) for _, y in pairs]
        out[field] = {"equal": round(sum(x == y for x, y in zip(a, b, strict=True)) / len(pairs), 3),
                      "kappa": round(float(cohen_kappa_score(a, b)), 3)}  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("run")
    parser.add_argument("--baseline", help="the same run with --customer-candidates 1")
    parser.add_argument("--labels", help="a hand-labelled sample of this run's lines")
    parser.add_argument("--second", help="a second, blind labelling of the same lines: agreement")
    parser.add_argument("--sample", type=int, help="write this many lines to label to --out")
    parser.add_argument("--out")
    args = parser.parse_args()
    run = load_run(args.run)
    lines = model_lines(run)
    if args.sample:
        chosen = random.Random(0).sample(lines, min(args.sample, len(lines)))
        rows = [{k: x[k] for k in ("episode", "turn", "persona", "anger", "agent", "line")}
                | {"coherent": None, "in_mood": None, "responsive": None} for x in chosen]  # fmt: skip
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        print(f"{len(rows)} lines to label -> {args.out}")
        return 0
    result = {"run": args.run, **figures(lines)}
    if args.labels:
        labels = read_labels(args.labels)
        counts = Counter()
        for row in labels:
            counts["all_three"] += bool(row["coherent"] and row["in_mood"] and row["responsive"])
            for key in ("coherent", "in_mood", "responsive"):
                counts[key] += bool(row[key])
        result["hand_labelled"] = {
            "n": len(labels),
            **{k: round(v / len(labels), 3) for k, v in counts.items()},
        }
    if args.labels and args.second:
        result["agreement"] = agreement(read_labels(args.labels), read_labels(args.second))
    if args.baseline:
        base = load_run(args.baseline)
        extra = _wall(run) - _wall(base)
        result["added_seconds_per_line"] = round(extra / max(1, len(lines)), 3)
        result["wall_s"] = {"run": _wall(run), "baseline": _wall(base)}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
