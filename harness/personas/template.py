"""`deesc persona new ARCHETYPE`: a commented starting persona for an archetype that validates
as written, with that archetype's default reactions listed so a researcher sees what to tune."""

from __future__ import annotations

import re

from harness.personas.archetypes import default_reactions
from harness.schemas import load_schema

# a plausible start per archetype: (initial anger, patience, domain, style, opening line)
_STARTS: dict[str, tuple[float, int, str, str, str]] = {
    "upset": (7.0, 4, "billing", "Hurt and frustrated, writes full sentences, mentions loyalty.",
              "I've been a customer for years and this is how you treat me? My bill is wrong again."),
    "confused": (4.0, 6, "technical", "Polite but lost; does not know technical words; asks the same thing twice.",
                 "Sorry, I don't understand what I'm supposed to do. The setup keeps failing."),
    "refund_demand": (8.0, 4, "refunds", "Angry and direct, wants money back, threatens bad reviews.",
                      "This broke after a week. I want a full refund today."),
    "aggressive": (9.0, 3, "technical", "Hostile, insulting, uses capital letters; calms only when taken seriously.",
                   "Your service is a JOKE. Fix it now or I'm done with you."),
    "inflexible": (7.0, 5, "refunds", "Insists on one outcome the policy does not allow; repeats the demand.",
               "I want this exception made. I don't care what your policy says."),
    "ranting": (8.0, 5, "delivery", "Long messages, many grievances at once, hard to pin down.",
                "Where do I even start. The delivery was late, the driver was rude, and now this."),
    "demands_manager": (7.5, 4, "accounts", "Refuses to deal with front-line staff; wants a manager.",
                        "I want to speak to your manager. Now."),
    "repeat_contact": (7.0, 3, "billing", "Tired of explaining again; lists every previous contact.",
                       "This is the third time I'm contacting you about the same problem."),
    "anxious": (6.0, 5, "accounts", "Worried, apologetic, imagines the worst; needs reassurance.",
                "I'm really worried, I can't get into my account and I think something's wrong."),
    "impatient": (7.0, 3, "delivery", "Short messages, in a hurry, wants the answer first.",
                  "Just tell me when it arrives. I don't have time for this."),
}  # fmt: skip


def archetypes() -> list[str]:
    return list(load_schema("persona")["$defs"]["archetype"]["enum"])


def persona_template(archetype: str, persona_id: str) -> str:
    if archetype not in _STARTS:
        raise ValueError(f"unknown archetype {archetype!r} (one of: {', '.join(archetypes())})")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", persona_id):
        raise ValueError(f"persona id {persona_id!r}: lowercase letters, digits, - and _ only")
    anger, patience, domain, style, opening = _STARTS[archetype]
    reactions = "\n".join(
        f"#   {name}: {value:+.1f}" for name, value in sorted(default_reactions(archetype).items())
    )
    article = "An" if archetype[0] in "aeiou" else "A"
    return _align_comments(f"""\
# {article} {archetype} customer: a starting point from `deesc persona new`. It validates as it is;
# replace the example scenario with yours, then run `deesc persona check {persona_id}.yaml`.
# Field reference: README.md (File formats) and harness/schemas/persona.schema.json.
id: {persona_id}
name: Sam Example                     # the customer's name, used in the customer's prompt
archetype: {archetype}
scenario:                             # what happened, as the customer sees it
  company: Example Telecom            # the agent sees only the company and the product
  product: home broadband plan
  domain: {domain}                   # any lower-case word: billing, travel, payments, health, ...
  situation: Sam was charged $35 for a router they returned last month.
  known_facts:                        # things the customer says freely
    - The router went back with tracking number RT-55120.
hidden_facts:                         # said only when the agent asks (rewards active listening)
  - id: account_number
    fact: Sam's account number is AC-20417.   # third person, neutral: the matcher reads it
    say: My account number is AC-20417.       # the customer's own words when asked
    question: Could you give me your account number?   # optional: how an agent asks (reference agents)
    asked_by: [account number]        # optional hints; any wording that asks is recognised
goal: I want the $35 router charge refunded.
acceptable_resolutions:               # what resolves it, whatever words the agent uses
  - id: refund_charge
    description: refund the $35 router charge   # follows "I can"; the customer is "you"
    accept:                           # optional: the customer agreeing, in their own words
      - "Fine. If the $35 is back on my card, that's all I wanted."
  - id: credit_next_bill
    description: credit $35 to your next bill
    cues: [credit the $35]            # optional hints: phrases that certainly make the offer
unacceptable_demands: []              # for inflexible customers: what the policy must refuse
temperament:
  initial_anger: {anger}                   # 0-10 at the start
  patience: {patience}                        # agent turns without progress before hanging up
  drift: 0.3                          # anger added every turn by itself (impatience)
  accept_below: 4.0                   # accepts an offered resolution once anger is at or below this
reactions: {{}}                         # behaviour -> anger change, overriding the archetype's defaults:
{reactions}
style: {style}
opening_lines:                        # one is chosen per episode by the seed
  - {opening}
voice:                                # optional: lines in this customer's own voice, by mood
  furious: ["I've told you twice already. Take the $35 off or I'm leaving."]
  annoyed: ["So what are you actually going to do about the $35?"]
  calming: ["Okay. That sounds like a plan, if it really happens."]
  confused: ["I don't follow. Is that a refund or something else?"]
  hanging_up: ["Forget it. I'm cancelling and going elsewhere."]
max_turns: 8
""")


def _align_comments(text: str, column: int = 38) -> str:
    """Line up the trailing comments of the YAML lines (not whole-line comments)."""
    out = []
    for line in text.splitlines():
        code, sep, comment = line.partition("  # ")
        if sep and code.strip() and not code.lstrip().startswith("#"):
            line = f"{code.rstrip():<{column - 1}} # {comment.strip()}"
        out.append(line)
    return "\n".join(out) + "\n"
