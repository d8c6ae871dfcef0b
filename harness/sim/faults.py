"""Simulator faults: ways a sampled customer line fails the simulation, not the agent. They are
recorded on the customer turn and counted apart in outcomes, summaries and comparisons, which
can leave faulty episodes out; none of them changes the agent's scores (the state machine, not
the line, decides how a conversation ends).

- out_of_role: the model spoke as the agent or a narrator; the line was replaced (customer.py)
- early_goodbye: the line says goodbye while the conversation goes on, before the agent could
  act on what was agreed
- continued_after_accepting: the line accepts a resolution, but the customer's state does not,
  so the conversation continues past an acceptance
- contradicts_facts: the line states a number or reference the persona does not have (an order
  number, an amount) and the agent never said
- repeats_itself: the line repeats an earlier customer line word for word (a loop)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from harness.personas.persona import Persona, persona_facts
from harness.sentences import fact_tokens, words

FAULT_KINDS = ("out_of_role", "early_goodbye", "continued_after_accepting", "contradicts_facts",
               "repeats_itself")  # fmt: skip

_GOODBYE = re.compile(
    r"\b(good ?bye|bye|i'?m hanging up|hang up on you|that'?s all i needed|have a (good|nice) day)\b",
    re.IGNORECASE,
)
# "deal" alone is not acceptance: "not a big deal", "deal with me" (both seen in runs)
_ACCEPT = re.compile(
    r"\b(yes,? please( do)?|that works( for me)?|sounds good|it'?s a deal|perfect,? thanks?|"
    r"ok(ay)?,? (do|go ahead with) (it|that)|i('ll| will) take (it|that)|i accept)",
    re.IGNORECASE,
)


def _normal(text: str) -> str:
    return " ".join(words(text))


def line_faults(
    text: str, persona: Persona, earlier_customer: Iterable[str], agent_lines: Iterable[str]
) -> list[str]:
    """The faults of one sampled customer line that the conversation goes on after."""
    faults = []
    if _GOODBYE.search(text):
        faults.append("early_goodbye")
    if _ACCEPT.search(text):
        faults.append("continued_after_accepting")
    known = persona_facts(persona).union(*(fact_tokens(a) for a in agent_lines))
    if fact_tokens(text) - known:
        faults.append("contradicts_facts")
    if _normal(text) and _normal(text) in {_normal(t) for t in earlier_customer}:
        faults.append("repeats_itself")
    return faults
