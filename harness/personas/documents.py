"""What every persona, rubric, exam and pack file goes through: its JSON Schema check with a
message located in the file, the rules a schema cannot say (unique ids), and a content hash
that survives reformatting."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from harness.schemas import validator
from harness.sourcefile import SourceDocument


def _canonical_numbers(value: Any) -> Any:
    """9.0 and 9 are the same number, whichever way a file (or a typed table column) wrote it."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_numbers(v) for v in value]
    return value


def content_hash(data: Any) -> str:
    """Hash of the parsed content, so that reformatting a file (key order, quoting, 9 or 9.0)
    does not change it."""
    canonical = json.dumps(
        _canonical_numbers(data), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_schema(doc: SourceDocument, schema_name: str) -> None:
    """Raise the most specific schema error, located in the file."""
    errors = sorted(
        validator(schema_name).iter_errors(doc.data),
        key=lambda e: (-len(e.absolute_path), str(list(e.absolute_path))),
    )
    if errors:
        message, parts = _describe(errors[0])
        raise doc.error(message, parts)


def _describe(err: Any) -> tuple[str, list[str | int]]:
    """A reader's message for a schema error, and the path of the exact key it is about."""
    parts = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        unknown = sorted(k for k in err.instance if k not in allowed)
        if unknown and allowed:
            return f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})", [
                *parts,
                unknown[0],
            ]
    if "propertyNames" in err.schema_path:
        return f"unknown behaviour {err.instance!r}; see harness/behaviours.py", [
            *parts,
            err.instance,
        ]
    if err.validator == "enum":
        return f"{err.instance!r} is not one of: {', '.join(map(str, err.validator_value))}", parts
    return err.message, parts


def unique_ids(doc: SourceDocument, items: list[dict], path: list[str | int], what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise doc.error(f"duplicate {what} id {item['id']!r}", [*path, i, "id"])
        seen.add(item["id"])
