"""Reference agents that never read the persona file: what a real bot or trainee faces.

- `ref:careful`: a competent agent that knows only what the customer writes (and the company
  and product). It acknowledges the customer's words and says the problem back, asks for the
  details such a problem needs, offers the usual remedies for it in its own words (two, as a
  choice), explains a policy limit with alternatives when the customer asks for more than a
  return window allows, and checks the outcome. Its remedies are ordinary support knowledge,
  written without the personas' wording: whether the customer recognises them is the test of
  the matcher, not of the agent.
- `ref:courteous`: polite, warm and empty: it apologises, empathises and thanks, and never
  asks for anything or offers anything.

Both are deterministic (phrasings vary only with the episode seed). A persona that
`ref:careful` cannot resolve is reported by `deesc persona check`: either its resolutions are
not the usual remedies for its problem, or the matcher misses their wording.
"""

from __future__ import annotations

import random
import re

from harness.agents.base import AgentView

# the usual remedies for a problem, recognised from the customer's words: two phrasings the
# agent offers as a choice, and what it asks for first
_PROBLEMS: tuple[tuple[str, re.Pattern[str], tuple[str, str], str], ...] = (
    ("a duplicate charge", re.compile(r"\b(twice|double|duplicate|two payments|charged me (again|two))", re.I),
     ("reverse the extra payment today and pay back any bank charges it caused you",
      "put the whole amount of the extra payment and the bank's fee back on your account as a credit today"),
     "Could you give me your account number, and tell me when the payments came out?"),
    ("a fee you weren't told about", re.compile(r"\b(fee|charge)\b.*\b(never|not|wasn't|didn't)\b.*\b(mention|told|tell|said|agree)", re.I),
     ("refund that fee to you in full today",
      "let you leave straight away with no exit fee at all"),
     "Could you give me your membership or account number, and the date the fee was taken?"),
    ("the wrong plan", re.compile(r"\b(wrong plan|(moved|switched|put) me (on|onto|to)|more expensive plan|overcharg)", re.I),
     ("switch you back today to the plan you agreed to and pay back what you were overcharged",
      "sort the plan out myself and call you back personally this week to confirm your money is back"),
     "Could you give me the reference from your last call, and which plan you agreed to?"),
    ("an outage", re.compile(r"\b(internet|broadband|connection|line|wi-?fi|service)\b.*\b(down|not working|out|dead|off)\b|\boutage\b", re.I),
     ("get a priority engineer out to you this afternoon and take the days without service off your bill",
      "courier a mobile backup router to you this morning so you're back online while we fix the line"),
     "Could you tell me your postcode, and what the lights on the router are showing?"),
    ("a missed delivery", re.compile(r"\b(deliver|delivery|driver|van|courier|table|sofa|parcel)\b.*\b(never|didn't|did not|not|no one|nobody)\b", re.I),
     ("book a guaranteed morning slot with our own van on a day that suits you and refund the delivery charge",
      "send it with a dedicated courier on the day you choose and give you a $100 voucher for the time you lost"),
     "Could you give me the delivery reference, and which day suits you for it to come?"),
    ("no access to your account", re.compile(r"\b(locked|lock me|can't (log|get|sign) ?in|cannot (log|get|sign) ?in|passcode|password|let me in|get into)", re.I),
     ("check your money is all there, and verify you by phone now so I can unlock your account and set up new log-in details with you",
      "check your money is safe and book you an appointment at a branch tomorrow to set it all up with you"),
     "Could you tell me what the screen says when you try, and which phone you're using?"),
    ("a faulty product", re.compile(r"\b(broke|broken|stopped working|faulty|smok|fire|burn|defect|doesn't work|died)", re.I),
     ("give you your money back in full and email you a prepaid label to send it back",
      "send you a new one by express delivery, free of charge"),
     "Could you give me your order number, and tell me when you bought it?"),
    ("something that doesn't do what you expected", re.compile(r"\b(thermostat|schedule|app|set ?up|settings|plan|subscription|understand|confus|supposed to)", re.I),
     ("walk you through turning the automatic schedule on, step by step, which costs nothing",
      "arrange a free return and a full refund if it still isn't right for you"),
     "Could you tell me the model number, and what the app shows at the moment?"),
)  # fmt: skip
_BEYOND_POLICY = re.compile(r"\b(money back|cash|refund)\b", re.I)
_LATE = re.compile(
    r"\b(\d{2,3} days|months?|window|policy|warranty|after (the )?30|too late)\b", re.I
)
_POLICY_ANSWER = (
    "I can't give a cash refund this long after the return window, and I won't pretend "
    "otherwise, but here's what I can do instead: repair it free under the warranty within the "
    "week and lend you one meanwhile, or exchange it for a brand-new one as a one-off goodwill "
    "exception. Which would you prefer?"
)
_GENERIC = ("put this right for you today at no cost to you", "refund what you paid for it in full")
_ME = re.compile(r"\b(I|me|my|mine|myself|I'm|I've|I'll)\b")
_SWAP = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
         "i'm": "you're", "i've": "you've", "i'll": "you'll"}  # fmt: skip


def _pick(rng: random.Random, options: list[str]) -> str:
    return rng.choice(options)


def _customer_words(view: AgentView) -> str:
    return " ".join(t["text"] for t in view.turns if t["role"] == "customer")


def _problem(view: AgentView) -> tuple[str, tuple[str, str], str] | None:
    said = _customer_words(view)
    for name, pattern, remedies, ask in _PROBLEMS:
        if pattern.search(said):
            return name, remedies, ask
    return None


def say_back(text: str) -> str:
    """The customer's first complaint in the agent's words: I/my become you/your."""
    sentence = next((s for s in re.split(r"(?<=[.!?])\s+", text) if _ME.search(s)), text)
    sentence = sentence.strip().rstrip(".!?")
    swapped = re.sub(r"\b(I'm|I've|I'll|I|me|my|mine|myself)\b",
                     lambda m: _SWAP[m.group(1).lower()], sentence)  # fmt: skip
    swapped = re.sub(r"\byou\b", "you", swapped)
    return swapped[0].lower() + swapped[1:] if swapped[:2] != "I " else swapped


class CarefulAgent:
    """Listens, asks, offers the usual remedies in its own words, explains limits, confirms."""

    name = "ref:careful"
    needs_persona = False

    async def respond(self, view: AgentView) -> str:
        turn = view.agent_turns_so_far()
        rng = random.Random(view.seed * 1000 + turn)
        found = _problem(view)
        name, remedies, ask = found or (
            "this",
            _GENERIC,
            "Could you tell me your account or order number, and when this started?",
        )
        last = view.last_customer_text
        if turn == 0:
            return " ".join([
                _pick(rng, ["That sounds really frustrating, and I'm sorry.",
                            "I'm sorry - I can hear how stressful this has been."]),
                f"So, if I've understood you: {say_back(_customer_words(view))}.",
                _pick(rng, ["I'll take care of this myself.", "Leave it with me; I'll sort it out."]),
            ])  # fmt: skip
        if turn == 1:
            return " ".join([
                _pick(rng, ["Thank you for explaining.", "Thanks for bearing with me."]), ask,
            ])  # fmt: skip
        if _BEYOND_POLICY.search(last) and _LATE.search(_customer_words(view)):
            return _POLICY_ANSWER
        if turn == 2:
            return (
                f"Here's what I can do about {name}: I can {remedies[0]}, or I can {remedies[1]}. "
                "Which would you prefer? You'll get an email confirming it within the hour."
            )
        if turn == 3:
            return (
                f"To be clear, I can {remedies[0]} right now, and I'll stay with it until it's "
                "done. Does that work for you?"
            )
        return (
            f"If that doesn't suit you, I can {remedies[1]} instead. Is there anything else I can do "
            "for you today?"
        )


class CourteousAgent:
    """Warm, apologetic and grateful; never asks for anything and never offers anything."""

    name = "ref:courteous"
    needs_persona = False

    _LINES = (
        ["I'm so sorry to hear that, and I completely understand how frustrating it must be.",
         "Oh no, I'm really sorry. That sounds so stressful, and I understand why you're upset."],
        ["Thank you so much for your patience, and I'm sorry again for all the trouble.",
         "I really appreciate you taking the time to tell me this. I'm sorry it's been such a hassle."],
        ["I completely understand, and your feelings are valid. Thank you for bearing with us.",
         "I hear you, and I'm sorry. I truly value you as a customer."],
        ["I understand how disappointing this is. Thank you for being so patient with us today.",
         "I'm sorry you've had this experience, and I appreciate your understanding."],
    )  # fmt: skip

    async def respond(self, view: AgentView) -> str:
        turn = view.agent_turns_so_far()
        rng = random.Random(view.seed * 1000 + turn)
        return _pick(rng, self._LINES[turn % len(self._LINES)])
