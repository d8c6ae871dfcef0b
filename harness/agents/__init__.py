"""Agents under test: reference agents, model bots, HTTP webhooks, Python callables."""

from harness.agents.base import Agent, AgentConfig, AgentContext, AgentError, AgentView, open_agent

__all__ = ["Agent", "AgentConfig", "AgentContext", "AgentError", "AgentView", "open_agent"]
