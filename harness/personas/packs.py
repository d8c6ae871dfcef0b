"""Persona packs: a folder of personas with a `pack.yaml` manifest (name, version, licence,
description), either anywhere on disk or shipped by an installed Python package that names its
folder in the `deesc.persona_packs` entry-point group. `pack:NAME` selects an installed pack
wherever personas are read. Runs record each pack's version and content hash."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from harness.errors import DeescError
from harness.personas.documents import check_schema
from harness.personas.persona import personas_hash
from harness.sourcefile import read_document

PACK_FILE = "pack.yaml"
PACK_GROUP = "deesc.persona_packs"
PACK_PREFIX = "pack:"


@dataclass(frozen=True)
class PackInfo:
    name: str
    version: str
    licence: str
    description: str
    folder: Path
    source: str  # "folder" or the distribution that installed it


def read_pack(folder: str | Path, source: str = "folder") -> PackInfo:
    folder = Path(folder)
    doc = read_document(folder / PACK_FILE)
    check_schema(doc, "pack")
    d = doc.data
    return PackInfo(d["name"], str(d["version"]), d["licence"], d["description"], folder, source)


def installed_packs() -> dict[str, PackInfo]:
    """Packs of installed packages: each entry point loads to a folder (a path, or a function
    returning one)."""
    packs: dict[str, PackInfo] = {}
    for ep in entry_points(group=PACK_GROUP):
        target = ep.load()
        folder = Path(target() if callable(target) else target)
        dist = ep.dist.name if ep.dist else "?"
        info = read_pack(folder, source=f"package {dist}")
        if info.name != ep.name:
            raise DeescError(
                f"{folder / PACK_FILE}: pack name {info.name!r} differs from its entry point {ep.name!r}"
            )
        packs[info.name] = info
    return packs


def resolve_pack_path(spec: str) -> Path:
    """`pack:NAME` -> the installed pack's folder, `pack:NAME/ID` -> one persona of it;
    anything else is a path."""
    if not spec.startswith(PACK_PREFIX):
        return Path(spec)
    name, _, persona = spec.removeprefix(PACK_PREFIX).partition("/")
    packs = installed_packs()
    if name not in packs:
        known = ", ".join(sorted(packs)) or "none"
        raise DeescError(f"no installed persona pack {name!r} (installed: {known})")
    folder = packs[name].folder
    if not persona:
        return folder
    files = [p for p in sorted(folder.rglob("*.y*ml")) if p.name != PACK_FILE]
    matches = [p for p in files if p.stem == persona] or [
        p for p in files if read_document(p).data.get("id") == persona
    ]
    if not matches:
        known = ", ".join(p.stem for p in files)
        raise DeescError(f"pack {name!r} has no persona {persona!r} (it has: {known})")
    return matches[0]


def pack_folder(persona_source: str) -> Path | None:
    """The pack a persona file belongs to: the nearest folder above it with a pack.yaml."""
    path = Path(persona_source.split(" row ")[0]).resolve()
    return next((f for f in [path.parent, *path.parent.parents] if (f / PACK_FILE).exists()), None)


def packs_of(personas: list[Any]) -> dict[str, dict[str, Any]]:
    """For a run manifest: each pack the personas came from, its version and the content hash
    of the personas of it that were used (each pack.yaml read once)."""
    grouped: dict[Path, list[Any]] = {}
    for persona in personas:
        if (folder := pack_folder(persona.source)) is not None:
            grouped.setdefault(folder, []).append(persona)
    out = {}
    for folder, members in grouped.items():
        info = read_pack(folder)
        out[info.name] = {"version": info.version, "licence": info.licence,
                          "personas": len(members), "sha256": personas_hash(members)}  # fmt: skip
    return out


def expected_difficulty(persona: Any) -> str:
    """A reading of the temperament before any run: how far anger must fall (to accept_below),
    how fast it climbs, and how long the customer waits. `deesc persona check` measures it."""
    t = persona.temperament
    distance = max(0.0, t.initial_anger - t.accept_below)
    score = distance + 4 * t.drift - 0.5 * t.patience
    return "easy" if score < 2.5 else "medium" if score < 4.5 else "hard"


def coverage(personas: list[Any]) -> dict[str, Any]:
    angers = [p.temperament.initial_anger for p in personas]
    facts = [len(p.hidden_facts) for p in personas]
    return {
        "personas": len(personas),
        "archetypes": dict(sorted(Counter(p.archetype for p in personas).items())),
        "domains": dict(sorted(Counter(p.scenario.domain for p in personas).items())),
        "starting_anger": _spread(angers),
        "hidden_facts": {"total": sum(facts), "personas_without": sum(1 for f in facts if f == 0)},
        "expected_difficulty": dict(
            sorted(Counter(expected_difficulty(p) for p in personas).items())
        ),
    }


def _spread(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"min": min(values), "mean": round(statistics.mean(values), 2), "max": max(values)}
