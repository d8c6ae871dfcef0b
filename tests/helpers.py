"""Agents for tests, loaded as python:helpers:NAME (the tests folder is on sys.path)."""

from __future__ import annotations

import asyncio

# a different question each turn: a turn said again would anger the customer by itself
_QUESTIONS = (
    "I'm sorry. Could you tell me the invoice number?",
    "Thanks. Which date was the invoice sent?",
    "And what amount does it show at the bottom?",
    "Understood. Is the account in your own name?",
    "Right. Have you contacted us about this before?",
    "Okay. Which payment method did you use for it?",
    "I see. Did you get a confirmation email back then?",
    "Got it. When would be a good time to call you?",
)


async def slow_agent(turns: list[dict[str, str]]) -> str:
    await asyncio.sleep(0.15)
    return _QUESTIONS[sum(t["role"] == "agent" for t in turns) % len(_QUESTIONS)]


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
