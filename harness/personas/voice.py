"""A persona's text fields said by each side in its own voice.

An offer's `description` is written once, as what the agent would do, following "I can" and
speaking to the customer as "you" ("rebook you on a partner airline's flight"). The agent's
side says it as it stands; the customer's side says it back about themselves, with you/your
turned into me/my ("if you can rebook me on ..."). A hidden fact is asked for with its
`question`, or a question built from its first `asked_by` phrase.
"""

from __future__ import annotations

import re

from harness.personas.persona import HiddenFact, Offer

_SECOND_PERSON = {"you": "me", "your": "my", "yours": "mine", "yourself": "myself"}
_DETERMINER = re.compile(r"^(the|your|my|a|an|which|what|when|where|how|who|whether|if)\b", re.I)


def agent_offer(offer: Offer) -> str:
    """The offer as the agent says it after "I can"."""
    return offer.description.strip().rstrip(".")


def customer_offer(offer: Offer) -> str:
    """The offer as the customer says it after "if you can": the customer speaks of "me"."""
    return re.sub(
        r"\b(you|your|yours|yourself)\b",
        lambda m: _match_case(_SECOND_PERSON[m.group(1).lower()], m.group(1)),
        agent_offer(offer),
        flags=re.I,
    )


def agent_question(fact: HiddenFact) -> str:
    """How an agent asks for the fact: its own `question`, else one from its first hint."""
    if fact.question:
        return fact.question.strip()
    topic = fact.asked_by[0] if fact.asked_by else "the details"
    if not _DETERMINER.match(topic):
        topic = f"the {topic}"
    return f"Could you tell me {topic}?"


def _match_case(word: str, like: str) -> str:
    return word.capitalize() if like[:1].isupper() else word
