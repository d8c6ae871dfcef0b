"""The package's shape: layers that import only downwards, no import cycles, shared leaves alone
at the top level, and every module importable on its own in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "harness"
# lowest first: a module may import its own layer and the layers before it
LAYERS = ("leaf", "personas", "engine", "agents", "appraisal", "sim", "judge", "results",
          "run", "exam", "cli")  # fmt: skip
LEAVES = {"__init__", "behaviours", "errors", "fileio", "records", "schemas", "seeds",
          "sentences", "sourcefile", "stats", "transcripts"}  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every harness module `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("harness")}
    return {m for m in found if m in known}


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in LEAVES:
        return "leaf"
    return parts[1]


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(path, set(mods)) - {name} for name, path in mods.items()}


def test_only_the_package_face_and_shared_leaves_sit_at_the_top() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }
    assert top - LEAVES <= set(LAYERS), (
        f"unexpected top-level modules: {sorted(top - LEAVES - set(LAYERS))}"
    )
    assert set(LAYERS) - {"leaf"} <= top


def test_layers_import_only_downwards() -> None:
    wrong = []
    for module, deps in graph().items():
        rank = LAYERS.index(layer(module))
        wrong += [f"{module} -> {d}" for d in sorted(deps) if LAYERS.index(layer(d)) > rank]
    assert not wrong, "imports that point up a layer:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    edges = {m: {d for d in deps if d != "harness"} for m, deps in graph().items()}
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == "open":
                cycles.append(" -> ".join([*path[path.index(dep) :], dep]))
            elif dep not in state:
                visit(dep, [*path, dep])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_every_module_imports_on_its_own() -> None:
    """Each in a fresh interpreter, so no module works only because another was imported first."""

    def load(name: str) -> tuple[str, str]:
        done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=ROOT,
                              capture_output=True, text=True)  # fmt: skip
        return name, "" if done.returncode == 0 else done.stderr.strip().splitlines()[-1]

    names = [m for m in modules() if not m.endswith("__main__")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = [f"{n}: {err}" for n, err in pool.map(load, names) if err]
    assert not failed, "\n".join(failed)
