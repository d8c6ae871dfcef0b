"""JSON Schemas for every file format, shipped as package data."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_NAMES = (
    "persona", "rubric", "exam", "runfile", "transcript", "episode", "manifest", "judge_answer",
    "judgement", "calibration", "summary", "compare", "leaderboard", "pack",
)  # fmt: skip


@cache
def load_schema(name: str) -> dict:
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _registry() -> Registry:
    resources_ = []
    for name in SCHEMA_NAMES:
        schema = load_schema(name)
        resource = Resource.from_contents(schema)
        # relative refs like "persona.schema.json#/$defs/behaviour" resolve against $id
        resources_.append((schema["$id"], resource))
    return Registry().with_resources(resources_)


def check_record(kind: str, record: object, where: str, line: int | None = None) -> None:
    """Raise a SpecError for the first schema error of a record (a JSONL line, a manifest)."""
    from harness.errors import SpecError

    check_format_version(kind, record, where, line)
    errors = sorted(validator(kind).iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        path = list(errors[0].absolute_path)
        pointer = "/" + "/".join(map(str, path)) if path else None
        raise SpecError(where, errors[0].message, pointer=pointer, line=line)


def known_versions(kind: str) -> list[int]:
    """The format versions of a kind this deesc reads (empty for formats with no version)."""
    prop = load_schema(kind).get("properties", {}).get("format_version", {})
    return list(prop.get("enum", [prop["const"]] if "const" in prop else []))


def check_format_version(kind: str, record: object, where: str, line: int | None = None) -> None:
    """A version this deesc does not know gets its own message: the file is not broken, it is
    newer (or older) than the reader."""
    from harness.errors import SpecError

    versions = known_versions(kind)
    if not versions or not isinstance(record, dict) or "format_version" not in record:
        return
    found = record["format_version"]
    if found not in versions:
        newer = isinstance(found, int) and found > max(versions)
        hint = "written by a newer deesc: upgrade deesc" if newer else "not a version deesc wrote"
        raise SpecError(
            where,
            f"{kind} format_version {found!r} cannot be read; this deesc reads "
            f"{', '.join(map(str, versions))} ({hint})",
            pointer="/format_version",
            line=line,
        )


@cache
def validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())
