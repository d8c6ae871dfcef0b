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
        if (meant := _split_text(doc.data, parts)) is not None:
            message += f"; did you mean {meant!r}?"
        raise doc.error(message, parts)


def _split_text(data: Any, parts: list[str | int]) -> str | None:
    """The text a comma split in two, when a number follows a string in a list: "refund the
    $89" and 99 were written as `[refund the $89,99]`."""
    if not parts or not isinstance(parts[-1], int) or parts[-1] == 0:
        return None
    parent = data
    for part in parts[:-1]:
        parent = parent[part]
    before, value = parent[parts[-1] - 1], parent[parts[-1]]
    if isinstance(before, str) and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{before},{value}"
    return None


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
    if err.validator == "type" and err.validator_value == "string":
        return _not_a_string(err.instance), parts
    return err.message, parts


def _not_a_string(value: Any) -> str:
    """The traps of unquoted YAML text, named: what was meant as one string became another
    type because of a comma, a colon, or a word YAML reads as true or false."""
    if isinstance(value, bool):
        return (f"{value!r} is a true/false value, not text: quote it (YAML reads unquoted yes, "
                "no, on, off, true and false as booleans)")  # fmt: skip
    if isinstance(value, int | float):
        return (f"{value!r} is a number, not text: quote it (in a [flow, list] YAML splits "
                "unquoted text at each comma)")  # fmt: skip
    if isinstance(value, dict):
        return (f"{value!r} is a mapping, not text: quote it (YAML split your text at a colon "
                "followed by a space)")  # fmt: skip
    if isinstance(value, list):
        return f"{value!r} is a list, not text: quote it, or give one string"
    return f"{value!r} is not text: quote it"


def unique_ids(doc: SourceDocument, items: list[dict], path: list[str | int], what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item["id"] in seen:
            raise doc.error(f"duplicate {what} id {item['id']!r}", [*path, i, "id"])
        seen.add(item["id"])
