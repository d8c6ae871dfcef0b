"""Finding definition files under folders, and loading personas from files, folders, packs
(`pack:NAME`) and persona tables."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.errors import SpecError
from harness.personas.packs import PACK_FILE, resolve_pack_path
from harness.personas.persona import Persona, persona_from_document
from harness.personas.tables import is_persona_table, persona_documents
from harness.sourcefile import read_document

FILE_SUFFIXES = (".yaml", ".yml", ".json")


def files_under(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders (recursively) into definition files, in a stable order."""
    files: list[Path] = []
    for raw in paths:
        path = resolve_pack_path(str(raw))
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in FILE_SUFFIXES)
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
    personas: list[Persona] = []
    by_id: dict[str, Persona] = {}
    documents = []
    for raw in paths:
        path = resolve_pack_path(str(raw))
        if is_persona_table(path):
            documents.extend(persona_documents(path))
        else:
            files = [f for f in files_under([path]) if f.name != PACK_FILE or f == path]
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
