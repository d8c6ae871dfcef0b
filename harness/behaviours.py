"""The behaviour taxonomy shared by the appraisal, the customer simulator and the judge.

Names here are the vocabulary of persona `reactions`, rubric `evidence_behaviours` and
`penalty_behaviours`; the JSON Schemas enumerate the same names (a test keeps them equal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Polarity = Literal["positive", "negative"]


@dataclass(frozen=True)
class Behaviour:
    name: str
    polarity: Polarity
    description: str


_TAXONOMY: tuple[Behaviour, ...] = (
    Behaviour("acknowledge_feelings", "positive", "names or validates the customer's emotion"),
    Behaviour("apologise", "positive", "a sincere, specific apology"),
    Behaviour("take_ownership", "positive", "commits personally to handling the problem"),
    Behaviour("paraphrase", "positive", "restates the customer's problem in its own words"),
    Behaviour("ask_clarifying_question", "positive", "asks for a detail needed to help"),
    Behaviour("offer_solution", "positive", "proposes a concrete remedy"),
    Behaviour("offer_choices", "positive", "lets the customer choose between options"),
    Behaviour("set_expectation", "positive", "says what happens next and when"),
    Behaviour(
        "explain_policy_with_alternative",
        "positive",
        "explains a limit of policy and offers what can be done instead",
    ),
    Behaviour(
        "set_boundary_respectfully",
        "positive",
        "asks calmly for respectful language, keeps helping",
    ),
    Behaviour("escalate_to_supervisor", "positive", "hands over to a supervisor or specialist"),
    Behaviour(
        "confirm_resolution", "positive", "checks the customer is satisfied with the outcome"
    ),
    Behaviour("thank_customer", "positive", "thanks the customer for patience or information"),
    Behaviour("dismiss", "negative", "minimises the feeling, e.g. 'calm down'"),
    Behaviour("blame_customer", "negative", "puts the fault on the customer"),
    Behaviour("argue", "negative", "contradicts or argues with the customer"),
    Behaviour("jargon", "negative", "internal or technical terms the customer cannot follow"),
    Behaviour("refuse_without_alternative", "negative", "says no with nothing offered instead"),
    Behaviour("over_apologise", "negative", "repeated, empty apologies in place of help"),
    Behaviour("unnecessary_transfer_or_hold", "negative", "passes the customer on to escape"),
    Behaviour("ignore_question", "negative", "does not answer what the customer asked"),
    Behaviour("rude_or_sarcastic", "negative", "insults, mocks or is sarcastic"),
)

BEHAVIOURS: dict[str, Behaviour] = {b.name: b for b in _TAXONOMY}
POSITIVE: frozenset[str] = frozenset(b.name for b in _TAXONOMY if b.polarity == "positive")
NEGATIVE: frozenset[str] = frozenset(b.name for b in _TAXONOMY if b.polarity == "negative")
NAMES: tuple[str, ...] = tuple(b.name for b in _TAXONOMY)

# this many apologies in one turn are over-apologising, for every appraisal
REPEATED_APOLOGIES = 3
APOLOGY = re.compile(r"\b(sorry|apolog(y|ies|i[sz]e[sd]?))\b", re.IGNORECASE)

# behaviours that respond to what the customer asked
ANSWERING: frozenset[str] = frozenset({
    "offer_solution", "offer_choices", "set_expectation", "explain_policy_with_alternative",
    "ask_clarifying_question", "paraphrase", "escalate_to_supervisor", "refuse_without_alternative",
})  # fmt: skip


def with_apology_rule(found: set[str], agent_text: str) -> set[str]:
    """`over_apologise` by its definition, the same for every appraisal: REPEATED_APOLOGIES or
    more apologies in the turn; it takes the place of `apologise`."""
    if len(APOLOGY.findall(agent_text)) >= REPEATED_APOLOGIES:
        return (found - {"apologise"}) | {"over_apologise"}
    return found


def with_turn_rules(found: set[str], agent_text: str, customer_text: str) -> set[str]:
    """The rule-based appraisal's turn-level behaviours: over-apologising (`with_apology_rule`)
    and ignoring a question by the "?" rule (`with_unanswered`). The learned classifier reads
    the question from context instead, since real customers ask rhetorically and real agents
    answer in other words."""
    return with_unanswered(with_apology_rule(found, agent_text), customer_text)


def with_unanswered(found: set[str], customer_text: str) -> set[str]:
    """Add `ignore_question` when the customer asked and none of the agent's behaviours answers:
    the one behaviour defined by the turn before it, the same for every appraisal."""
    if "?" in customer_text and not found & ANSWERING:
        return found | {"ignore_question"}
    return found
