"""Exams: an exam file resolved into its personas (in order) and rubric, and the rule that turns
an attempt's conversations into a result."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import DeescError, SpecError
from harness.spec import Exam, Persona, Rubric, load_exam, load_personas, load_rubric, spec_files


@dataclass(frozen=True)
class ExamSetup:
    exam: Exam
    personas: tuple[Persona, ...]
    rubric: Rubric

    @property
    def id(self) -> str:
        return self.exam.id

    def persona(self, persona_id: str) -> Persona:
        return next(p for p in self.personas if p.id == persona_id)


def resolve_exam(path: str | Path) -> ExamSetup:
    """Personas are ids looked up in `persona_pack`, or files and folders; paths are relative to
    the exam file. An unknown id is an error at its place in the exam file."""
    exam = load_exam(path)
    base = Path(exam.source).parent
    pack = {p.id: p for p in load_personas([base / exam.persona_pack])} if exam.persona_pack else {}
    personas: list[Persona] = []
    for i, entry in enumerate(exam.personas):
        if entry in pack:
            personas.append(pack[entry])
        elif (base / entry).exists():
            personas.extend(load_personas([base / entry]))
        else:
            known = f" (the pack has: {', '.join(sorted(pack))})" if pack else ""
            raise SpecError(exam.source, f"no persona {entry!r}{known}", pointer=f"/personas/{i}")
    ids = [p.id for p in personas]
    if len(set(ids)) != len(ids):
        raise SpecError(exam.source, "a persona appears twice in the exam", pointer="/personas")
    return ExamSetup(exam, tuple(personas), load_rubric(base / exam.rubric))


def load_exams(folder: str | Path) -> dict[str, ExamSetup]:
    exams: dict[str, ExamSetup] = {}
    for file in spec_files([folder]):
        setup = resolve_exam(file)
        if setup.id in exams:
            raise DeescError(
                f"{file}: exam id {setup.id!r} is already used by {exams[setup.id].exam.source}"
            )
        exams[setup.id] = setup
    if not exams:
        raise DeescError(f"{folder}: no exams")
    return exams


def attempt_result(records: list[dict[str, Any]], pass_mark: float) -> tuple[float | None, bool]:
    """The mean composite of an attempt's conversations (one the judge could not score counts
    0); it passes at the exam's pass mark, with no critical failure in any conversation."""
    if not records:
        return None, False
    mean = round(sum(r.get("composite") or 0.0 for r in records) / len(records), 2)
    critical = any(r.get("critical_failures") for r in records)
    return mean, mean >= pass_mark and not critical
