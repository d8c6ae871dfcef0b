"""Agents for tests, loaded as python:helpers:NAME (the tests folder is on sys.path)."""

from __future__ import annotations

import asyncio


async def slow_agent(turns: list[dict[str, str]]) -> str:
    await asyncio.sleep(0.15)
    return "I'm sorry. Could you tell me the invoice number?"


def escalating_agent(turns: list[dict[str, str]]) -> str:
    return "I'll transfer you to my supervisor now."


def broken_agent(turns: list[dict[str, str]]) -> str:
    raise ValueError("bot crashed")


def silent_agent(turns: list[dict[str, str]]) -> int:
    return 42
