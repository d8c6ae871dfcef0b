"""`deesc export`: a run's episodes as a table, one row per episode with flattened scores, as
parquet, JSON lines or a Hugging Face `datasets` folder (`datasets.load_from_disk` opens it).

Columns: identity (run, agent, persona, repeat, seed), outcome, verdict, `score_<criterion>`
and `confidence_<criterion>` for every criterion of the run (null where it did not apply),
`part_<name>` for the composite's parts, the transcript (role, text, anger per turn), and
`episode_json`, the whole episode as written, so that nothing is lost on the way."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from harness.errors import DeescError
from harness.fileio import atomic_write_bytes, atomic_write_text
from harness.results.store import Run

Format = Literal["parquet", "jsonl", "datasets"]
FORMATS: tuple[Format, ...] = ("parquet", "jsonl", "datasets")

_TURN = pa.struct([("role", pa.string()), ("text", pa.string()), ("anger", pa.float64())])
_FIXED: list[tuple[str, pa.DataType]] = [
    ("run_id", pa.string()), ("episode_id", pa.string()), ("agent", pa.string()),
    ("persona_id", pa.string()), ("repeat", pa.int64()), ("seed", pa.int64()),
    ("format_version", pa.int64()), ("end_reason", pa.string()), ("anger_start", pa.float64()),
    ("anger_end", pa.float64()), ("anger_peak", pa.float64()), ("resolved", pa.bool_()),
    ("hung_up", pa.bool_()), ("escalated", pa.bool_()), ("turns", pa.int64()),
    ("simulator_faults", pa.int64()), ("judge", pa.string()), ("rubric_id", pa.string()),
    ("rubric_version", pa.string()), ("rubric_sha256", pa.string()),
    ("composite", pa.float64()), ("passed", pa.bool_()),
    ("critical_failures", pa.list_(pa.string())),
]  # fmt: skip


def _names(run: Run) -> tuple[list[str], list[str]]:
    criteria = sorted({c for e in run.episodes for c in e.get("scores") or {}})
    parts = sorted({p for e in run.episodes for p in e.get("parts") or {}})
    return criteria, parts


def schema(criteria: list[str], parts: list[str]) -> pa.Schema:
    fields = [pa.field(n, t) for n, t in _FIXED]
    for c in criteria:
        fields += [pa.field(f"score_{c}", pa.float64()), pa.field(f"confidence_{c}", pa.float64())]
    fields += [pa.field(f"part_{p}", pa.float64()) for p in parts]
    fields += [pa.field("transcript", pa.list_(_TURN)), pa.field("episode_json", pa.string())]
    return pa.schema(fields)


def episode_row(
    run: Run, episode: dict[str, Any], criteria: list[str], parts: list[str]
) -> dict[str, Any]:
    outcome, rubric = episode["outcome"], episode.get("rubric") or {}
    scores = episode.get("scores") or {}
    row: dict[str, Any] = {
        "run_id": run.manifest["run_id"], "episode_id": episode["id"], "agent": episode["agent"],
        "persona_id": episode["persona_id"], "repeat": episode["repeat"], "seed": episode["seed"],
        "format_version": episode["format_version"], "end_reason": episode["end_reason"],
        "anger_start": outcome["anger_start"], "anger_end": outcome["anger_end"],
        "anger_peak": outcome["anger_peak"], "resolved": outcome["resolved"],
        "hung_up": outcome["hung_up"], "escalated": outcome["escalated"],
        "turns": outcome["turns"], "simulator_faults": outcome.get("simulator_faults", 0),
        "judge": episode.get("judge"), "rubric_id": rubric.get("id"),
        "rubric_version": rubric.get("version"), "rubric_sha256": rubric.get("sha256"),
        "composite": episode.get("composite"), "passed": episode.get("passed"),
        "critical_failures": episode.get("critical_failures"),
    }  # fmt: skip
    for c in criteria:
        score = scores.get(c) or {}
        row[f"score_{c}"] = score.get("value")
        row[f"confidence_{c}"] = score.get("confidence")
    for p in parts:
        row[f"part_{p}"] = (episode.get("parts") or {}).get(p)
    row["transcript"] = [
        {"role": t["role"], "text": t["text"], "anger": t["state"]["anger"]}
        for t in episode["turns"]
    ]
    row["episode_json"] = json.dumps(episode, ensure_ascii=False, sort_keys=True)
    return row


def episode_table(run: Run) -> pa.Table:
    criteria, parts = _names(run)
    rows = [episode_row(run, e, criteria, parts) for e in run.episodes]
    return pa.Table.from_pylist(rows, schema=schema(criteria, parts))


def export_run(run: Run, fmt: Format, out: str | Path) -> Path:
    """Write the table; the target appears whole or not at all (written beside it, then renamed)."""
    out = Path(out)
    if not run.episodes:
        raise DeescError(f"{run.dir}: no finished episodes to export")
    table = episode_table(run)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        lines = (json.dumps(r, ensure_ascii=False) for r in table.to_pylist())
        atomic_write_text(out, "".join(line + "\n" for line in lines))
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        buffer = pa.BufferOutputStream()
        pq.write_table(table, buffer)
        atomic_write_bytes(out, buffer.getvalue().to_pybytes())
    elif fmt == "datasets":
        import datasets

        datasets.disable_progress_bars()
        tmp_dir = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
        try:
            datasets.Dataset(table).save_to_disk(str(tmp_dir / "data"))
            if out.exists():
                shutil.rmtree(out) if out.is_dir() else out.unlink()
            (tmp_dir / "data").replace(out)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    else:
        raise DeescError(f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})")
    return out
