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


_COIN_REPLIES = (
    "I'm sorry this happened. Could you tell me the account number so I can fix it today?",
    "That's our policy.",
    "I understand how frustrating this is. I can refund it now, or credit your next bill.",
    "Please hold.",
)


def coin_agent(turns: list[dict[str, str]]) -> str:
    """An agent of random quality: the reply is picked by a hash of the conversation so far, so
    episodes that open differently get different care (noise, with no better or worse version)."""
    import hashlib

    digest = hashlib.sha256("\n".join(t["text"] for t in turns).encode()).digest()
    return _COIN_REPLIES[digest[0] % len(_COIN_REPLIES)]
