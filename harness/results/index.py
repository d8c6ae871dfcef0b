"""An SQLite index of the runs under a folder, so that a leaderboard over hundreds of runs reads
only the runs that changed since it was last listed.

The schema grows by numbered migrations (`index_migrations/NNNN_*.sql`), applied in order
inside one transaction each; `PRAGMA user_version` holds the last one applied. An index
written by a newer deesc (a higher version than this one knows) is refused, not rewritten.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from harness.errors import DeescError
from harness.results.store import EPISODES, MANIFEST, load_run
from harness.results.summary import episode_metrics

log = logging.getLogger(__name__)
INDEX_NAME = ".deesc-index.sqlite"


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, SQL) of every packaged migration, in order."""
    folder = resources.files("harness.results") / "index_migrations"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.name, item.read_text("utf-8")))
    return sorted(found)


def latest_version() -> int:
    return max(number for number, _, _ in migrations())


def migrate(conn: sqlite3.Connection, where: str) -> int:
    """Bring the index to the latest schema; return how many migrations ran."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > latest_version():
        raise DeescError(
            f"{where}: index schema version {current} is newer than this deesc knows "
            f"({latest_version()}); upgrade deesc or delete the index file to rebuild it"
        )
    ran = 0
    for number, name, sql in migrations():
        if number <= current:
            continue
        try:
            # one transaction: a failed migration leaves the index as it was
            conn.executescript(f"BEGIN;\n{sql}\n;PRAGMA user_version = {number};\nCOMMIT;")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise DeescError(f"{where}: migration {name} failed: {exc}") from None
        ran += 1
    return ran


def run_dirs(root: Path) -> Iterator[Path]:
    """Every folder under root holding a manifest.json (hidden folders skipped)."""
    for manifest in sorted(root.rglob(MANIFEST)):
        if not any(part.startswith(".") for part in manifest.relative_to(root).parts[:-1]):
            yield manifest.parent


def signature(run_dir: Path) -> str:
    parts = []
    for name in (MANIFEST, EPISODES):
        try:
            st = (run_dir / name).stat()
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            parts.append("-")
    return "|".join(parts)


class RunIndex:
    def __init__(self, root: str | Path, path: str | Path | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DeescError(f"{self.root}: no such folder")
        self.path = Path(path) if path else self.root / INDEX_NAME
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA foreign_keys = ON")
        migrate(self.conn, str(self.path))

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RunIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self) -> dict[str, int]:
        """Re-read runs that are new or changed, drop runs that are gone. A run that cannot be
        read is skipped with a warning (the leaderboard lists the rest)."""
        known = dict(self.conn.execute("SELECT path, signature FROM runs").fetchall())
        seen: set[str] = set()
        counts = {"read": 0, "unchanged": 0, "removed": 0, "unreadable": 0}
        for run_dir in run_dirs(self.root):
            key = str(run_dir.relative_to(self.root))
            seen.add(key)
            sig = signature(run_dir)
            if known.get(key) == sig:
                counts["unchanged"] += 1
                continue
            try:
                self._store(key, run_dir, sig)
                counts["read"] += 1
            except DeescError as exc:
                log.warning("skipping %s: %s", run_dir, exc)
                self.conn.execute("DELETE FROM runs WHERE path = ?", (key,))
                counts["unreadable"] += 1
        for key in set(known) - seen:
            self.conn.execute("DELETE FROM runs WHERE path = ?", (key,))
            counts["removed"] += 1
        return counts

    def _store(self, key: str, run_dir: Path, sig: str) -> None:
        run = load_run(run_dir)
        m = run.manifest
        rubric = m.get("rubric") or {}
        rows = []
        for e in run.episodes:
            x = episode_metrics(e)
            rows.append(
                (key, e["agent"], e["persona_id"], e["repeat"], x["composite"], x["passed"],
                 x["resolved"], x["hung_up"], x["escalated"], x["anger_drop"], x["turns"])
            )  # fmt: skip
        self.conn.execute("BEGIN")
        try:
            self.conn.execute("DELETE FROM runs WHERE path = ?", (key,))
            self.conn.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, m["run_id"], sig, m["started"], m["finished"], m["config"].get("judge"),
                 rubric.get("id"), rubric.get("version"), rubric.get("sha256"),
                 m["personas_hash"]),
            )  # fmt: skip
            self.conn.executemany(
                "INSERT INTO episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
            self.conn.execute("COMMIT")
        except sqlite3.IntegrityError:
            self.conn.execute("ROLLBACK")
            raise DeescError(f"{run_dir}: an episode appears twice in {EPISODES}") from None
        except sqlite3.Error:
            self.conn.execute("ROLLBACK")
            raise
