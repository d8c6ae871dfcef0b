"""The exam server's tables (SQLAlchemy Core): candidates and their codes, sessions, attempts
and conversations, and the server's own signing key. Everything a candidate has done is a row, written as it happens, so a
restarted server continues where each candidate was. SQLite by default; any SQLAlchemy URL
(PostgreSQL for a team) works."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from harness.errors import DeescError

metadata = MetaData()
# times are naive UTC (`utcnow`): SQLite drops time zones, so both databases store the same


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


candidates = Table(
    "candidates", metadata,
    Column("id", Integer, primary_key=True),
    Column("exam_id", String(100), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),  # the code itself is shown once
    Column("code_hint", String(8), nullable=False),  # last characters, for the trainer's list
    Column("label", String(100), nullable=False),
    Column("created_at", DateTime(), nullable=False),
)  # fmt: skip

sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("role", String(10), nullable=False),  # trainer | candidate
    Column("candidate_id", Integer, ForeignKey("candidates.id", ondelete="CASCADE")),
    Column("created_at", DateTime(), nullable=False),
)  # fmt: skip

attempts = Table(
    "attempts", metadata,
    Column("id", Integer, primary_key=True),
    Column("candidate_id", Integer, ForeignKey("candidates.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("started_at", DateTime(), nullable=False),
    Column("finished_at", DateTime()),
    Column("composite", Float),
    Column("passed", Boolean),
    UniqueConstraint("candidate_id", "number"),
)  # fmt: skip

conversations = Table(
    "conversations", metadata,
    Column("id", Integer, primary_key=True),
    Column("attempt_id", Integer, ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # order in the exam
    Column("persona_id", String(100), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("started_at", DateTime()),
    Column("deadline", DateTime()),
    Column("finished_at", DateTime()),
    Column("end_reason", String(20)),
    Column("turns", JSON, nullable=False),
    Column("record", JSON),  # the judged episode
    Column("composite", Float),
    Column("passed", Boolean),
    UniqueConstraint("attempt_id", "position"),
)  # fmt: skip


server_keys = Table(
    "server_keys", metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(128), nullable=False),
)  # fmt: skip


def server_key(engine: Engine, name: str) -> bytes:
    """A random secret of this server's, made on first use and kept in the database, so that
    what it signs (the CSRF tokens in open pages) survives a restart and is shared by every
    process on the same database."""
    query = select(server_keys.c.value).where(server_keys.c.name == name)
    with engine.connect() as c:
        row = c.execute(query).first()
    if row is None:
        try:
            with engine.begin() as c:
                c.execute(insert(server_keys).values(name=name, value=secrets.token_hex(32)))
        except IntegrityError:  # another process made it first: theirs counts
            pass
        with engine.connect() as c:
            row = c.execute(query).one()
    return bytes.fromhex(row.value)


def open_database(url: str) -> Engine:
    """Connect and create the tables that are missing."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # a malformed URL or a missing driver
        raise DeescError(f"--db {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        metadata.create_all(engine)
    except Exception as exc:
        raise DeescError(f"--db {engine.url.render_as_string(hide_password=True)}: {exc}") from None
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
