"""What an agent under test is, what it sees, and how agents are found by spec.

An agent sees the conversation and the company and product the customer wrote about, never the
persona file. Only reference agents, which exist to calibrate the harness, are handed the
persona (`needs_persona`), because being good or bad on purpose needs to know what was asked.
Agents register in the `deesc.agents` entry-point group under their spec prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from harness.engine.registry import EnginePool, ModelOptions
from harness.errors import DeescError
from harness.personas.persona import Persona
from harness.transcripts import count_agent_turns, last_text

AGENT_GROUP = "deesc.agents"


class AgentError(Exception):
    """The agent gave no usable reply (timeout, bad response); recorded in the transcript."""


@dataclass(frozen=True)
class AgentView:
    episode_id: str
    seed: int
    company: str
    product: str
    turns: tuple[dict[str, str], ...]
    persona: Persona | None = None  # reference agents only

    @property
    def last_customer_text(self) -> str:
        return last_text(self.turns, "customer")

    def agent_turns_so_far(self) -> int:
        return count_agent_turns(self.turns)


class Agent(Protocol):
    name: str
    needs_persona: bool

    async def respond(self, view: AgentView) -> str: ...


@dataclass(frozen=True)
class AgentConfig:
    """One agent of a run: its spec and options (from the command line or a run file)."""

    spec: str
    name: str | None = None
    system_prompt: str | None = None
    timeout_s: float = 30.0
    model: dict[str, Any] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        return self.name or self.spec

    def as_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "name": self.display_name,
            "system_prompt": self.system_prompt,
            "timeout_s": self.timeout_s,
            "model": dict(self.model),
        }


@dataclass
class AgentContext:
    """What a factory may use: the run's shared engines and the options of models it names."""

    pool: EnginePool
    model_options: dict[str, ModelOptions] = field(default_factory=dict)

    def options_for(self, spec: str, overrides: dict[str, Any] | None = None) -> ModelOptions:
        base = self.model_options.get(spec, ModelOptions(spec=spec))
        return ModelOptions.from_config({**base.as_dict(), **(overrides or {}), "spec": spec})


def open_agent(config: AgentConfig, context: AgentContext) -> Agent:
    prefix, sep, target = config.spec.partition(":")
    factories = {ep.name: ep for ep in entry_points(group=AGENT_GROUP)}
    if not sep or prefix not in factories:
        raise DeescError(
            f"agent spec {config.spec!r} must be one of "
            + ", ".join(f"{name}:..." for name in sorted(factories))
        )
    return factories[prefix].load()(target, config, context)


def read_prompt_file(path: str | None, default: str) -> str:
    if path is None:
        from importlib import resources

        return resources.files("harness.agents").joinpath(f"prompts/{default}").read_text("utf-8")
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DeescError(f"{path}: cannot read system prompt: {exc}") from None
