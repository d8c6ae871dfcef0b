"""JSON Schemas for every file format, shipped as package data."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_NAMES = (
    "persona", "rubric", "exam", "runfile", "transcript", "episode", "manifest", "judge_answer",
    "judgement", "calibration",
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

    errors = sorted(validator(kind).iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        pointer = "/" + "/".join(map(str, errors[0].absolute_path))
        raise SpecError(where, errors[0].message, pointer=pointer, line=line)


@cache
def validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())
