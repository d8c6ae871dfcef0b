"""When a conversation gives the agent occasion for a criterion, and whether the customer was
helped. A criterion without occasion is not applicable (unscored: "no occasion"), not a
middling score: boundaries where nobody was abusive, escalation nobody needed, expectations
when nothing was offered. Read from the turns, the appraisals and, for simulated episodes,
the persona and the outcome."""

from __future__ import annotations

import re
from collections.abc import Iterable

from harness.appraisal.base import Appraisal
from harness.judge.base import Conversation

# what a customer says when abusing the agent (not when describing a bad service)
_ABUSE = re.compile(
    r"\b(idiots?|stupid|morons?|incompetent|pathetic|useless (people|lot|idiots?|company)|clowns?|"
    r"liars?|thieves|scam(mers)?|shut up|bloody|damn|hell|crap|shit|f+u+c+k\w*|screw you|"
    r"joke of a|garbage)\b",
    re.IGNORECASE,
)
_SENIOR = re.compile(
    r"\b(manager|supervisor|someone (senior|in charge|else)|your boss|escalate|complaints? "
    r"(team|department)|head office)\b",
    re.IGNORECASE,
)
SOLUTIONS = frozenset({"offer_solution", "offer_choices", "explain_policy_with_alternative"})
LIMITS = frozenset({"explain_policy_with_alternative", "refuse_without_alternative"})
ESCALATIONS = frozenset({"escalate_to_supervisor", "unnecessary_transfer_or_hold"})
HELP = SOLUTIONS | {"escalate_to_supervisor", "set_expectation"}


def _shown(appraisals: Iterable[tuple[int, Appraisal]]) -> set[str]:
    return {b for _, a in appraisals for b in a.behaviours}


def _customer_text(conversation: Conversation) -> list[str]:
    return [t["text"] for t in conversation.turns if t["role"] == "customer"]


def occasions(
    conversation: Conversation, appraisals: list[tuple[int, Appraisal]]
) -> dict[str, bool]:
    """Each occasion of the rubric schema: did this conversation give it?"""
    shown = _shown(appraisals)
    persona = conversation.persona
    offer_turns = [
        turn for turn, a in appraisals
        if set(a.behaviours) & SOLUTIONS or a.offers.offers or a.offers.partial_offers
    ]  # fmt: skip
    last = max((turn for turn, _ in appraisals), default=0)
    outcome = conversation.outcome or {}
    # what happens next, and whether it worked, wait until after an offer: a customer who took
    # the first offer at once left no occasion to follow it up
    followed = any(turn < last for turn in offer_turns) or bool(
        offer_turns and outcome and not outcome.get("resolved")
    )
    conceded = any(a.offers.concessions for _, a in appraisals)
    customer = _customer_text(conversation)
    return {
        "always": True,
        # a persona says which facts only a question brings out; a transcript may need any
        "details_needed": bool(persona.hidden_facts) if persona else True,
        "solution_offered": followed,
        "limit_arises": bool(shown & LIMITS)
        or conceded
        or bool(persona and persona.unacceptable_demands),
        "customer_abusive": any(_ABUSE.search(t) for t in customer),
        "escalation_arises": bool(shown & ESCALATIONS) or any(_SENIOR.search(t) for t in customer),
    }


def helped(
    conversation: Conversation,
    appraisals: list[tuple[int, Appraisal]],
    escalation_applies: bool,
) -> bool:
    """Whether the customer was helped: in a simulation, resolved, or escalated where escalation
    is right for them; in a transcript (no outcome), a remedy, an alternative, a next step or a
    hand-over was offered somewhere."""
    outcome = conversation.outcome
    if outcome:
        return bool(outcome.get("resolved")) or (
            bool(outcome.get("escalated")) and escalation_applies
        )
    return bool(_shown(appraisals) & HELP)
