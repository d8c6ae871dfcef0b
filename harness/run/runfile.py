"""`deesc run RUNFILE.yaml`: the same options as the command line, with structured model options."""

from __future__ import annotations

from pathlib import Path

from harness.agents.base import AgentConfig
from harness.engine.registry import ModelOptions
from harness.personas.builtin import looks_like_a_name
from harness.personas.documents import check_schema
from harness.run.runner import RunConfig
from harness.sourcefile import read_document


def _relative(base: Path, value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else base / path)


def load_runfile(path: str | Path) -> RunConfig:
    doc = read_document(path)
    check_schema(doc, "runfile")
    d, base = doc.data, Path(path).parent
    personas = d["personas"] if isinstance(d["personas"], list) else [d["personas"]]
    agents = []
    for a in d["agents"]:
        prompt = a.get("system_prompt")
        agents.append(
            AgentConfig(
                spec=a["spec"],
                name=a.get("name"),
                system_prompt=_relative(base, prompt) if prompt else None,
                timeout_s=float(a.get("timeout_s", 30.0)),
                model=dict(a.get("model", {})),
            )
        )
    models = {
        spec: ModelOptions.from_config({**opts, "spec": spec})
        for spec, opts in d.get("models", {}).items()
    }
    # what the file leaves out keeps RunConfig's defaults: one place for each default
    optional = {
        k: d[k]
        for k in (
            "repeats",
            "seed",
            "concurrency",
            "max_turns",
            "appraisal",
            "judge",
            "customer_candidates",
        )
        if k in d
    }
    if "out" in d:
        optional["out"] = _relative(base, d["out"])
    if "rubric" in d:  # a shipped rubric's id stays a name
        rubric = d["rubric"]
        optional["rubric"] = rubric if looks_like_a_name(rubric) else _relative(base, rubric)
    if "customer_model" in d:
        optional["customer_model"] = ModelOptions.from_config(d["customer_model"])
    return RunConfig(
        personas=tuple(_relative(base, p) for p in personas),
        agents=tuple(agents),
        model_options=models,
        **optional,
    )
