"""Plain-text tables for the terminal: how conversations ended per agent and persona, whether
the simulator separated a good agent from a bad one, and a comparison of two runs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from statistics import mean
from typing import Any


def _group(episodes: Iterable[dict[str, Any]], *keys: str) -> dict[tuple, list[dict[str, Any]]]:
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for ep in episodes:
        groups[tuple(ep[k] for k in keys)].append(ep)
    return dict(sorted(groups.items()))


def _rate(eps: list[dict[str, Any]], key: str) -> float:
    return mean(1.0 if e["outcome"][key] else 0.0 for e in eps)


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def outcome_rows(episodes: list[dict[str, Any]], by: tuple[str, ...]) -> list[list[str]]:
    rows = []
    for key, eps in _group(episodes, *by).items():
        reasons = defaultdict(int)
        for e in eps:
            reasons[e["end_reason"]] += 1
        rows.append(
            [
                *map(str, key),
                str(len(eps)),
                f"{mean(e['outcome']['anger_start'] for e in eps):.1f}",
                f"{mean(e['outcome']['anger_end'] for e in eps):.1f}",
                f"{_rate(eps, 'resolved'):.0%}",
                f"{_rate(eps, 'hung_up'):.0%}",
                f"{mean(e['outcome']['turns'] for e in eps):.1f}",
                _mean_composite(eps),
                _pass_rate(eps),
                ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())),
            ]
        )
    return rows


def _mean_composite(eps: list[dict[str, Any]]) -> str:
    values = [e["composite"] for e in eps if e.get("composite") is not None]
    return f"{mean(values):.1f}" if values else "-"


def _pass_rate(eps: list[dict[str, Any]]) -> str:
    judged = [e for e in eps if "passed" in e]  # episodes of format 1 were not judged
    return f"{mean(1.0 if e['passed'] else 0.0 for e in judged):.0%}" if judged else "-"


def outcome_table(episodes: list[dict[str, Any]], by: tuple[str, ...] = ("agent",)) -> str:
    header = [*by, "n", "anger start", "anger end", "resolved", "hung up", "turns", "composite",
              "passed", "ended by"]  # fmt: skip
    return format_table(header, outcome_rows(episodes, by))


def separation(episodes: list[dict[str, Any]], good: str, bad: str) -> list[dict[str, Any]]:
    """Per persona, mean final anger of a good and a bad agent: does the simulator tell them apart?"""
    by_persona = _group([e for e in episodes if e["agent"] in (good, bad)], "persona_id")
    out = []
    for (persona,), eps in by_persona.items():
        g = [e["outcome"]["anger_end"] for e in eps if e["agent"] == good]
        b = [e["outcome"]["anger_end"] for e in eps if e["agent"] == bad]
        if g and b:
            out.append(
                {
                    "persona": persona,
                    "good": mean(g),
                    "bad": mean(b),
                    "separated": mean(g) < mean(b),
                }
            )
    return out


def separation_table(rows: list[dict[str, Any]], good: str, bad: str) -> str:
    body = [
        [r["persona"], f"{r['good']:.1f}", f"{r['bad']:.1f}", "yes" if r["separated"] else "NO"]
        for r in rows
    ]
    return format_table(["persona", f"{good} anger", f"{bad} anger", "good < bad"], body)


def _difference(d: dict[str, Any]) -> str:
    if d["mean"] is None:
        return "-"
    text = f"{d['mean']:+.2f}"
    if d["low"] is not None:
        text += f" [{d['low']:+.2f}, {d['high']:+.2f}]"
    if d.get("p_value") is not None:
        text += f"  p={d['p_value']:.3g}"
    return text


def comparison_text(result: dict[str, Any]) -> str:
    a, b = result["a"], result["b"]
    lines = [
        f"A: {a['agent']} in {a['run']}",
        f"B: {b['agent']} in {b['run']}",
        f"{result['pairs']} pairs by persona and repeat ({result['same_seeds']} with the same "
        f"customer seed); unpaired: A {result['unpaired']['a']}, B {result['unpaired']['b']}",
    ]
    faults = result["simulator_faults"]
    lines.append(f"simulator faults: A {faults['a']} episodes, B {faults['b']}; "
                 f"{faults['faulty_pairs']} pairs with one"
                 + (" (left out)" if faults["excluded"] else " (kept; --exclude-faulty leaves them out)"))  # fmt: skip
    if result["forced_despite"]:
        lines.append(
            "WARNING compared with --force although " + "; ".join(result["forced_despite"])
        )
    if result.get("version_warnings"):
        lines.append(
            "WARNING the runs used different library versions ("
            + "; ".join(result["version_warnings"])
            + "): the same seed may have given other conversations"
        )
    header = ["", "A", "B", "B - A [95% CI]  p"]
    num = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    row = lambda name, x: [name, num(x["a"]), num(x["b"]), _difference(x["difference"])]  # noqa: E731
    rows = [row("composite", result["composite"])]
    rows += [row(name, x) for name, x in result["outcomes"].items()]
    lines += ["", format_table(header, rows), "", "per criterion (1-5)"]
    lines.append(format_table(header, [row(c, x) for c, x in result["criteria"].items()]))
    lines += ["", "per persona (composite)"]
    lines.append(format_table(header, [row(p, x) for p, x in result["personas"].items()]))
    v = result["verdict"]
    lines.append(f"\nverdict: {v['label']}")
    if v["margin"] is not None:
        lines.append(
            f"regression beyond margin {v['margin']}: {'YES' if v['regression'] else 'no'}"
            f" (one-sided p={v['p_worse_than_margin']})"
        )
    return "\n".join(lines)
