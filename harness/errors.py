"""User-facing errors: each names the file, the place in it and what is wrong."""

from __future__ import annotations

from pathlib import Path


class DeescError(Exception):
    """An error the CLI reports in one line with exit code 2 (no traceback)."""


class SpecError(DeescError):
    """A user-written file (persona, rubric, exam, run file, transcript) is invalid."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        pointer: str | None = None,
        line: int | None = None,
    ) -> None:
        self.path = str(path)
        self.message = message
        self.pointer = pointer
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if self.pointer:
            return f"{where}: at {self.pointer}: {self.message}"
        return f"{where}: {self.message}"
