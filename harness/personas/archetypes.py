"""The archetypes' default reactions (`archetypes.yaml`): behaviour -> change of anger, which a
persona's own `reactions` override."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from harness.behaviours import NAMES


@cache
def archetype_reactions() -> dict[str, dict[str, float]]:
    """`"*"` -> the base reactions; each archetype -> the base with its overrides applied."""
    text = resources.files("harness.personas").joinpath("archetypes.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    base = {k: float(v) for k, v in data["base"].items()}
    if missing := set(NAMES) - set(base):
        raise ValueError(f"archetypes.yaml: base lacks reactions for {sorted(missing)}")
    table = {"*": base}
    for archetype, overrides in data["archetypes"].items():
        if unknown := set(overrides) - set(NAMES):
            raise ValueError(f"archetypes.yaml: {archetype}: unknown behaviours {sorted(unknown)}")
        table[archetype] = {**base, **{k: float(v) for k, v in overrides.items()}}
    return table


def default_reactions(archetype: str) -> dict[str, float]:
    """The reactions a persona of this archetype has unless it overrides them."""
    table = archetype_reactions()
    return dict(table.get(archetype, table["*"]))
