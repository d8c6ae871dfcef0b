-- One row per run directory, with what tells whether it changed since it was indexed.
CREATE TABLE runs (
    path            TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL,
    signature       TEXT NOT NULL,   -- size and mtime of manifest.json and episodes.jsonl
    started         TEXT,
    finished        TEXT,
    judge           TEXT,
    rubric_id       TEXT,
    rubric_version  TEXT,
    rubric_sha256   TEXT,
    personas_hash   TEXT NOT NULL
);

-- What the leaderboard averages, one row per finished episode.
CREATE TABLE episodes (
    run_path    TEXT NOT NULL REFERENCES runs(path) ON DELETE CASCADE,
    agent       TEXT NOT NULL,
    persona_id  TEXT NOT NULL,
    repeat      INTEGER NOT NULL,
    composite   REAL,
    passed      INTEGER,
    resolved    INTEGER NOT NULL,
    hung_up     INTEGER NOT NULL,
    escalated   INTEGER NOT NULL,
    anger_drop  REAL NOT NULL,
    turns       INTEGER NOT NULL,
    PRIMARY KEY (run_path, agent, persona_id, repeat)
);
