"""The report's figures, drawn with matplotlib and returned as PNG data URIs so that the HTML
file carries them inline (no network, nothing beside it)."""

from __future__ import annotations

import base64
import io
import math
from collections import defaultdict
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

DPI = 90


def short(label: str, width: int = 28) -> str:
    """Long agent names (model specs, URLs) shortened in the middle for axis labels."""
    if len(label) <= width:
        return label
    half = (width - 1) // 2
    return f"{label[:half]}…{label[-half:]}"


def agent_colours(agents: list[str]) -> dict[str, Any]:
    """One colour per agent, the same in every figure."""
    cmap = plt.get_cmap("tab10")
    return {a: cmap(i % 10) for i, a in enumerate(agents)}


def data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    # no timestamp or software tag: the same run gives the same bytes
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def anger_by_agent_turn(episode: dict[str, Any]) -> list[float]:
    """Anger at the start, then after each agent turn (the customer's reaction to it)."""
    turns = episode["turns"]
    values = [float(episode["outcome"]["anger_start"])]
    values += [float(t["state"]["anger"]) for t in turns if t["role"] == "agent"]
    return values


def anger_trajectories(episodes: list[dict[str, Any]], colours: dict[str, Any]) -> str:
    """A panel per persona: each episode a thin line, each agent's mean a thick one."""
    by_persona: dict[str, dict[str, list[list[float]]]] = defaultdict(lambda: defaultdict(list))
    for e in episodes:
        by_persona[e["persona_id"]][e["agent"]].append(anger_by_agent_turn(e))
    personas = sorted(by_persona)
    cols = min(4, len(personas)) or 1
    rows = math.ceil(len(personas) / cols) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.5 * rows), squeeze=False,
                             sharey=True)  # fmt: skip
    for ax in axes.flat[len(personas) :]:
        ax.set_visible(False)
    for ax, persona in zip(axes.flat, personas, strict=False):
        for agent, series in sorted(by_persona[persona].items()):
            for s in series:
                ax.plot(range(len(s)), s, color=colours[agent], alpha=0.25, linewidth=0.8)
            longest = max(len(s) for s in series)
            mean = [
                sum(s[i] for s in series if i < len(s)) / sum(1 for s in series if i < len(s))
                for i in range(longest)
            ]
            ax.plot(range(longest), mean, color=colours[agent], linewidth=2.2)
        ax.set_title(persona, fontsize=9)
        ax.set_ylim(-0.3, 10.3)
        ax.set_xlabel("agent turn", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes.flat[0].set_ylabel("anger (0-10)", fontsize=8)
    handles = [plt.Line2D([], [], color=c, linewidth=2.2) for c in colours.values()]
    fig.legend(handles, [short(a, 40) for a in colours], loc="upper center", ncol=min(4, len(colours)),
               fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.0 + 0.04 / rows))  # fmt: skip
    fig.tight_layout()
    return data_uri(fig)


def criterion_bars(summary: dict[str, Any], colours: dict[str, Any]) -> str | None:
    """Mean score per criterion and agent (1-5) with its 95% interval."""
    agents = list(summary["agents"])
    criteria = sorted({c for a in agents for c in summary["agents"][a]["overall"]["criteria"]})
    if not criteria:
        return None
    height = 0.8 / len(agents)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(criteria) * max(1, len(agents) / 2) + 1))
    for i, agent in enumerate(agents):
        stats = summary["agents"][agent]["overall"]["criteria"]
        ys, means, errors = [], [], [[], []]
        for j, criterion in enumerate(criteria):
            s = stats.get(criterion)
            if not s or s["mean"] is None:
                continue
            ys.append(j + i * height - 0.4 + height / 2)
            means.append(s["mean"])
            low, high = (s["low"], s["high"]) if s["low"] is not None else (s["mean"], s["mean"])
            errors[0].append(s["mean"] - low)
            errors[1].append(high - s["mean"])
        ax.barh(ys, means, height=height * 0.9, color=colours[agent],
                xerr=errors, ecolor="#333", capsize=2, label=short(agent, 40))  # fmt: skip
    ax.set_yticks(range(len(criteria)), [c.replace("_", " ") for c in criteria], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 5)
    ax.axvline(3, color="#888", linewidth=0.8, linestyle=":")
    ax.set_xlabel("score (1-5), bars: 95% interval", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, len(agents)),
              frameon=False)  # fmt: skip
    fig.tight_layout()
    return data_uri(fig)


def persona_heatmap(summary: dict[str, Any]) -> str | None:
    """Mean composite per persona (rows) and agent (columns)."""
    agents = list(summary["agents"])
    personas = sorted({p for a in agents for p in summary["agents"][a]["personas"]})
    if not personas:
        return None
    grid = [
        [summary["agents"][a]["personas"].get(p, {}).get("composite", {}).get("mean")
         for a in agents]
        for p in personas
    ]  # fmt: skip
    values = [[math.nan if v is None else v for v in row] for row in grid]
    fig, ax = plt.subplots(figsize=(1.6 * len(agents) + 3, 0.4 * len(personas) + 1.2))
    image = ax.imshow(values, cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            ax.text(j, i, "-" if v is None else f"{v:.0f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(agents)), [short(a) for a in agents], fontsize=8, rotation=15,
                  ha="right")  # fmt: skip
    ax.set_yticks(range(len(personas)), personas, fontsize=8)
    fig.colorbar(image, ax=ax, label="composite (0-100)", shrink=0.8)
    return data_uri(fig)  # savefig's tight bounding box makes room for long labels
