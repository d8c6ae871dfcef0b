"""Writing files so that nothing already written is lost: whole files through a temporary file
and a rename, append-only lines in one fsync'd write; and reading a whole-file JSON record
back with its schema check."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import DeescError, SpecError
from harness.schemas import check_record


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write through a temporary file and a rename: readers see the old or the new file, never
    half of one, whenever the writer is interrupted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())  # mkstemp makes it private; a run is shared like any file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json_record(path: Path, kind: str, missing: str) -> dict[str, Any]:
    """A whole-file JSON record (manifest, summary) checked against its schema and format
    version; `missing` is the message when there is no such file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeescError(missing) from None
    except json.JSONDecodeError as exc:
        raise SpecError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    check_record(kind, data, str(path))
    return data


def append_line(path: Path, record: dict[str, Any]) -> None:
    """One JSON line, written whole with one write call and fsync'd (append-only files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
