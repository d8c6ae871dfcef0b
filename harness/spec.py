"""Persona, rubric and exam files: strict validation into frozen dataclasses.

Every file is checked against its JSON Schema (harness/schemas/) and then for the few rules a
schema cannot say (unique ids). Errors name the file, the line and the JSON pointer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import SpecError
from harness.schemas import validator
from harness.sourcefile import SourceDocument, read_document

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
DEFAULT_MAX_TURNS = 8
DEFAULT_ACCEPT_BELOW = 4.0


@dataclass(frozen=True)
class Scenario:
    company: str
    product: str
    domain: str
    situation: str
    known_facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class HiddenFact:
    id: str
    fact: str
    say: str
    asked_by: tuple[str, ...]


@dataclass(frozen=True)
class Offer:
    id: str
    description: str
    cues: tuple[str, ...]


@dataclass(frozen=True)
class Temperament:
    initial_anger: float
    patience: int
    drift: float
    accept_below: float = DEFAULT_ACCEPT_BELOW


@dataclass(frozen=True)
class Persona:
    id: str
    name: str
    archetype: str
    scenario: Scenario
    hidden_facts: tuple[HiddenFact, ...]
    goal: str
    acceptable_resolutions: tuple[Offer, ...]
    unacceptable_demands: tuple[Offer, ...]
    temperament: Temperament
    reactions: dict[str, float]
    style: str
    opening_lines: tuple[str, ...]
    max_turns: int
    source: str
    content_hash: str


@dataclass(frozen=True)
class Criterion:
    id: str
    title: str
    description: str
    weight: float
    anchors: dict[str, str]
    applies_to: tuple[str, ...] | None
    evidence_behaviours: tuple[str, ...]
    penalty_behaviours: tuple[str, ...]
    tip: str | None = None

    def applies(self, archetype: str | None) -> bool:
        """Criteria with no `applies_to` apply everywhere, also when the archetype is unknown."""
        if self.applies_to is None:
            return True
        return archetype is not None and archetype in self.applies_to


@dataclass(frozen=True)
class CriticalFailure:
    id: str
    description: str
    behaviours: tuple[str, ...]


@dataclass(frozen=True)
class OutcomeWeights:
    criteria: float
    anger_reduction: float
    resolved: float


@dataclass(frozen=True)
class Rubric:
    id: str
    version: str
    title: str
    criteria: tuple[Criterion, ...]
    outcome_weights: OutcomeWeights
    critical_failures: tuple[CriticalFailure, ...]
    pass_mark: float
    source: str
    content_hash: str


@dataclass(frozen=True)
class Exam:
    id: str
    title: str
    personas: tuple[str, ...]
    persona_pack: str | None
    rubric: str
    pass_mark: float
    time_limit_minutes: float | None
    attempts: int
    show_feedback: bool
    customer_model: str | None
    source: str


def _canonical_numbers(value: Any) -> Any:
    """9.0 and 9 are the same number, whichever way a file (or a typed table column) wrote it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_numbers(v) for v in value]
    return value


def content_hash(data: Any) -> str:
    """Hash of the parsed content, so that reformatting a file (key order, quoting, 9 or 9.0)
    does not change it."""
    canonical = json.dumps(
        _canonical_numbers(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_schema(doc: SourceDocument, schema_name: str) -> None:
    """Raise the most specific schema error, located in the file."""
    errors = sorted(
        validator(schema_name).iter_errors(doc.data),
        key=lambda e: (-len(e.absolute_path), str(list(e.absolute_path))),
    )
    if errors:
        message, parts = _describe(errors[0])
        raise doc.error(message, parts)


def _describe(err: Any) -> tuple[str, list[str | int]]:
    """A reader's message for a schema error, and the path of the exact key it is about."""
    parts = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        unknown = sorted(k for k in err.instance if k not in allowed)
        if unknown and allowed:
            return f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})", [
                *parts,
                unknown[0],
            ]
    if "propertyNames" in err.schema_path:
        return f"unknown behaviour {err.instance!r}; see harness/behaviours.py", [
            *parts,
            err.instance,
        ]
    if err.validator == "enum":
        return f"{err.instance!r} is not one of: {', '.join(map(str, err.validator_value))}", parts
    return err.message, parts


def _unique(doc: SourceDocument, items: list[dict], path: list[str | int], what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise doc.error(f"duplicate {what} id {item['id']!r}", [*path, i, "id"])
        seen.add(item["id"])


def _offers(items: Iterable[dict]) -> tuple[Offer, ...]:
    return tuple(Offer(o["id"], o["description"], tuple(o["cues"])) for o in items)


def persona_from_document(doc: SourceDocument) -> Persona:
    check_schema(doc, "persona")
    d = doc.data
    _unique(doc, d.get("hidden_facts", []), ["hidden_facts"], "hidden fact")
    _unique(doc, d["acceptable_resolutions"], ["acceptable_resolutions"], "resolution")
    _unique(doc, d.get("unacceptable_demands", []), ["unacceptable_demands"], "demand")
    sc, te = d["scenario"], d["temperament"]
    return Persona(
        id=d["id"],
        name=d["name"],
        archetype=d["archetype"],
        scenario=Scenario(
            sc["company"],
            sc["product"],
            sc["domain"],
            sc["situation"],
            tuple(sc.get("known_facts", [])),
        ),
        hidden_facts=tuple(
            HiddenFact(h["id"], h["fact"], h["say"], tuple(h["asked_by"]))
            for h in d.get("hidden_facts", [])
        ),
        goal=d["goal"],
        acceptable_resolutions=_offers(d["acceptable_resolutions"]),
        unacceptable_demands=_offers(d.get("unacceptable_demands", [])),
        temperament=Temperament(
            float(te["initial_anger"]),
            int(te["patience"]),
            float(te["drift"]),
            float(te.get("accept_below", DEFAULT_ACCEPT_BELOW)),
        ),
        reactions={k: float(v) for k, v in d.get("reactions", {}).items()},
        style=d["style"],
        opening_lines=tuple(d["opening_lines"]),
        max_turns=int(d.get("max_turns", DEFAULT_MAX_TURNS)),
        source=str(doc.path),
        content_hash=content_hash(d),
    )


def personas_hash(personas: Iterable[Persona]) -> str:
    """One hash for a set of personas (ids and contents, in any order): runs compare only on
    the same set, and a pack's version is recorded with the hash of the personas used."""
    joined = "".join(f"{p.id}:{p.content_hash}\n" for p in sorted(personas, key=lambda p: p.id))
    return hashlib.sha256(joined.encode()).hexdigest()


def load_persona(path: str | Path) -> Persona:
    return persona_from_document(read_document(path))


def spec_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders (recursively) into spec files, in a stable order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES)
            if not found:
                raise SpecError(path, "folder holds no .yaml, .yml or .json files")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise SpecError(path, "no such file or folder")
    return files


def load_personas(paths: Iterable[str | Path]) -> list[Persona]:
    """Load every persona under the given files and folders (YAML or JSON files, parquet files,
    `datasets` folders); ids must be unique."""
    from harness.packs import PACK_FILE, resolve_pack_path
    from harness.persona_tables import is_persona_table, persona_documents

    personas: list[Persona] = []
    by_id: dict[str, Persona] = {}
    documents = []
    for raw in paths:
        path = resolve_pack_path(str(raw))
        if is_persona_table(path):
            documents.extend(persona_documents(path))
        else:
            files = [f for f in spec_files([path]) if f.name != PACK_FILE or f == path]
            documents.extend(read_document(file) for file in files)
    for doc in documents:
        persona = persona_from_document(doc)
        if persona.id in by_id:
            raise SpecError(
                doc.path, f"persona id {persona.id!r} is already used by {by_id[persona.id].source}"
            )
        by_id[persona.id] = persona
        personas.append(persona)
    return personas


def load_rubric(path: str | Path) -> Rubric:
    doc = read_document(path)
    check_schema(doc, "rubric")
    d = doc.data
    _unique(doc, d["criteria"], ["criteria"], "criterion")
    _unique(doc, d["critical_failures"], ["critical_failures"], "critical failure")
    ow = d["outcome_weights"]
    return Rubric(
        id=d["id"],
        version=d["version"],
        title=d["title"],
        criteria=tuple(
            Criterion(
                id=c["id"],
                title=c["title"],
                description=c["description"],
                weight=float(c["weight"]),
                anchors=dict(c["anchors"]),
                applies_to=tuple(c["applies_to"]) if "applies_to" in c else None,
                evidence_behaviours=tuple(c.get("evidence_behaviours", [])),
                penalty_behaviours=tuple(c.get("penalty_behaviours", [])),
                tip=c.get("tip"),
            )
            for c in d["criteria"]
        ),
        outcome_weights=OutcomeWeights(
            float(ow["criteria"]), float(ow["anger_reduction"]), float(ow["resolved"])
        ),
        critical_failures=tuple(
            CriticalFailure(f["id"], f["description"], tuple(f["behaviours"]))
            for f in d["critical_failures"]
        ),
        pass_mark=float(d["pass_mark"]),
        source=str(doc.path),
        content_hash=content_hash(d),
    )


def load_exam(path: str | Path) -> Exam:
    doc = read_document(path)
    check_schema(doc, "exam")
    d = doc.data
    return Exam(
        id=d["id"],
        title=d["title"],
        personas=tuple(d["personas"]),
        persona_pack=d.get("persona_pack"),
        rubric=d["rubric"],
        pass_mark=float(d["pass_mark"]),
        time_limit_minutes=d.get("time_limit_minutes"),
        attempts=int(d.get("attempts", 1)),
        show_feedback=bool(d.get("show_feedback", True)),
        customer_model=d.get("customer_model"),
        source=str(doc.path),
    )


def guess_kind(doc: SourceDocument) -> str:
    """Which format a file is meant to be, from its top-level keys."""
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error("expected a mapping at the top level")
    if "archetype" in data or "temperament" in data:
        return "persona"
    if "criteria" in data:
        return "rubric"
    if "agents" in data:
        return "runfile"
    if "pass_mark" in data and "personas" in data:
        return "exam"
    if {"name", "version", "licence"} <= set(data):
        return "pack"
    raise doc.error(
        "cannot tell the kind of file: a persona has 'archetype', a rubric 'criteria', "
        "an exam 'personas' and 'pass_mark', a run file 'agents', a pack.yaml 'name', 'version' "
        "and 'licence'"
    )


def validate_paths(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """Validate every spec file; return (file, kind) pairs or raise the first error."""
    checked: list[tuple[Path, str]] = []
    for file in spec_files(paths):
        doc = read_document(file)
        kind = guess_kind(doc)
        if kind == "persona":
            persona_from_document(doc)
        elif kind == "rubric":
            load_rubric(file)
        elif kind == "exam":
            load_exam(file)
        elif kind == "pack":
            check_schema(doc, "pack")
        else:
            check_schema(doc, "runfile")
        checked.append((file, kind))
    return checked
