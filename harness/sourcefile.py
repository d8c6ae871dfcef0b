"""Reading YAML and JSON files with enough position information to point at an error.

YAML is parsed twice: once to data, once to a node tree whose marks give the line of any
JSON pointer, so a schema error can say `personas/x.yaml:12 at /temperament/patience`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from harness.errors import SpecError


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class SourceDocument:
    """Parsed data plus a way to find the line of a JSON pointer in the original text."""

    def __init__(self, path: Path, data: Any, root: yaml.Node | None) -> None:
        self.path = path
        self.data = data
        self._root = root

    def line_of(self, parts: list[str | int]) -> int | None:
        node = self._root
        line = None if node is None else node.start_mark.line + 1
        for part in parts:
            if isinstance(node, yaml.MappingNode):
                match = next((v for k, v in node.value if k.value == str(part)), None)
                if match is None:
                    # the key is missing: its parent is the most precise place to point at
                    return line
                # point at the key's line, which is where a reader looks
                key_node = next(k for k, v in node.value if v is match)
                line = key_node.start_mark.line + 1
                node = match
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return line
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line

    def error(self, message: str, parts: list[str | int] | None = None) -> SpecError:
        parts = parts or []
        pointer = "/" + "/".join(str(p) for p in parts) if parts else None
        return SpecError(self.path, message, pointer=pointer, line=self.line_of(parts))


def read_document(path: str | Path) -> SourceDocument:
    """Read a YAML or JSON file; a syntax error becomes a SpecError with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            path, f"not a text file: byte {exc.start} is not UTF-8; save it as UTF-8 text"
        ) from None
    except IsADirectoryError:
        raise SpecError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise SpecError(path, f"cannot read file: {exc.strerror or exc}") from None
    if "\x00" in text:
        raise SpecError(path, "not a text file (it holds NUL bytes): give a YAML or JSON file")
    if not text.strip():
        raise SpecError(path, "the file is empty: write a YAML mapping here (`deesc persona new`"
                        " writes a starting persona)", line=1)  # fmt: skip
    if path.suffix == ".json":
        try:
            return SourceDocument(path, json.loads(text), None)
        except json.JSONDecodeError as exc:
            raise SpecError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(path, f"invalid YAML: {exc.problem or exc}", line=line) from None
    if data is None:
        raise SpecError(path, "the file holds only comments or blank lines: no data", line=1)
    return SourceDocument(path, data, root)
