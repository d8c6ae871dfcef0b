"""Exam files: personas (in order), a rubric, a pass mark and the rules of an attempt,
validated into a frozen `Exam` and resolved into an `ExamSetup`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import DeescError, SpecError
from harness.personas.builtin import exams_location
from harness.personas.documents import check_schema
from harness.personas.loading import files_under, load_personas
from harness.personas.persona import Persona
from harness.personas.rubric import Rubric, load_rubric
from harness.sourcefile import read_document


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


def load_exam(path: str | Path) -> Exam:
    doc = read_document(exams_location(path))
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


def load_exams(where: str | Path) -> dict[str, ExamSetup]:
    """Every exam in a folder or file, or the shipped exam named `exam:ID`; ids are unique."""
    folder = exams_location(where)
    exams: dict[str, ExamSetup] = {}
    for file in files_under([folder]):
        setup = resolve_exam(file)
        if setup.id in exams:
            raise DeescError(
                f"{file}: exam id {setup.id!r} is already used by {exams[setup.id].exam.source}"
            )
        exams[setup.id] = setup
    if not exams:
        raise DeescError(f"{folder}: no exams")
    return exams
