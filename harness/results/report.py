"""report.html: one self-contained file (figures inline, styles inline, no scripts, no network)
with the overview, the figures and every transcript, the judge's evidence marked in the agent's
turns and the rationale beside it."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from harness.behaviours import NEGATIVE
from harness.fileio import atomic_write_text
from harness.results import plots
from harness.results.store import Run
from harness.stats import interval_text

REPORT = "report.html"


def _quote_pattern(quote: str) -> re.Pattern[str] | None:
    """The quote as the evidence check matched it: case and whitespace do not matter."""
    words = quote.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)


def highlight(text: str, marks: list[tuple[str, str]]) -> Markup:
    """The turn's text, escaped, with each (quote, label) found in it wrapped in <mark>;
    overlapping quotes merge into one mark that names every label."""
    spans: list[tuple[int, int, set[str]]] = []
    for quote, label in marks:
        pattern = _quote_pattern(quote)
        match = pattern.search(text) if pattern else None
        if match:
            spans.append((match.start(), match.end(), {label}))
    spans.sort(key=lambda s: s[0])
    merged: list[tuple[int, int, set[str]]] = []
    for start, end, labels in spans:
        if merged and start < merged[-1][1]:
            s0, e0, l0 = merged[-1]
            merged[-1] = (s0, max(e0, end), l0 | labels)
        else:
            merged.append((start, end, labels))
    out, at = [], 0
    for start, end, labels in merged:
        title = ", ".join(sorted(labels))
        out.append(escape(text[at:start]))
        out.append(Markup('<mark title="{}">{}</mark>').format(title, text[start:end]))
        at = end
    out.append(escape(text[at:]))
    return Markup("").join(out)


def evidence_by_turn(episode: dict[str, Any]) -> dict[int, list[tuple[str, str]]]:
    """Turn number (1-based) -> (quote, criterion) for every quote the judge's check found."""
    marks: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for criterion, score in (episode.get("scores") or {}).items():
        for item in score.get("evidence", []):
            if item.get("found", True) and item.get("quote"):
                marks[item["turn"]].append((item["quote"], criterion))
    return marks


def episode_view(episode: dict[str, Any]) -> dict[str, Any]:
    marks = evidence_by_turn(episode)
    turns = []
    for number, turn in enumerate(episode["turns"], start=1):
        text = turn["text"]
        html = highlight(text, marks[number]) if turn["role"] == "agent" else escape(text)
        turns.append({**turn, "number": number, "html": html})
    return {**episode, "turn_views": turns, "anchor": re.sub(r"[^A-Za-z0-9_-]", "-", episode["id"])}


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("harness.results", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "-" if v is None else f"{v:.0%}"
    env.filters["num"] = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"
    env.filters["ci"] = interval_text
    env.filters["ci_pct"] = lambda stat: interval_text(stat, ".0%")
    return env


def shown_ks(summary: dict[str, Any]) -> list[str]:
    """pass^k columns: k = 1 to 4 and the largest (summary.json has every k)."""
    ks = sorted({int(k) for a in summary["agents"].values() for k in a["pass_hat_k"]})
    return [str(k) for k in ks if k <= 4 or k == ks[-1]]


def render_report(run: Run, summary: dict[str, Any]) -> str:
    colours = plots.agent_colours(list(summary["agents"]))
    episodes = sorted(run.episodes, key=lambda e: (e["persona_id"], e["agent"], e["repeat"]))
    figures = {
        "heatmap": plots.persona_heatmap(summary),
        "criteria": plots.criterion_bars(summary, colours),
        "trajectories": plots.anger_trajectories(episodes, colours) if episodes else None,
    }
    template = _environment().get_template("report.html.j2")
    return template.render(
        run=run,
        manifest=run.manifest,
        summary=summary,
        figures=figures,
        negative=NEGATIVE,
        pass_ks=shown_ks(summary),
        episodes=[episode_view(e) for e in episodes],
    )


def write_report(run: Run, summary: dict[str, Any]) -> str:
    html = render_report(run, summary)
    atomic_write_text(run.dir / REPORT, html)
    return html
