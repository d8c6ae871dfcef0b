"""How often does the simulated customer stay in role, by prompt style?

Runs the core pack against the reference agents with each prompt style and counts, over the
customer lines the model sampled (openings and closings are not sampled), the share that were
in role on the first sample, and after one resample (the rest fall back to a plain line and are
recorded as simulator faults).

    python bench/customer_in_role.py [--model SPEC] [--repeats N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from harness.agents.base import AgentConfig
from harness.engine.registry import DEFAULT_MODEL, EnginePool, ModelOptions
from harness.run.runner import RunConfig, Runner


def measure(style: str, model: str, repeats: int, out: Path, pool: EnginePool) -> dict:
    config = RunConfig(
        personas=("personas/core",),
        agents=(AgentConfig(spec="ref:empathetic"), AgentConfig(spec="ref:dismissive")),
        customer_model=ModelOptions(spec=model),
        repeats=repeats,
        prompt_style=style,  # type: ignore[arg-type]
        out=str(out / style),
    )
    started = time.perf_counter()
    result = Runner(config, pool=pool, progress=False).run()
    sampled = [t for e in result.episodes for t in e["turns"] if t.get("samples")]
    first = sum(1 for t in sampled if t["samples"] == 1 and "fault" not in t)
    kept = sum(1 for t in sampled if "fault" not in t)
    return {
        "prompt_style": style,
        "sampled_lines": len(sampled),
        "in_role_first_sample": round(first / len(sampled), 3),
        "in_role_after_resample": round(kept / len(sampled), 3),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="deesc-in-role-"))
    pool = EnginePool()  # both styles share one loaded model
    rows = [
        measure(style, args.model, args.repeats, out, pool) for style in ("continuation", "chat")
    ]
    print(json.dumps({"model": args.model, "machine": platform.processor() or platform.machine(),
                      "date": time.strftime("%Y-%m-%d"), "results": rows}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
