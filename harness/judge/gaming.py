"""Attempts to pass on phrases alone, as agents (`python:harness.judge.gaming:NAME`): none may
pass a shipped exam. `bench/gaming.py` runs them against the exam personas beside `ref:careful`
(which listens and helps, and should pass where it resolves the customer); a test does the same
with the scripted customer.

- `tip_stuffing`: one paragraph built from the rubric's tips, sent every turn;
- `one_paragraph`: one all-purpose paragraph for every customer, every turn;
- `empathy_without_help`: warm words and apologies, nothing asked, nothing offered;
- `kitchen_sink`: every remedy there is, offered at once, every turn;
- `question_spam`: acknowledges and asks question after question, never offers anything.
"""

from __future__ import annotations

TIP_PARAGRAPH = (
    "I'm so sorry, and I completely understand how frustrating this is; you're right to be upset. "
    "So you were charged twice and your account is now overdrawn; is that right? I'll sort this "
    "out myself. Could you tell me the order number on the receipt? Here's what I can do today: "
    "I can refund it now, or credit it to your next bill. Which do you prefer? The refund will "
    "show in 3 to 5 working days; you'll get an email when it's sent. I want to fix this with "
    "you, and I need us to keep it respectful. Does that solve it for you? Is there anything "
    "else I can do today? Thank you for your patience."
)
ALL_PURPOSE = (
    "I'm really sorry about this, and I understand how frustrating it must be. I'll take care of "
    "it personally. Could you give me your account number? I can offer you a refund or a "
    "replacement, whichever you prefer. You'll get a confirmation email within 24 hours. Is "
    "there anything else I can help with? Thank you for your patience."
)
KITCHEN_SINK = (
    "I'm sorry. I'll refund you in full, send a free replacement by express delivery, credit "
    "your account, book an engineer for today, send you a backup device, waive every fee, give "
    "you a $100 voucher, unlock your account and put my manager on it, all of it today."
)
_WARM = (
    "I'm so sorry to hear that, and I completely understand how frustrating it must be.",
    "Thank you so much for your patience; I really appreciate you telling me.",
    "I hear you, and your feelings are completely valid. I'm sorry again.",
)
_QUESTIONS = (
    "I see. Could you tell me your account number? And when did this start? What does it say?",
    "Thanks. Which product is it? Have you tried it again since? What exactly happened then?",
    "Understood. Is that the only issue? When did you first notice? Who did you speak to before?",
)


def _agent_turns(turns: list[dict[str, str]]) -> int:
    return sum(1 for t in turns if t["role"] == "agent")


def tip_stuffing(turns: list[dict[str, str]]) -> str:
    return TIP_PARAGRAPH


def one_paragraph(turns: list[dict[str, str]]) -> str:
    return ALL_PURPOSE


def empathy_without_help(turns: list[dict[str, str]]) -> str:
    return _WARM[_agent_turns(turns) % len(_WARM)]


def kitchen_sink(turns: list[dict[str, str]]) -> str:
    return KITCHEN_SINK


def question_spam(turns: list[dict[str, str]]) -> str:
    return _QUESTIONS[_agent_turns(turns) % len(_QUESTIONS)]


ATTEMPTS = (
    "tip_stuffing",
    "one_paragraph",
    "empathy_without_help",
    "kitchen_sink",
    "question_spam",
)
