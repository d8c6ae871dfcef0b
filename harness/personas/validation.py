"""`deesc validate`: every persona, rubric, exam, pack and run file checked by its kind."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.personas.documents import check_schema
from harness.personas.exam import load_exam
from harness.personas.loading import files_under
from harness.personas.persona import persona_from_document
from harness.personas.rubric import load_rubric
from harness.sourcefile import SourceDocument, read_document


def file_kind(doc: SourceDocument) -> str:
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
    """Validate every file; return (file, kind) pairs or raise the first error."""
    checked: list[tuple[Path, str]] = []
    for file in files_under(paths):
        doc = read_document(file)
        kind = file_kind(doc)
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
