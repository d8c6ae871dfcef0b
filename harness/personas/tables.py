"""Persona packs kept as tables: a parquet file or a Hugging Face `datasets` folder (from
`save_to_disk`), one persona per row. Columns are the persona's top-level keys, nested as in
YAML; or a single `persona` column holding each persona as JSON text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import SpecError
from harness.sourcefile import SourceDocument

DATASET_MARKERS = ("dataset_info.json", "state.json")


def is_persona_table(path: Path) -> bool:
    return (path.is_file() and path.suffix == ".parquet") or (
        path.is_dir() and all((path / m).exists() for m in DATASET_MARKERS)
    )


def _without_nulls(value: Any) -> Any:
    """Arrow gives every row every key of every other row (null where it had none); a persona
    file has no nulls, so a null is a key the row never had."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _rows(path: Path) -> list[dict[str, Any]]:
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        import datasets

        return datasets.load_from_disk(str(path)).to_list()
    except Exception as exc:  # pyarrow and datasets raise many kinds for a bad file
        raise SpecError(path, f"cannot read persona table: {exc}") from None


def persona_documents(path: Path) -> list[SourceDocument]:
    """One document per row, named `FILE row N` (1-based) so errors point at the row."""
    documents = []
    for number, row in enumerate(_rows(path), start=1):
        where = Path(f"{path} row {number}")
        if set(row) == {"persona"}:
            try:
                data = json.loads(row["persona"])
            except (TypeError, json.JSONDecodeError) as exc:
                raise SpecError(where, f"column 'persona' is not JSON: {exc}") from None
        else:
            data = _without_nulls(row)
        documents.append(SourceDocument(where, data, None))
    if not documents:
        raise SpecError(path, "persona table has no rows")
    return documents
