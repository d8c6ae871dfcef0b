"""The demo's run on each CPU path of the offline model, with the same seed: time, and whether
the simulator is as good a simulator (quality is not traded for speed unseen).

    .venv/bin/python bench/cpu_paths.py [--paths none:2,fp16:1] [--repeats 1] [--out DIR]

Each path is `quantize:threads` (`none:2` is float32 on 2 threads, the engine before issue 19;
`fp16:1` the CPU default on 2 cores). Every path runs what `make demo` runs: the core pack
against `ref:empathetic`, `ref:dismissive` and the packaged model bot, seed 0, classifier
appraisal, behaviour judge; the model plays both customer and bot. Per path it prints the wall
and model time and:
  - customer fidelity: the share of sampled customer lines in role on the first sample and
    after one resample (as bench/customer_in_role.py counts them), and simulator faults;
  - separation: personas on which the good reference agent ends calmer than the bad one, the
    mean final anger and composite of each agent;
  - how many customer lines are word for word those of the first path.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from statistics import mean

from harness.agents.base import AgentConfig
from harness.engine.registry import DEFAULT_MODEL, EnginePool, ModelOptions
from harness.run.runner import RunConfig, Runner

AGENTS = ("ref:empathetic", "ref:dismissive", f"model:{DEFAULT_MODEL}")


def run_path(quantize: str, threads: int, repeats: int, out: Path) -> dict:
    options = ModelOptions(quantize=quantize, threads=threads)
    config = RunConfig(
        personas=("pack:core",),
        agents=tuple(AgentConfig(spec=a) for a in AGENTS),
        customer_model=options,
        model_options={DEFAULT_MODEL: options},
        repeats=repeats,
        out=str(out / f"{quantize}-{threads}"),
    )
    started = time.perf_counter()
    result = Runner(config, pool=EnginePool(), progress=False).run()
    wall = time.perf_counter() - started
    episodes = result.episodes
    sampled = [t for e in episodes for t in e["turns"] if t.get("samples")]
    final = {
        (e["agent"], e["persona_id"], e["repeat"]): e["outcome"]["anger_end"] for e in episodes
    }
    personas = sorted({e["persona_id"] for e in episodes})
    separated = sum(
        1
        for p in personas
        if mean(v for (a, q, _), v in final.items() if a == AGENTS[0] and q == p)
        < mean(v for (a, q, _), v in final.items() if a == AGENTS[1] and q == p)
    )
    engine = next(iter(result.engines.values()))
    return {
        "path": f"quantize={quantize}, threads={threads}",
        "wall_s": round(wall, 1),
        "model_s": engine.get("model_seconds"),
        "requests": engine.get("requests"),
        "sampled_lines": len(sampled),
        "in_role_first_sample": round(
            sum(1 for t in sampled if t["samples"] == 1 and "fault" not in t) / len(sampled), 3
        ),
        "in_role_after_resample": round(
            sum(1 for t in sampled if "fault" not in t) / len(sampled), 3
        ),
        "simulator_faults": sum(e["outcome"].get("simulator_faults", 0) for e in episodes),
        "separated_personas": f"{separated}/{len(personas)}",
        "final_anger": {
            a: round(mean(v for (x, _, _), v in final.items() if x == a), 2) for a in AGENTS
        },
        "composite": {
            a: round(mean(e["composite"] for e in episodes if e["agent"] == a), 1) for a in AGENTS
        },
        "customer_lines": {
            (e["agent"], e["persona_id"], e["repeat"], i): t["text"]
            for e in episodes
            for i, t in enumerate(e["turns"])
            if t.get("samples")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default="none:2,fp16:1")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="deesc-cpu-paths-"))
    rows = []
    for path in args.paths.split(","):
        quantize, threads = path.split(":")
        rows.append(run_path(quantize, int(threads), args.repeats, out))
        print(f"{path} done in {rows[-1]['wall_s']} s (load {os.getloadavg()[0]:.1f})", flush=True)
    first = rows[0].pop("customer_lines")
    for row in rows[1:]:
        lines = row.pop("customer_lines")
        same = sum(1 for k, v in lines.items() if first.get(k) == v)
        row["customer_lines_equal_to_first_path"] = f"{same}/{len(lines)}"
    print(json.dumps({"machine": f"{platform.machine()} {platform.processor()}".strip(),
                      "cores": len(os.sched_getaffinity(0)), "date": time.strftime("%Y-%m-%d"),
                      "results": rows}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
