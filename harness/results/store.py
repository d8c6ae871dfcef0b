"""eval_runs/<run>/: the manifest, and episodes appended one finished line at a time.

Every line is schema-checked before it is written, written whole with one write call and
fsync'd, so a crash can at worst leave a torn last line; resuming cuts exactly that line off
(it was never a finished episode) and keeps every line before it byte for byte. A lock file
keeps two processes from writing into the same run.
"""

from __future__ import annotations

import fcntl
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import DeescError, SpecError
from harness.fileio import append_line, atomic_write_json, read_json_record
from harness.schemas import check_record

MANIFEST = "manifest.json"
EPISODES = "episodes.jsonl"
LOCK = ".lock"


class RunStore:
    def __init__(self, run_dir: str | Path) -> None:
        self.dir = Path(run_dir)
        self.manifest_path = self.dir / MANIFEST
        self.episodes_path = self.dir / EPISODES
        self._lock_fh: Any = None

    def exists(self) -> bool:
        return self.manifest_path.exists()

    def lock(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock_fh = (self.dir / LOCK).open("w")
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeescError(f"{self.dir}: another deesc process is writing this run") from None

    def unlock(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        check_record("manifest", manifest, str(self.manifest_path))
        atomic_write_json(self.manifest_path, manifest)

    def read_manifest(self) -> dict[str, Any]:
        return read_json_record(
            self.manifest_path, "manifest", f"{self.dir}: not a run directory (no {MANIFEST})"
        )

    def repair_tail(self) -> int:
        """Cut a torn last line left by a crash mid-write; return the bytes removed."""
        if not self.episodes_path.exists():
            return 0
        with self.episodes_path.open("rb+") as fh:
            data = fh.read()
            if not data or data.endswith(b"\n"):
                return 0
            keep = data.rfind(b"\n") + 1
            fh.truncate(keep)
            return len(data) - keep

    def append(self, record: dict[str, Any]) -> None:
        check_record("episode", record, f"episode {record.get('id')}")
        append_line(self.episodes_path, record)

    def read_episodes(self) -> list[dict[str, Any]]:
        """Every finished episode; a torn last line is skipped, any other bad line is an error."""
        if not self.episodes_path.exists():
            return []
        records = []
        lines = self.episodes_path.read_text(encoding="utf-8").split("\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if number == len(lines):  # torn by a crash: not a finished episode
                    break
                raise SpecError(
                    self.episodes_path, f"invalid JSON: {exc.msg}", line=number
                ) from None
            check_record("episode", records[-1], str(self.episodes_path), line=number)
        return records

    def finished_ids(self) -> set[str]:
        return {r["id"] for r in self.read_episodes()}


@dataclass(frozen=True)
class Run:
    """A run directory as the readers (summary, report, compare, export) see it."""

    dir: Path
    manifest: dict[str, Any]
    episodes: list[dict[str, Any]]

    @property
    def agents(self) -> list[str]:
        return sorted({e["agent"] for e in self.episodes})


def load_run(run_dir: str | Path) -> Run:
    """Manifest and finished episodes, each checked against its schema and format version."""
    store = RunStore(run_dir)
    return Run(store.dir, store.read_manifest(), store.read_episodes())
