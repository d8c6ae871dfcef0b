"""`python:<module>:<callable>`: an agent written as a Python function.

The callable takes the turns (a list of {"role", "text"} dicts) and returns the reply, or an
awaitable of it. An exception it raises is recorded as an agent error.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from harness.agents.base import Agent, AgentConfig, AgentContext, AgentError, AgentView
from harness.errors import DeescError


class PythonAgent:
    needs_persona = False

    def __init__(self, name: str, func: Callable[[list[dict[str, str]]], Any]) -> None:
        self.name = name
        self.func = func

    async def respond(self, view: AgentView) -> str:
        try:
            reply = self.func([dict(t) for t in view.turns])
            if inspect.isawaitable(reply):
                reply = await reply
        except Exception as exc:
            raise AgentError(f"{type(exc).__name__}: {exc}") from None
        if not isinstance(reply, str):
            raise AgentError(f"returned {type(reply).__name__}, not a string")
        return reply


def build_python_agent(target: str, config: AgentConfig, context: AgentContext) -> Agent:
    module_name, sep, attr = target.rpartition(":")
    if not sep or not module_name:
        raise DeescError(f"python agent spec {config.spec!r} must be python:<module>:<callable>")
    try:
        func = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise DeescError(f"{config.spec}: cannot load {module_name}:{attr}: {exc}") from None
    if not callable(func):
        raise DeescError(f"{config.spec}: {attr} is not callable")
    return PythonAgent(config.display_name, func)
