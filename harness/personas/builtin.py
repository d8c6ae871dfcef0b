"""What ships inside the package, found by name from any folder: the core persona pack
(`pack:core`), the de-escalation rubric (`deescalation`) and the core exam
(`exam:core-certification`). The repository's top-level `personas/`, `rubrics/` and `exams/`
are links to the same files, so a path works as well as a name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from harness.errors import DeescError

EXAM_PREFIX = "exam:"


def shipped(kind: str) -> Path:
    """The folder of shipped `personas`, `rubrics` or `exams` (package data on disk)."""
    return Path(str(resources.files("harness.personas") / "shipped" / kind))


def core_pack() -> Path:
    """The `deesc.persona_packs` entry point of the core pack."""
    return shipped("personas") / "core"


def rubric_names() -> dict[str, Path]:
    """Shipped rubrics by id (a file is named after the rubric's id; a test keeps them equal)."""
    return {p.stem: p for p in sorted(shipped("rubrics").glob("*.yaml"))}


def exam_names() -> dict[str, Path]:
    return {p.stem: p for p in sorted(shipped("exams").glob("*.yaml"))}


def looks_like_a_name(value: str) -> bool:
    return "/" not in value and "\\" not in value and not value.endswith((".yaml", ".yml", ".json"))


def rubric_file(name_or_path: str | Path) -> Path:
    """A rubric file from a path, or from the id of a shipped rubric."""
    path = Path(name_or_path)
    if path.exists() or not looks_like_a_name(str(name_or_path)):
        return path
    names = rubric_names()
    if str(name_or_path) not in names:
        raise DeescError(
            f"{name_or_path}: no such rubric file, and no shipped rubric of that id "
            f"(shipped: {', '.join(names)})"
        )
    return names[str(name_or_path)]


def exams_location(spec: str | Path) -> Path:
    """`exam:ID` -> that shipped exam file; a path (a file or a folder of exams) as it is."""
    text = str(spec)
    if not text.startswith(EXAM_PREFIX):
        return Path(spec)
    name = text.removeprefix(EXAM_PREFIX)
    names = exam_names()
    if name not in names:
        raise DeescError(f"no shipped exam {name!r} (shipped: {', '.join(names)})")
    return names[name]
